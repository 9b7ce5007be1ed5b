#include "enrollments.hpp"

#include <algorithm>

#include <cartwire/sdk/datetime.hpp>

namespace cartwire::thinkific {
namespace {

// The end date of an enrollment that, by the rule, has none (see reactivation).
constexpr const char *kNoEnd = "2099-12-31T23:59:59Z";

// An enrollment without activated_at is a free trial (preview content only),
// so full access always means activated_at = now.
bool active(const Json &enrollment) {
  return !enrollment.value("expired", false) && !enrollment.value("is_free_trial", false) &&
         enrollment.contains("activated_at") && enrollment["activated_at"].is_string();
}

std::optional<Result> required_id(const sdk::ActionRequest &request, const char *name, const char *what,
                                  int64_t &out) {
  auto it = request.params.find(name);
  if (it == request.params.end() || it->is_null())
    return Result::permanent(std::string("thinkific: the rule passes no '") + name + "' (the " + what + " id)");
  auto id = id_of(*it);
  if (!id || *id <= 0)
    return Result::permanent(std::string("thinkific: '") + name + "' must be a Thinkific " + what +
                             " id (a positive integer), not " + it->dump());
  out = *id;
  return std::nullopt;
}

// The optional end of access; Thinkific takes ISO 8601 date-times.
std::optional<Result> expiry_param(const sdk::ActionRequest &request, Json &out) {
  out = nullptr;
  auto it = request.params.find("expiry_date");
  if (it == request.params.end() || it->is_null() || (it->is_string() && it->get<std::string>().empty()))
    return std::nullopt;
  // Thinkific's own form (2026-12-31T23:59:59Z) and those the action took before: without seconds, +0530.
  sdk::DateTimeRead read;
  if (it->is_string())
    read = sdk::read_date_time(it->get_ref<const std::string &>(),
                               {.minutes_alone = true, .offset_without_colon = true});
  if (!read) {
    // A template may fill it from an event's field of any length: a long one is not quoted whole.
    constexpr std::size_t kQuoted = 64;
    std::size_t length = it->is_string() ? it->get_ref<const std::string &>().size() : 0;
    std::string given = length > kQuoted ? "a text of " + std::to_string(length) + " characters" : it->dump();
    if (!read.out_of_range.empty()) given += " (" + read.out_of_range + ")";
    return Result::permanent(
        "thinkific: 'expiry_date' must be an ISO 8601 date-time such as 2026-12-31T23:59:59Z, not " + given);
  }
  out = *it;
  return std::nullopt;
}

// The user's enrollments among `items`, optionally in one course only.
Json mine(const Json &items, int64_t user_id, std::optional<int64_t> course_id) {
  Json out = Json::array();
  for (auto &e : items) {
    if (id_of(e.value("user_id", Json())) != user_id) continue;
    if (course_id && id_of(e.value("course_id", Json())) != *course_id) continue;
    out.push_back(e);
  }
  return out;
}

Result course_enrollments(const Api &api, int64_t user_id, int64_t course_id) {
  Result r = api.collect("/enrollments", {{"query[user_id]", std::to_string(user_id)},
                                          {"query[course_id]", std::to_string(course_id)}});
  if (r.is_ok()) r.data["items"] = mine(r.data["items"], user_id, course_id);
  return r;
}

Result bundle_enrollments(const Api &api, int64_t bundle_id, int64_t user_id) {
  Result r = api.collect("/bundles/" + std::to_string(bundle_id) + "/enrollments",
                         {{"query[user_id]", std::to_string(user_id)}});
  if (r.is_ok()) r.data["items"] = mine(r.data["items"], user_id, std::nullopt);
  return r;
}

/** What the user's enrollments give of a bundle's courses. */
enum class Access { full, inactive, missing };

// The bundle's enrollment list may also hold an enrollment in one of its
// courses bought on its own (what it lists is loosely documented), so the list
// alone does not say the user has every course; the bundle's course_ids do.
Result bundle_access(const Api &api, int64_t bundle_id, int64_t user_id, const Json &items, Access &access) {
  std::string path = "/bundles/" + std::to_string(bundle_id);
  sdk::HttpResponse response = api.get(path);
  if (!response.success()) return api.fail(response, "GET " + path);
  Json bundle = response.json();
  if (!bundle.is_object() || !bundle.contains("course_ids") || !bundle["course_ids"].is_array())
    return Result::retryable("Thinkific GET " + path + ": the answer has no \"course_ids\" list");
  access = Access::full;
  for (auto &course : bundle["course_ids"]) {
    auto course_id = id_of(course);
    if (!course_id) continue;
    Json enrolled = mine(items, user_id, course_id);
    if (enrolled.empty()) {
      access = Access::missing;
      break;
    }
    if (std::none_of(enrolled.begin(), enrolled.end(), active)) access = Access::inactive;
  }
  return Result::ok();
}

struct Target {
  Person person;
  Json expiry;
  int64_t user_id = 0;
  bool user_created = false;
};

// The common start of an enrolment: the person, the expiry and the user.
std::optional<Result> prepare(const Api &api, Definitions &definitions, const sdk::ActionRequest &request,
                              Target &t) {
  if (auto bad = person_of(request, t.person)) return bad;
  if (auto bad = expiry_param(request, t.expiry)) return bad;
  Result user = ensure_user(api, definitions, t.person, request.fields);
  if (!user.is_ok()) return user;
  t.user_id = user.data["user_id"].get<int64_t>();
  t.user_created = user.data["created"].get<bool>();
  return std::nullopt;
}

// The body that gives full access from now on to an existing enrollment.
Json reactivation(const Json &existing, const Json &expiry, int64_t now_ms) {
  Json body = {{"activated_at", iso8601(now_ms)}};
  bool expired = false;
  for (auto &e : existing) expired = expired || e.value("expired", false);
  // An expired enrollment stays expired unless its expiry moves. Without an
  // expiry from the rule, access has no end again: the API takes expiry_date
  // only as a date-time (no null, no way to remove it), so the end moves to
  // kNoEnd.
  if (!expiry.is_null()) body["expiry_date"] = expiry;
  else if (expired) body["expiry_date"] = kNoEnd;
  return body;
}

// The existing Thinkific user of the request's person, for an expiry: sets
// `user_id` (nullopt when no user has the email), or returns why it cannot.
std::optional<Result> existing_user(const Api &api, const sdk::ActionRequest &request, std::optional<int64_t> &user_id) {
  Person person;
  if (auto bad = person_of(request, person)) return *bad;
  Result found = find_user(api, person.email);
  if (!found.is_ok()) return found;
  if (found.data["user"].is_null()) return std::nullopt;
  user_id = id_of(found.data["user"].value("id", Json()));
  if (!user_id) return Result::retryable("Thinkific: the user record has no id");
  return std::nullopt;
}

}  // namespace

Result enroll_course(const Api &api, Definitions &definitions, const sdk::ActionRequest &request) {
  int64_t course_id = 0;
  if (auto bad = required_id(request, "course_id", "course", course_id)) return *bad;
  Target t;
  if (auto failed = prepare(api, definitions, request, t)) return *failed;
  Json out = {{"user_id", t.user_id}, {"user_created", t.user_created}, {"course_id", course_id}};

  Result existing = course_enrollments(api, t.user_id, course_id);
  if (!existing.is_ok()) return existing;
  const Json &items = existing.data["items"];
  if (!items.empty()) {
    const Json &enrollment = items[0];
    out["enrollment_id"] = enrollment.value("id", Json());
    if (active(enrollment)) {
      out["enrollment"] = "already active";
      return Result::ok(out);
    }
    auto id = id_of(enrollment.value("id", Json()));
    if (!id) return Result::retryable("Thinkific: an enrollment record has no id");
    std::string path = "/enrollments/" + std::to_string(*id);
    sdk::HttpResponse response = api.send("PUT", path, reactivation(Json::array({enrollment}), t.expiry, api.now_ms()));
    if (!response.success()) return api.fail(response, "PUT " + path);
    out["enrollment"] = "reactivated";
    return Result::ok(out);
  }

  Json body = {{"course_id", course_id}, {"user_id", t.user_id}, {"activated_at", iso8601(api.now_ms())}};
  if (!t.expiry.is_null()) body["expiry_date"] = t.expiry;
  sdk::HttpResponse response = api.send("POST", "/enrollments", body);
  if (!response.success()) return api.fail(response, "POST /enrollments");
  Json created = response.json();
  out["enrollment_id"] = created.is_object() ? created.value("id", Json()) : Json();
  out["enrollment"] = "created";
  return Result::ok(out);
}

Result expire_course(const Api &api, const sdk::ActionRequest &request) {
  int64_t course_id = 0;
  if (auto bad = required_id(request, "course_id", "course", course_id)) return *bad;
  std::optional<int64_t> found;
  if (auto failed = existing_user(api, request, found)) return *failed;
  if (!found) return Result::ok({{"expired", 0}, {"reason", "no Thinkific user with this email"}});
  int64_t user_id = *found;

  Result existing = course_enrollments(api, user_id, course_id);
  if (!existing.is_ok()) return existing;
  std::string now = iso8601(api.now_ms());
  int expired = 0;
  for (auto &enrollment : existing.data["items"]) {
    if (enrollment.value("expired", false)) continue;
    auto id = id_of(enrollment.value("id", Json()));
    if (!id) return Result::retryable("Thinkific: an enrollment record has no id");
    std::string path = "/enrollments/" + std::to_string(*id);
    sdk::HttpResponse response = api.send("PUT", path, {{"expiry_date", now}});
    if (!response.success()) return api.fail(response, "PUT " + path);
    ++expired;
  }
  Json out = {{"user_id", user_id}, {"course_id", course_id}, {"expired", expired}};
  if (existing.data["items"].empty()) out["reason"] = "not enrolled in the course";
  else if (expired == 0) out["reason"] = "already expired";
  return Result::ok(out);
}

Result enroll_bundle(const Api &api, Definitions &definitions, const sdk::ActionRequest &request) {
  int64_t bundle_id = 0;
  if (auto bad = required_id(request, "bundle_id", "bundle", bundle_id)) return *bad;
  Target t;
  if (auto failed = prepare(api, definitions, request, t)) return *failed;
  Json out = {{"user_id", t.user_id}, {"user_created", t.user_created}, {"bundle_id", bundle_id}};
  std::string path = "/bundles/" + std::to_string(bundle_id) + "/enrollments";

  Result existing = bundle_enrollments(api, bundle_id, t.user_id);
  if (!existing.is_ok()) return existing;
  const Json &items = existing.data["items"];
  Access access = Access::missing;
  if (!items.empty())
    if (Result r = bundle_access(api, bundle_id, t.user_id, items, access); !r.is_ok()) return r;
  if (access == Access::full) {
    out["enrollment"] = "already active";
    return Result::ok(out);
  }
  if (access == Access::inactive) {
    Json body = reactivation(items, t.expiry, api.now_ms());
    body["user_id"] = t.user_id;
    sdk::HttpResponse response = api.send("PUT", path, body);
    if (!response.success()) return api.fail(response, "PUT " + path);
    out["enrollment"] = "reactivated";
    return Result::ok(out);
  }

  Json body = {{"user_id", t.user_id}, {"activated_at", iso8601(api.now_ms())}};
  if (!t.expiry.is_null()) body["expiry_date"] = t.expiry;
  sdk::HttpResponse response = api.send("POST", path, body);
  if (!response.success()) return api.fail(response, "POST " + path);
  // 202: Thinkific finishes large bundles in the background; the request is taken.
  out["enrollment"] = response.status == 202 ? "accepted" : "created";
  return Result::ok(out);
}

Result expire_bundle(const Api &api, const sdk::ActionRequest &request) {
  int64_t bundle_id = 0;
  if (auto bad = required_id(request, "bundle_id", "bundle", bundle_id)) return *bad;
  std::optional<int64_t> found;
  if (auto failed = existing_user(api, request, found)) return *failed;
  if (!found) return Result::ok({{"expired", false}, {"reason", "no Thinkific user with this email"}});
  int64_t user_id = *found;

  Result existing = bundle_enrollments(api, bundle_id, user_id);
  if (!existing.is_ok()) return existing;
  Json out = {{"user_id", user_id}, {"bundle_id", bundle_id}, {"expired", false}};
  bool any_live = false;
  for (auto &e : existing.data["items"]) any_live = any_live || !e.value("expired", false);
  if (!any_live) {
    out["reason"] = existing.data["items"].empty() ? "not enrolled in the bundle" : "already expired";
    return Result::ok(out);
  }
  std::string path = "/bundles/" + std::to_string(bundle_id) + "/enrollments";
  sdk::HttpResponse response = api.send("PUT", path, {{"user_id", user_id}, {"expiry_date", iso8601(api.now_ms())}});
  if (!response.success()) return api.fail(response, "PUT " + path);
  out["expired"] = true;
  return Result::ok(out);
}

}  // namespace cartwire::thinkific
