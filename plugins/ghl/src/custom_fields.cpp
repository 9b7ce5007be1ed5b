#include "custom_fields.hpp"

#include <cctype>
#include <optional>

#include "strings.hpp"

namespace cartwire::ghl {
namespace {

std::string field_text(const Json &j, const char *key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  return it->is_string() ? it->get<std::string>() : it->dump();
}

bool multi_valued(const std::string &type) { return type == "CHECKBOX" || type == "MULTIPLE_OPTIONS"; }

bool numeric(const std::string &type) { return type == "NUMERICAL" || type == "MONETORY"; }

/** "42" -> 42, "-49.95" -> -49.95; nullopt for anything else ("1,299", "12a", ""). */
std::optional<Json> decimal_number(const std::string &text) {
  std::size_t i = text.size() > 1 && text[0] == '-' ? 1 : 0, digits = 0, dots = 0;
  for (std::size_t k = i; k < text.size(); ++k) {
    if (std::isdigit(static_cast<unsigned char>(text[k]))) {
      ++digits;
    } else if (text[k] == '.' && dots == 0 && k > i && k + 1 < text.size()) {
      ++dots;
    } else {
      return std::nullopt;
    }
  }
  if (digits == 0 || digits > 15) return std::nullopt;  // beyond 15 digits a double is no longer exact
  if (dots == 0) return Json(std::stoll(text));
  return Json(std::stod(text));
}

}  // namespace

Result fetch_custom_fields(const Host &host, const Client &client, std::vector<CustomField> &out) {
  Result r = client.call(host, "GET", "/locations/" + sdk::url_encode(client.location_id()) + "/customFields?model=contact");
  if (!r.is_ok()) return r;
  auto it = r.data.find("customFields");
  if (it == r.data.end() || !it->is_array())
    return Result::permanent("GoHighLevel GET /locations/{id}/customFields: the answer has no customFields list");
  out.clear();
  for (auto &f : *it) {
    if (!f.is_object() || field_text(f, "id").empty()) continue;
    std::string model = field_text(f, "model");
    if (!model.empty() && model != "contact") continue;
    out.push_back({field_text(f, "id"), field_text(f, "name"), field_text(f, "fieldKey"), field_text(f, "dataType")});
  }
  return Result::ok();
}

const CustomField *find_field(const std::vector<CustomField> &fields, const std::string &ref) {
  for (auto &f : fields)
    if (f.id == ref) return &f;
  for (auto &f : fields)
    if (!f.key.empty() && (f.key == ref || f.key == "contact." + ref)) return &f;
  for (auto &f : fields)
    if (f.name == ref) return &f;
  return nullptr;
}

Json field_value(const CustomField &field, const Json &value, std::string &error) {
  error.clear();
  if (field.type == "FILE_UPLOAD" || field.type == "TEXTBOX_LIST") {
    error = "custom field '" + field.key + "' is a " + field.type + " field, which a mapping cannot fill";
    return nullptr;
  }
  if (multi_valued(field.type)) {
    Json list = Json::array();
    auto add = [&](const std::string &part) {
      std::string t = trim(part);
      if (!t.empty()) list.push_back(t);
    };
    if (value.is_array()) {
      for (auto &v : value) add(v.is_string() ? v.get<std::string>() : v.dump());
    } else {
      std::string all = value.is_string() ? value.get<std::string>() : value.dump();
      std::size_t start = 0;
      for (std::size_t comma; (comma = all.find(',', start)) != std::string::npos; start = comma + 1)
        add(all.substr(start, comma - start));
      add(all.substr(start));
    }
    return list;
  }
  if (value.is_array() || value.is_object()) {
    error = "custom field '" + field.key + "' takes one value, not " + value.dump();
    return nullptr;
  }
  // A number field takes a JSON number (the API's NumericField and
  // MonetoryField); every other field a string.
  if (numeric(field.type)) {
    if (value.is_number()) return value;
    std::string written = trim(value.is_string() ? value.get<std::string>() : value.dump());
    if (auto number = decimal_number(written)) return *number;
    error = "custom field '" + field.key + "' is a " + field.type + " field, and '" + written +
            "' is not a number such as 42 or 49.95";
    return nullptr;
  }
  if (value.is_string()) return value;
  return value.dump();
}

Result CustomFieldCache::get(const Host &host, const Client &client, std::vector<CustomField> &out, bool refresh) {
  std::lock_guard lock(mutex_);
  auto now = host.now();
  if (!have_ || refresh || now - fetched_ >= kTtl || now < fetched_) {
    std::vector<CustomField> fresh;
    Result r = fetch_custom_fields(host, client, fresh);
    if (!r.is_ok()) return r;
    fields_ = std::move(fresh);
    fetched_ = now;
    have_ = true;
  }
  out = fields_;
  return Result::ok();
}

}  // namespace cartwire::ghl
