// Shared set-up for the tests that load the built plugin through the SDK test kit.
#pragma once

#include <cartwire/sdk/testing/plugin_harness.hpp>
#include <gtest/gtest.h>

#include <string>

#include "signer.hpp"

namespace notifyurl_test {

using cartwire::sdk::HttpRequest;
using cartwire::sdk::HttpResponse;
using cartwire::sdk::Json;
using cartwire::sdk::Outcome;
using cartwire::sdk::Result;
using cartwire::sdk::testing::PluginHarness;

inline const std::string kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
inline const std::string kUrl = "https://receiver.example/cartwire";
/** The harness's default clock, 2026-01-15T10:00:00Z, in seconds. */
inline constexpr std::int64_t kNow = 1768471200;

/** A canonical event as docs/events.md describes it, trimmed. */
inline Json purchase_event() {
  return {{"id", 1042},
          {"source", "thrivecart"},
          {"type", "product.purchased"},
          {"source_type", "order.success"},
          {"occurred_at", "2026-01-15T10:00:00Z"},
          {"mode", "live"},
          {"dedupe_key", "tc:acme:order:1514394:item:upsell-13"},
          {"customer", {{"email", "ann@example.com"}, {"first_name", "Ann"}, {"last_name", "Lee"}}},
          {"item", {{"type", "upsell"}, {"reference", "upsell-13"}, {"amount", 4995}, {"amount_str", "49.95"}}}};
}

inline Json job(int attempt = 1, const std::string &key = "job_17") {
  return {{"id", 17}, {"attempt", attempt}, {"idempotency_key", key}};
}

inline HttpResponse answer(int status, cartwire::sdk::Headers headers = {}, std::string body = "") {
  HttpResponse response;
  response.status = status;
  response.headers = std::move(headers);
  response.body = std::move(body);
  return response;
}

class PluginTest : public ::testing::Test {
 protected:
  PluginHarness harness{NOTIFYURL_PLUGIN_PATH};

  Json settings(Json extra = Json::object()) {
    Json out = {{"url", kUrl}, {"secret", kSecret}};
    out.update(extra);
    return out;
  }

  /** Create with `settings`, run "post" once, answered with `response`. */
  Result post(const Json &settings, const HttpResponse &response, const Json &params = Json::object(),
              const Json &event = purchase_event(), const Json &job_facts = job()) {
    harness.on_http([response](const HttpRequest &) { return response; });
    auto instance = harness.create(settings);
    return instance.action("post", params, event, job_facts);
  }

  /** The message with which creating an instance from `settings` fails, or "" when it succeeds. */
  std::string creation_error(const Json &settings) {
    try {
      harness.create(settings);
    } catch (const std::runtime_error &e) {
      return e.what();
    }
    return "";
  }

  const HttpRequest &last_request() {
    EXPECT_FALSE(harness.requests().empty());
    return harness.requests().back();
  }
};

}  // namespace notifyurl_test
