// Shared helpers for the Thinkific connector tests: a harness with scripted
// answers keyed by "METHOD path?query", and canonical events.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <string>

#include <cartwire/sdk/testing/plugin_harness.hpp>

namespace thinkific_test {

using cartwire::sdk::HttpRequest;
using cartwire::sdk::HttpResponse;
using cartwire::sdk::Json;
using cartwire::sdk::Outcome;
using cartwire::sdk::Result;
using cartwire::sdk::testing::PluginHarness;

inline constexpr const char *kBase = "https://api.thinkific.com/api/public/v1";
/** The harness clock: 2026-01-15T10:00:00Z. */
inline constexpr const char *kNow = "2026-01-15T10:00:00Z";

inline Json key_settings() { return {{"subdomain", "acme"}, {"api_key", "tk-secret-key-123"}}; }

inline HttpResponse reply(int status, const Json &body = nullptr, std::map<std::string, std::string> headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = body.is_null() ? "" : body.dump();
  for (auto &[k, v] : headers) r.headers[cartwire::sdk::lower(k)] = v;
  if (!body.is_null()) r.headers["content-type"] = "application/json";
  return r;
}

/** A collection page as Thinkific answers it. */
inline Json page(const Json &items, int current = 1, int total_pages = 1, int total_items = -1);
/** Braces always mean a list of items here (a lone `{x}` would otherwise be x itself). */
inline Json page(std::initializer_list<Json> items, int current = 1, int total_pages = 1, int total_items = -1) {
  return page(Json::array_t(items), current, total_pages, total_items);
}
inline Json page(const Json &items, int current, int total_pages, int total_items) {
  if (total_items < 0) total_items = static_cast<int>(items.size());
  return {{"items", items},
          {"meta",
           {{"pagination",
             {{"current_page", current},
              {"next_page", current < total_pages ? Json(current + 1) : Json(nullptr)},
              {"prev_page", current > 1 ? Json(current - 1) : Json(nullptr)},
              {"total_pages", total_pages},
              {"total_items", total_items},
              {"entries_info", "1-" + std::to_string(items.size()) + " of " + std::to_string(total_items)}}}}}};
}

inline Json user(int id = 501, const std::string &email = "ann@example.com", const Json &fields = Json::array()) {
  return {{"id", id}, {"email", email}, {"first_name", "Ann"}, {"last_name", "Lee"}, {"full_name", "Ann Lee"},
          {"custom_profile_fields", fields}};
}

inline Json enrollment(int id, int user_id, int course_id, bool expired = false, bool trial = false) {
  return {{"id", id}, {"user_id", user_id}, {"course_id", course_id}, {"user_email", "ann@example.com"},
          {"expired", expired}, {"is_free_trial", trial},
          {"activated_at", trial ? Json(nullptr) : Json("2026-01-01T00:00:00Z")},
          {"expiry_date", expired ? Json("2026-01-10T00:00:00Z") : Json(nullptr)}};
}

inline Json event(const Json &custom_fields = nullptr) {
  Json customer = {{"email", "ann@example.com"}, {"first_name", "Ann"}, {"last_name", "Lee"}, {"name", "Ann Lee"}};
  if (!custom_fields.is_null()) customer["custom_fields"] = custom_fields;
  return {{"type", "product.purchased"}, {"customer", customer},
          {"item", {{"type", "product"}, {"id", "12"}, {"reference", "product-12"}}}};
}

inline Json job() { return {{"id", 7}, {"attempt", 1}, {"idempotency_key", "job_7"}}; }

/**
 * Scripted remote: answers by "METHOD url-without-base", each route a queue
 * (the last answer repeats). An unscripted request fails the test.
 */
class Remote {
 public:
  explicit Remote(PluginHarness &harness, std::string base = kBase) : base_(std::move(base)) {
    harness.on_http([this](const HttpRequest &r) { return answer(r); });
  }
  Remote &on(const std::string &route, HttpResponse response) {
    routes_[route].push_back(std::move(response));
    return *this;
  }

 private:
  HttpResponse answer(const HttpRequest &r) {
    std::string route = r.method + " " + (r.url.rfind(base_, 0) == 0 ? r.url.substr(base_.size()) : r.url);
    auto it = routes_.find(route);
    if (it == routes_.end() || it->second.empty()) {
      ADD_FAILURE() << "unscripted request: " << route;
      return reply(599, {{"error", "unscripted"}});
    }
    HttpResponse out = it->second.front();
    if (it->second.size() > 1) it->second.pop_front();
    return out;
  }
  std::string base_;
  std::map<std::string, std::deque<HttpResponse>> routes_;
};

/** The user search, every page of it (page 1 here). */
inline const char *kUsersByEmail = "GET /users?query%5Bemail%5D=ann%40example.com&page=1&limit=250";

}  // namespace thinkific_test
