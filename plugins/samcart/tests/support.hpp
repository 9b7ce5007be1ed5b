// Shared helpers for the SamCart connector tests: Notify URL payloads built
// from every field SamCart documents for them, requests
// carrying the hook URL token, and a harness-backed webhook caller.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include <cartwire/sdk/testing/plugin_harness.hpp>

namespace samcart_test {

using cartwire::sdk::Json;
using cartwire::sdk::WebhookReply;
using cartwire::sdk::WebhookRequest;
using cartwire::sdk::testing::PluginHarness;

inline constexpr const char *kToken = "3f9c1c2a7d5e4b8a9c0d1e2f";

/** The harness clock: 2026-01-15T10:00:00Z. */
inline constexpr const char *kNow = "2026-01-15T10:00:00Z";
inline constexpr const char *kToday = "2026-01-15";

/** §4 `customer`, every observed key. */
inline Json customer() {
  return {{"customer_id", 88123},
          {"first_name", "Ann"},
          {"last_name", "Lee"},
          {"email", "ann@example.com"},
          {"phone_number", "+15555550100"},
          {"billing_address", "1 Main St"},
          {"billing_city", "New York"},
          {"billing_state", "NY"},
          {"billing_zip", "10001"},
          {"billing_country", "US"}};
}

/** §4 `order`, every observed key. */
inline Json order(const Json &subscription_id = nullptr) {
  return {{"id", 19026152},
          {"total", "49.95"},
          {"ip_address", "203.0.113.7"},
          {"subscription_id", subscription_id},
          {"custom_fields", Json::array({{{"name", "Company"}, {"slug", "company"}, {"value", "Acme"}},
                                         {{"name", "Team size"}, {"slug", "team_size"}, {"value", "11-50"}}})},
          {"transaction_id", Json::array({"ch_3Nabc"})},
          {"stripe_id", "cus_Pabc"},
          {"shipping_address", "9 Dock Rd"},
          {"shipping_city", "Boston"},
          {"shipping_state", "MA"},
          {"shipping_zip", "02110"},
          {"shipping_country", "US"},
          {"created_at", "2026-01-15 10:00:00"}};
}

/** §4 `product`. */
inline Json product(const Json &id = 910707, const Json &price = "49.95", const Json &name = "Course",
                    const Json &transaction_id = "ch_3Nabc") {
  return {{"id", id}, {"name", name}, {"price", price}, {"transaction_id", transaction_id}};
}

/** A classic Notify URL post of `type` with every top-level key of §4. */
inline Json classic(const std::string &type, Json order_object = order(), Json product_object = product()) {
  return {{"type", type},
          {"customer", customer()},
          {"order", std::move(order_object)},
          {"product", std::move(product_object)},
          {"affiliate", {{"id", nullptr}, {"token", nullptr}}},
          {"processor", "Stripe"},
          {"payment_type", "card"},
          {"api_key", nullptr}};
}

/** SamCart's documented example post, verbatim. */
inline const std::string kSection4Example = R"({
  "type": "Order",
  "customer": {
    "customer_id": 88123,
    "first_name": "Ann",
    "last_name": "Lee",
    "email": "ann@example.com",
    "phone_number": "+15555550100",
    "billing_address": "1 Main St",
    "billing_city": "New York",
    "billing_state": "NY",
    "billing_zip": "10001",
    "billing_country": "US"
  },
  "order": {
    "id": 19026152,
    "total": "49.95",
    "ip_address": "203.0.113.7",
    "subscription_id": null,
    "custom_fields": [{"name": "Company", "slug": "company", "value": "Acme"}],
    "transaction_id": ["ch_3Nabc"],
    "created_at": "2026-01-15 10:00:00"
  },
  "product": {"id": 910707, "name": "Course", "price": "49.95", "transaction_id": "ch_3Nabc"},
  "affiliate": {"id": null, "token": null},
  "processor": "Stripe"
})";

/** A subscription post (§3): order.subscription_id set, product.price = the amount charged. */
inline Json subscription_post(const std::string &type) {
  Json o = order(5521);
  o["transaction_id"] = Json::array({"ch_3Rebill"});
  o["created_at"] = "2025-12-15 09:30:00";
  return classic(type, o, product(910800, "29.00", "Membership", "ch_3Rebill"));
}

/** A refund post: `refund_transaction_id` on top of the purchase shape. */
inline Json refund_post(const std::string &type) {
  Json p = classic(type);
  p["refund_transaction_id"] = "re_3Nxyz";
  return p;
}

/** A POST of `body` with the token as the last path segment: /hooks/<source>/<token>. */
inline WebhookRequest post_body(std::string body, const std::string &token = kToken) {
  WebhookRequest request;
  request.trigger = "webhook";
  request.method = "POST";
  request.path = token.empty() ? "" : "/" + token;
  request.headers["content-type"] = "application/json";
  request.body = std::move(body);
  return request;
}
/** A POST of `payload` as JSON with the token as the last path segment. */
inline WebhookRequest post(const Json &payload, const std::string &token = kToken) {
  return post_body(payload.dump(), token);
}

/** A POST with the token as a query parameter: /hooks/<source>?token=<token>. */
inline WebhookRequest post_query(const Json &payload, const std::string &token = kToken) {
  WebhookRequest request = post(payload, "");
  request.query["token"] = token;
  return request;
}

/** Loads the real plugin and keeps one configured instance. */
class ConnectorTest : public ::testing::Test {
 protected:
  explicit ConnectorTest(Json settings = {{"token", kToken}})
      : harness_(SAMCART_PLUGIN_PATH), instance_(harness_.create(settings)) {}

  WebhookReply send(const WebhookRequest &request) { return instance_.webhook(request); }

  /** Sends the payload and expects a 200 with `count` events. */
  std::vector<Json> accept(const Json &payload, std::size_t count) { return accept(post(payload), count); }
  std::vector<Json> accept(const WebhookRequest &request, std::size_t count) {
    WebhookReply reply = send(request);
    EXPECT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(reply.events.size(), count) << Json(reply.events).dump(2);
    return reply.events;
  }
  /** The single event a payload produces. */
  Json one(const Json &payload) {
    auto events = accept(payload, 1);
    return events.empty() ? Json::object() : events[0];
  }

  PluginHarness harness_;
  PluginHarness::Instance instance_;
};

}  // namespace samcart_test
