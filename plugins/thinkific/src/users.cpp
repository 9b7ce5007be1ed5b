#include "users.hpp"

#include <cctype>
#include <cmath>

namespace cartwire::thinkific {
namespace {

constexpr int64_t kDefinitionsTtlMs = 5 * 60 * 1000;

std::string text_at(const Json &obj, const char *key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string param_or(const sdk::ActionRequest &request, const char *param, const char *customer_key) {
  std::string value = text_at(request.params, param);
  if (!value.empty()) return value;
  auto customer = request.event.find("customer");
  return customer == request.event.end() ? std::string() : text_at(*customer, customer_key);
}

std::string key_of(const std::string &label) {
  std::string key;
  for (unsigned char c : label) {
    if (std::isalnum(c))
      key += static_cast<char>(std::tolower(c));
    else if (!key.empty() && key.back() != '_')
      key += '_';
  }
  while (!key.empty() && key.back() == '_') key.pop_back();
  return key;
}

std::string value_text(const Json &value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

// The definition a mapping names: by id, then key, then label (exact, then any case).
const Json *find_definition(const Json &items, const std::string &wanted) {
  for (int pass = 0; pass < 4; ++pass) {
    for (auto &d : items) {
      std::string label = text_at(d, "label");
      bool hit = pass == 0   ? id_of(d.value("id", Json())) && std::to_string(*id_of(d["id"])) == wanted
                 : pass == 1 ? key_of(label) == wanted
                 : pass == 2 ? label == wanted
                             : sdk::lower(label) == sdk::lower(wanted);
      if (hit) return &d;
    }
  }
  return nullptr;
}

}  // namespace

std::optional<int64_t> id_of(const Json &value) {
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_float()) {
    // A whole number an int64 holds exactly; 1e300 holds none, and casting it is undefined.
    double d = value.get<double>();
    if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.0e15) return static_cast<int64_t>(d);
    return std::nullopt;
  }
  if (value.is_string()) {
    const std::string &s = value.get_ref<const std::string &>();
    if (s.empty() || s.size() > 18) return std::nullopt;
    for (char c : s)
      if (c < '0' || c > '9') return std::nullopt;
    return std::stoll(s);
  }
  return std::nullopt;
}

std::optional<Result> person_of(const sdk::ActionRequest &request, Person &out) {
  out.email = param_or(request, "email", "email");
  out.first_name = param_or(request, "first_name", "first_name");
  out.last_name = param_or(request, "last_name", "last_name");
  if (out.first_name.empty() || out.last_name.empty()) {
    // Some checkouts collect one name field only.
    std::string name = param_or(request, "name", "name");
    auto space = name.find_last_of(' ');
    if (space != std::string::npos && space > 0 && space + 1 < name.size()) {
      if (out.first_name.empty()) out.first_name = name.substr(0, space);
      if (out.last_name.empty()) out.last_name = name.substr(space + 1);
    }
  }
  if (out.email.empty())
    return Result::permanent("thinkific: no email: the event has no customer.email and the rule passes no 'email'");
  if (out.email.find('@') == std::string::npos)
    return Result::permanent("thinkific: '" + out.email + "' is not an email address");
  return std::nullopt;
}

Result Definitions::get(const Api &api, bool fresh) {
  int64_t now = api.now_ms();
  {
    std::lock_guard lock(mutex_);
    if (!fresh && fetched_ms_ != 0 && now - fetched_ms_ < kDefinitionsTtlMs) return Result::ok({{"items", items_}});
  }
  Result r = api.collect("/custom_profile_field_definitions");
  if (!r.is_ok()) return r;
  std::lock_guard lock(mutex_);
  items_ = r.data["items"];
  fetched_ms_ = now;
  return r;
}

Json definition_item(const Json &definition) {
  std::string label = text_at(definition, "label");
  auto id = id_of(definition.value("id", Json()));
  return {{"id", id ? std::to_string(*id) : value_text(definition.value("id", Json()))},
          {"name", label},
          {"key", key_of(label)},
          {"type", text_at(definition, "field_type")},
          {"required", definition.value("required", false)}};
}

Result custom_profile_fields(const Api &api, Definitions &definitions, const Json &fields) {
  Json out = Json::array();
  if (!fields.is_object() || fields.empty()) return Result::ok({{"custom_profile_fields", out}});
  Result defs = definitions.get(api, false);
  if (!defs.is_ok()) return defs;
  bool refreshed = false;
  for (auto &[remote, value] : fields.items()) {
    if (value.is_null()) continue;
    const Json *definition = find_definition(defs.data["items"], remote);
    if (!definition && !refreshed) {
      // A field added on the site since the cache was filled.
      defs = definitions.get(api, true);
      if (!defs.is_ok()) return defs;
      refreshed = true;
      definition = find_definition(defs.data["items"], remote);
    }
    if (!definition)
      return Result::permanent("thinkific: the field mapping names '" + remote +
                               "', which is not a custom profile field of the site (map by id, key or label; "
                               "see the custom_profile_fields list)");
    std::string type = text_at(*definition, "field_type");
    if (type != "text")
      return Result::permanent("thinkific: custom profile field '" + remote + "' is a " +
                               (type.empty() ? "untyped" : type) +
                               " field; only text fields can be mapped");
    auto id = id_of(definition->value("id", Json()));
    if (!id) return Result::permanent("thinkific: custom profile field '" + remote + "' has no numeric id");
    out.push_back({{"custom_profile_field_definition_id", *id}, {"value", value_text(value)}});
  }
  return Result::ok({{"custom_profile_fields", out}});
}

Result find_user(const Api &api, const std::string &email) {
  // Every page: the filter's match rules are not documented (it may match
  // parts of addresses), so only an exact address counts, wherever it is.
  Result found = api.collect("/users", {{"query[email]", email}});
  if (!found.is_ok()) return found;
  for (auto &user : found.data["items"])
    if (sdk::lower(text_at(user, "email")) == sdk::lower(email)) return Result::ok({{"user", user}});
  return Result::ok({{"user", nullptr}});
}

namespace {

Result with_user(const Json &user, bool created) {
  auto id = id_of(user.value("id", Json()));
  if (!id) return Result::retryable("Thinkific: the user record has no id");
  return Result::ok({{"user_id", *id}, {"created", created}, {"user", user}});
}

// Only the mapped fields whose value differs from the user's; an update
// for nothing would spend a request of the budget.
Json changed_fields(const Json &user, const Json &wanted) {
  Json out = Json::array();
  const Json &current = user.contains("custom_profile_fields") && user["custom_profile_fields"].is_array()
                            ? user["custom_profile_fields"]
                            : Json::array();
  for (auto &field : wanted) {
    bool same = false;
    for (auto &c : current)
      same = same || (id_of(c.value("custom_profile_field_definition_id", Json())) ==
                          id_of(field["custom_profile_field_definition_id"]) &&
                      text_at(c, "value") == field["value"].get<std::string>());
    if (!same) out.push_back(field);
  }
  return out;
}

}  // namespace

Result ensure_user(const Api &api, Definitions &definitions, const Person &person, const Json &fields) {
  Result mapped = custom_profile_fields(api, definitions, fields);
  if (!mapped.is_ok()) return mapped;
  const Json &profile = mapped.data["custom_profile_fields"];

  Result found = find_user(api, person.email);
  if (!found.is_ok()) return found;
  if (!found.data["user"].is_null()) {
    const Json &user = found.data["user"];
    Json changes = changed_fields(user, profile);
    if (!changes.empty()) {
      auto id = id_of(user.value("id", Json()));
      if (!id) return Result::retryable("Thinkific: the user record has no id");
      std::string path = "/users/" + std::to_string(*id);
      sdk::HttpResponse response = api.send("PUT", path, {{"custom_profile_fields", changes}});
      if (!response.success()) return api.fail(response, "PUT " + path);
    }
    return with_user(user, false);
  }

  if (person.first_name.empty() || person.last_name.empty())
    return Result::permanent("thinkific: creating the user " + person.email +
                             " needs a first and last name; the event has none, pass first_name / last_name in the rule");
  Json body = {{"email", person.email},
               {"first_name", person.first_name},
               {"last_name", person.last_name},
               {"send_welcome_email", api.settings().send_welcome_email}};
  if (!profile.empty()) body["custom_profile_fields"] = profile;
  sdk::HttpResponse response = api.send("POST", "/users", body);
  if (response.success()) {
    Json user = response.json();
    if (!user.is_object()) return Result::retryable("Thinkific POST /users: the answer is not a user record");
    return with_user(user, true);
  }
  if (response.status == 422) {
    // Another attempt (or someone else) created the user meanwhile: take it.
    Result again = find_user(api, person.email);
    if (again.is_ok() && !again.data["user"].is_null()) return with_user(again.data["user"], false);
  }
  return api.fail(response, "POST /users");
}

}  // namespace cartwire::thinkific
