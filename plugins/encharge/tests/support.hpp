// Shared pieces of the Encharge connector tests: settings, canonical events as
// the ThriveCart source emits them, and a scripted Encharge.
#pragma once

#include <gtest/gtest.h>

#include <cartwire/sdk/testing/plugin_harness.hpp>

#include <string>
#include <utility>

namespace encharge_test {

using cartwire::sdk::HttpRequest;
using cartwire::sdk::HttpResponse;
using cartwire::sdk::Json;
using cartwire::sdk::Outcome;
using cartwire::sdk::Result;
using cartwire::sdk::testing::PluginHarness;

inline constexpr const char *kWriteKey = "wk_7f3c1e9a2b4d4c8e";
inline constexpr const char *kApiKey = "ak_0d9e8f7a6b5c4d3e";
inline constexpr const char *kIngest = "https://ingest.example.test/v1";
inline constexpr const char *kApi = "https://api.example.test/v1";

inline Json settings() { return {{"write_key", kWriteKey}, {"base_url", kIngest}}; }
inline Json settings_with_api_key() {
  return {{"write_key", kWriteKey}, {"base_url", kIngest}, {"api_key", kApiKey}, {"api_base_url", kApi}};
}

inline Json customer() {
  return {{"email", "ann@example.com"}, {"first_name", "Ann"}, {"last_name", "Lee"}, {"name", "Ann Lee"},
          {"phone", "+1 555 0100"}, {"custom_fields", {{"company", "Acme"}}}};
}

inline Json base(const std::string &type, const std::string &source_type, const std::string &key) {
  return {{"id", 1042}, {"source", "thrivecart"}, {"type", type}, {"source_type", source_type},
          {"occurred_at", "2026-01-15T10:00:00Z"}, {"mode", "live"}, {"dedupe_key", key},
          {"customer", customer()},
          {"order", {{"id", "1514394"}, {"invoice_id", "000000004"}, {"currency", "USD"}, {"total", 9990},
                     {"total_str", "99.90"}}}};
}

inline Json tc_order() {
  Json e = base("order.completed", "order.success", "tc:acme:order:1514394");
  e["item"] = {{"type", "product"}, {"id", "12"}, {"reference", "product-12"}, {"name", "Course"},
               {"amount", 9990}, {"amount_str", "99.90"}};
  return e;
}

inline Json tc_purchase() {
  Json e = base("product.purchased", "order.success", "tc:acme:order:1514394:item:upsell-13");
  e["item"] = {{"type", "upsell"}, {"id", "13"}, {"reference", "upsell-13"}, {"name", "Coaching"},
               {"amount", 4995}, {"amount_str", "49.95"}};
  return e;
}

inline Json tc_rebill() {
  Json e = base("subscription.charged", "order.subscription_payment", "tc:acme:rebill:1514394:000000005");
  e["order"].erase("total");
  e["order"].erase("total_str");
  e["subscription"] = {{"id", "sub_1514394"}, {"item_reference", "product-12"}, {"amount", 2900},
                       {"amount_str", "29.00"}, {"frequency", "month"}, {"remaining_rebills", nullptr}};
  e["item"] = {{"type", "product"}, {"id", "12"}, {"reference", "product-12"}, {"name", "Membership"},
               {"amount", 2900}, {"amount_str", "29.00"}};
  return e;
}

inline Json tc_refund(bool partial) {
  Json e = base(partial ? "product.partially_refunded" : "product.refunded", "order.refund",
                "tc:acme:refund:1514394:product-12:2000:1771149600");
  int cents = partial ? 2000 : 4995;
  std::string str = partial ? "20.00" : "49.95";
  e["refund"] = {{"amount", cents}, {"amount_str", str}, {"item_reference", "product-12"}};
  e["item"] = {{"type", "product"}, {"id", "12"}, {"reference", "product-12"}, {"amount", cents}, {"amount_str", str}};
  return e;
}

/** A SamCart-style event: not one of the agreed ThriveCart names. */
inline Json samcart_purchase() {
  return {{"id", 77}, {"source", "samcart"}, {"type", "product.purchased"}, {"source_type", "Product Purchased"},
          {"mode", "live"}, {"dedupe_key", "sc:order:88:item:product-5"}, {"customer", customer()},
          {"order", {{"id", "88"}, {"currency", "EUR"}, {"total", 1000}, {"total_str", "10.00"}}},
          {"item", {{"type", "product"}, {"id", "5"}, {"reference", "product-5"}, {"amount", 1000},
                    {"amount_str", "10.00"}}}};
}

inline HttpResponse answer(int status, const std::string &body = R"({"status":"success"})",
                           cartwire::sdk::Headers headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = body;
  r.headers = std::move(headers);
  r.headers["content-type"] = "application/json";
  return r;
}

/** A harness whose every request gets `response`. */
inline void answer_all(PluginHarness &h, HttpResponse response) {
  h.on_http([response](const HttpRequest &) { return response; });
}

inline Json body_of(const HttpRequest &r) { return Json::parse(r.body); }

class EnchargeTest : public ::testing::Test {
 protected:
  PluginHarness harness{ENCHARGE_PLUGIN_PATH};
};

}  // namespace encharge_test
