// Shared pieces of the GoHighLevel connector tests: settings, a canonical
// event, and a scripted LeadConnector that answers by method and path.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <cartwire/sdk/testing/plugin_harness.hpp>

namespace ghl_test {

using cartwire::sdk::HttpRequest;
using cartwire::sdk::HttpResponse;
using cartwire::sdk::Json;
using cartwire::sdk::Outcome;
using cartwire::sdk::Result;
using cartwire::sdk::testing::PluginHarness;

inline constexpr const char *kBase = "https://ghl.example.test";
inline constexpr const char *kToken = "pit-5b2e9d41-77aa-4c3e-9f10-2d8c6e0b1a73";
inline constexpr const char *kLocation = "ve9EPM428h8vShlRW1KT";
inline constexpr const char *kContact = "seD4PfOuKoVMLkEZqohJ";

inline Json settings() { return {{"token", kToken}, {"location_id", kLocation}, {"base_url", kBase}}; }

/** docs/events.md's example event. */
inline Json event() {
  return {{"id", 1042},
          {"source", "thrivecart"},
          {"type", "product.purchased"},
          {"occurred_at", "2026-01-15T10:00:00Z"},
          {"mode", "live"},
          {"dedupe_key", "tc:acme:order:1514394:item:upsell-13"},
          {"customer",
           {{"email", "ann@example.com"},
            {"first_name", "Ann"},
            {"last_name", "Lee"},
            {"name", "Ann Lee"},
            {"phone", "+15550100"},
            {"address", {{"line1", "1 Main St"}, {"line2", "Apt 2"}, {"city", "New York"}, {"state", "NY"},
                         {"zip", "10001"}, {"country", "US"}}},
            {"custom_fields", {{"company_size", "11-50"}}}}},
          {"item", {{"type", "upsell"}, {"id", "13"}, {"reference", "upsell-13"}, {"name", "Coaching"}}}};
}

inline Json job(int attempt = 1) { return {{"id", 7}, {"attempt", attempt}, {"idempotency_key", "job_7"}}; }

inline HttpResponse answer(int status, const Json &body = Json::object(), cartwire::sdk::Headers headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump();
  r.headers = std::move(headers);
  r.headers["content-type"] = "application/json";
  return r;
}

inline HttpResponse upserted(bool created = false, const std::string &id = kContact) {
  return answer(200, {{"new", created},
                      {"contact", {{"id", id}, {"locationId", kLocation}, {"email", "ann@example.com"}}},
                      {"traceId", "0f3a"}});
}

inline Json contact_fields() {
  return {{"customFields",
           {{{"id", "MgobCB14YMVKuE4Ka8p1"}, {"name", "Company size"}, {"fieldKey", "contact.company_size"},
             {"dataType", "TEXT"}, {"model", "contact"}},
            {{"id", "3sv6UEo51C9Bmpo1cKTq"}, {"name", "pincode"}, {"fieldKey", "contact.pincode"},
             {"dataType", "NUMERICAL"}, {"model", "contact"}},
            {{"id", "Zt7pQ2xR9sLk4mNb6vC1"}, {"name", "Interests"}, {"fieldKey", "contact.interests"},
             {"dataType", "CHECKBOX"}, {"model", "contact"}},
            {{"id", "Fu9pLoadQ2xR9sLk4mNb"}, {"name", "Contract"}, {"fieldKey", "contact.contract"},
             {"dataType", "FILE_UPLOAD"}, {"model", "contact"}}}}};
}

/**
 * Answers by "METHOD path" (path without the base URL, query included); each
 * key may hold several answers, used in turn (the last one repeats).
 * Unscripted requests get 404 so a stray call fails the test.
 */
class Remote {
 public:
  void on(const std::string &method_path, HttpResponse response) { script_[method_path].push_back(std::move(response)); }
  void attach(PluginHarness &harness) {
    harness.on_http([this](const HttpRequest &r) {
      std::string key = r.method + " " + r.url.substr(std::string(kBase).size());
      auto it = script_.find(key);
      if (r.url.rfind(kBase, 0) != 0 || it == script_.end()) return answer(404, {{"message", "Cannot " + key}});
      std::size_t &n = used_[key];
      HttpResponse out = it->second[std::min(n, it->second.size() - 1)];
      ++n;
      return out;
    });
  }

 private:
  std::map<std::string, std::vector<HttpResponse>> script_;
  std::map<std::string, std::size_t> used_;
};

class GhlTest : public ::testing::Test {
 protected:
  GhlTest() : harness(GHL_PLUGIN_PATH), ghl(harness.create(settings())) { remote.attach(harness); }

  Result run(const std::string &action, const Json &params, const Json &fields = Json::object(),
             const Json &ev = event(), int attempt = 1) {
    return ghl.action(action, params, ev, job(attempt), fields);
  }
  const std::vector<HttpRequest> &requests() const { return harness.requests(); }
  Json body(std::size_t i) const { return Json::parse(requests().at(i).body); }
  static std::string url(const std::string &path) { return std::string(kBase) + path; }

  void expect_headers(const HttpRequest &r, bool has_body) const {
    EXPECT_EQ(r.headers.at("authorization"), std::string("Bearer ") + kToken);
    EXPECT_EQ(r.headers.at("version"), "2021-07-28");
    EXPECT_EQ(r.headers.at("accept"), "application/json");
    if (has_body) {
      EXPECT_EQ(r.headers.at("content-type"), "application/json");
    } else {
      EXPECT_EQ(r.headers.count("content-type"), 0u) << r.method << " " << r.url;
      EXPECT_TRUE(r.body.empty());
    }
  }

  PluginHarness harness;
  PluginHarness::Instance ghl;
  Remote remote;
};

}  // namespace ghl_test
