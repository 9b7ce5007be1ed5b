// Product Purchased (`type: Order`): the order, one purchase per product,
// bumps and upsells.
#include "support.hpp"

namespace samcart_test {
namespace {

using Purchase = ConnectorTest;

const Json kCustomer = {{"email", "ann@example.com"},
                        {"first_name", "Ann"},
                        {"last_name", "Lee"},
                        {"name", "Ann Lee"},
                        {"phone", "+15555550100"},
                        {"address",
                         {{"line1", "1 Main St"},
                          {"line2", ""},
                          {"city", "New York"},
                          {"state", "NY"},
                          {"zip", "10001"},
                          {"country", "US"}}},
                        {"custom_fields", {{"company", "Acme"}, {"team_size", "11-50"}}}};

TEST_F(Purchase, OrderBecomesAnOrderAndAPurchase) {
  Json payload = classic("Order");
  auto events = accept(payload, 2);
  payload.erase("api_key");

  Json order = events[0];
  EXPECT_EQ(order["type"], "order.completed");
  EXPECT_EQ(order["source_type"], "Order");
  EXPECT_EQ(order["dedupe_key"], "sc:order:19026152");
  EXPECT_EQ(order["occurred_at"], "2026-01-15T10:00:00Z");
  EXPECT_EQ(order["mode"], "live");
  EXPECT_EQ(order["customer"], kCustomer);
  EXPECT_EQ(order["order"], Json({{"id", "19026152"}, {"currency", "USD"}, {"total", 4995}, {"total_str", "49.95"}}));
  EXPECT_FALSE(order.contains("item"));
  EXPECT_FALSE(order.contains("subscription"));
  EXPECT_FALSE(order.contains("refund"));
  EXPECT_EQ(order["raw"], payload);

  Json purchased = events[1];
  EXPECT_EQ(purchased["type"], "product.purchased");
  EXPECT_EQ(purchased["source_type"], "Order");
  EXPECT_EQ(purchased["dedupe_key"], "sc:order:19026152:product:910707");
  EXPECT_EQ(purchased["item"], Json({{"type", "product"},
                                     {"id", "910707"},
                                     {"reference", "product-910707"},
                                     {"name", "Course"},
                                     {"amount", 4995},
                                     {"amount_str", "49.95"}}));
  EXPECT_EQ(purchased["customer"], kCustomer);
  EXPECT_EQ(purchased["order"], order["order"]);
  EXPECT_EQ(purchased["raw"]["processor"], "Stripe");
  EXPECT_EQ(purchased["raw"]["order"]["stripe_id"], "cus_Pabc");
}

TEST_F(Purchase, CurrencyComesFromTheSettingWhenThePostHasNone) {
  PluginHarness harness(SAMCART_PLUGIN_PATH);
  auto instance = harness.create({{"token", kToken}, {"currency", "eur"}});
  WebhookReply reply = instance.webhook(post(classic("Order")));
  ASSERT_EQ(reply.events.size(), 2u);
  EXPECT_EQ(reply.events[0]["order"]["currency"], "EUR");

  Json payload = classic("Order");
  payload["order"]["currency"] = "GBP";
  EXPECT_EQ(accept(payload, 2)[0]["order"]["currency"], "GBP");
}

TEST_F(Purchase, SubscriptionPurchaseCarriesTheSubscription) {
  auto events = accept(classic("Order", order(5521), product(910800, "29.00", "Membership")), 2);
  EXPECT_EQ(events[1]["subscription"],
            Json({{"id", "5521"}, {"item_reference", "product-910800"}, {"amount", 2900}, {"amount_str", "29.00"}}));
  EXPECT_EQ(events[1]["type"], "product.purchased");
}

TEST_F(Purchase, NullsAndMissingKeysAreLeftOut) {
  Json payload = {{"type", "Order"},
                  {"customer", {{"email", "bob@example.com"}, {"first_name", nullptr}, {"last_name", "Roe"},
                                {"phone_number", nullptr}, {"billing_zip", nullptr}}},
                  {"order", {{"id", 77}, {"total", nullptr}, {"custom_fields", Json::array()}}},
                  {"product", {{"id", 5}, {"name", nullptr}, {"price", nullptr}}}};
  auto events = accept(payload, 2);
  EXPECT_EQ(events[0]["customer"], Json({{"email", "bob@example.com"}, {"last_name", "Roe"}, {"name", "Roe"}}));
  EXPECT_EQ(events[0]["order"], Json({{"id", "77"}, {"currency", "USD"}}));
  EXPECT_EQ(events[1]["item"], Json({{"type", "product"}, {"id", "5"}, {"reference", "product-5"}}));
  EXPECT_EQ(events[0]["occurred_at"], kNow);  // no created_at: the hub's clock
}

TEST_F(Purchase, ShippingAddressStandsInForAMissingBillingAddress) {
  Json payload = classic("Order");
  for (const char *key : {"billing_address", "billing_city", "billing_state", "billing_zip", "billing_country"})
    payload["customer"].erase(key);
  EXPECT_EQ(accept(payload, 2)[0]["customer"]["address"], Json({{"line1", "9 Dock Rd"},
                                                                 {"line2", ""},
                                                                 {"city", "Boston"},
                                                                 {"state", "MA"},
                                                                 {"zip", "02110"},
                                                                 {"country", "US"}}));
}

TEST_F(Purchase, CustomFieldsFallBackToTheirNameAndAcceptLists) {
  Json payload = classic("Order");
  payload["order"]["custom_fields"] = Json::array({{{"name", "Company"}, {"slug", nullptr}, {"value", "Acme"}},
                                                   {{"name", "Topics"}, {"slug", "topics"}, {"value", {"a", "b"}}},
                                                   {{"name", "Empty"}, {"slug", "empty"}, {"value", nullptr}},
                                                   {{"name", "Seats"}, {"slug", "seats"}, {"value", 3}}});
  EXPECT_EQ(accept(payload, 2)[0]["customer"]["custom_fields"],
            Json({{"Company", "Acme"}, {"topics", "a, b"}, {"seats", "3"}}));
}

TEST_F(Purchase, CreatedAtWithAnOffsetIsConvertedToUtc) {
  Json payload = classic("Order");
  payload["order"]["created_at"] = "2026-01-15T05:00:00-05:00";
  EXPECT_EQ(accept(payload, 2)[0]["occurred_at"], "2026-01-15T10:00:00Z");
  payload["order"]["created_at"] = "2026-01-15T10:00:00Z";
  EXPECT_EQ(accept(payload, 2)[0]["occurred_at"], "2026-01-15T10:00:00Z");
  payload["order"]["created_at"] = "2026-01-14 23:59:59";
  EXPECT_EQ(accept(payload, 2)[0]["occurred_at"], "2026-01-14T23:59:59Z");
  payload["order"]["created_at"] = "2026-01-15T11:30:00.250+01:30";
  EXPECT_EQ(accept(payload, 2)[0]["occurred_at"], "2026-01-15T10:00:00Z");
  payload["order"]["created_at"] = "2026-13-01 10:00:00";
  EXPECT_EQ(accept(payload, 2)[0]["occurred_at"], kNow);
  payload["order"]["created_at"] = "yesterday";
  EXPECT_EQ(accept(payload, 2)[0]["occurred_at"], kNow);
}

TEST_F(Purchase, ACreatedAtThatDoesNotExistDatesTheOrderByTheHubsClock) {
  Json payload = classic("Order");
  for (const char *none : {"2026-02-30 10:00:00", "2026-02-29T10:00:00Z", "2026-04-31 10:00:00", "2026-01-15 24:00:00",
                           "2026-01-15 10:60:00", "2026-01-15 10:00:61", "2026-01-15T10:00:00+24:00"}) {
    payload["order"]["created_at"] = none;
    EXPECT_EQ(accept(payload, 2)[0]["occurred_at"], kNow) << none;
  }
  payload["order"]["created_at"] = "2028-02-29 10:00:00";
  EXPECT_EQ(accept(payload, 2)[0]["occurred_at"], "2028-02-29T10:00:00Z");
}

// A created_at of any length is read at once, without a stack that grows with it.
TEST_F(Purchase, ACreatedAtOfAnyLengthIsReadAtOnce) {
  Json payload = classic("Order");
  payload["order"]["created_at"] = std::string(200000, ' ') + "2026-01-14T08:00:00Z" + std::string(200000, ' ');
  EXPECT_EQ(accept(payload, 2)[0]["occurred_at"], "2026-01-14T08:00:00Z");
  payload["order"]["created_at"] = "2026-01-15T10:00:00." + std::string(200000, '0') + "Z";
  EXPECT_EQ(accept(payload, 2)[0]["occurred_at"], kNow) << "a fraction has 1 to 9 digits";
  payload["order"]["created_at"] = "  2026-01-15T11:30:00.123456789+01:30  ";
  EXPECT_EQ(accept(payload, 2)[0]["occurred_at"], "2026-01-15T10:00:00Z");
}

TEST_F(Purchase, TestOrdersAreMarked) {
  for (const auto &[key, value] : std::vector<std::pair<std::string, Json>>{
           {"test_mode", true}, {"test_order", "1"}, {"mode", "test"}, {"is_test", "true"}}) {
    Json payload = classic("Order");
    payload[key] = value;
    EXPECT_EQ(accept(payload, 2)[1]["mode"], "test") << key;
    payload[key] = key == "mode" ? Json("live") : Json(false);
    EXPECT_EQ(accept(payload, 2)[1]["mode"], "live") << key;
  }
  Json payload = classic("Order");
  payload["order"]["test_mode"] = true;
  EXPECT_EQ(accept(payload, 2)[1]["mode"], "test");
}

class WithItemTypes : public ConnectorTest {
 protected:
  WithItemTypes()
      : ConnectorTest({{"token", kToken},
                       {"item_types", {{"910708", "bump"}, {"910709", "upsell"}, {"910710", "downsell"}}}}) {}
};

TEST_F(WithItemTypes, BumpAndUpsellPostsShareTheOrderAndNameTheirKind) {
  // SamCart posts each product of an order (bump and upsell included) on its own.
  Json main = classic("Order");
  Json bump = classic("Order", order(), product(910708, "19.00", "Workbook", "ch_3Nabc"));
  Json upsell = classic("Order", order(), product(910709, "99.00", "Coaching", "ch_3Nupsell"));
  Json downsell = classic("Order", order(), product(910710, "49.00", "Coaching lite", "ch_3Ndown"));
  auto m = accept(main, 2), b = accept(bump, 2), u = accept(upsell, 2), d = accept(downsell, 2);
  EXPECT_EQ(m[1]["item"]["reference"], "product-910707");
  EXPECT_EQ(b[1]["item"], Json({{"type", "bump"}, {"id", "910708"}, {"reference", "bump-910708"},
                                {"name", "Workbook"}, {"amount", 1900}, {"amount_str", "19.00"}}));
  EXPECT_EQ(u[1]["item"]["reference"], "upsell-910709");
  EXPECT_EQ(u[1]["item"]["type"], "upsell");
  EXPECT_EQ(d[1]["item"]["reference"], "downsell-910710");
  // One order, four purchases.
  for (auto *events : {&m, &b, &u, &d}) EXPECT_EQ((*events)[0]["dedupe_key"], "sc:order:19026152");
  std::set<std::string> keys = {m[1]["dedupe_key"], b[1]["dedupe_key"], u[1]["dedupe_key"], d[1]["dedupe_key"]};
  EXPECT_EQ(keys, (std::set<std::string>{"sc:order:19026152:product:910707", "sc:order:19026152:product:910708",
                                         "sc:order:19026152:product:910709", "sc:order:19026152:product:910710"}));
}

TEST_F(WithItemTypes, CommaJoinedProductsAreSplit) {
  Json payload = classic("Order", order(), product("910707,910708", "49.95,19.00", "Course,Workbook", "ch_1,ch_2"));
  auto events = accept(payload, 3);
  EXPECT_EQ(events[1]["item"], Json({{"type", "product"}, {"id", "910707"}, {"reference", "product-910707"},
                                     {"name", "Course"}, {"amount", 4995}, {"amount_str", "49.95"}}));
  EXPECT_EQ(events[2]["item"], Json({{"type", "bump"}, {"id", "910708"}, {"reference", "bump-910708"},
                                     {"name", "Workbook"}, {"amount", 1900}, {"amount_str", "19.00"}}));
  EXPECT_EQ(events[2]["dedupe_key"], "sc:order:19026152:product:910708");
}

TEST_F(WithItemTypes, JoinedValuesThatDoNotLineUpAreLeftOut) {
  // Two ids but three price parts ("1,299.00" has a thousands separator): no amounts rather than wrong ones.
  Json payload = classic("Order", order(), product("910707, 910708", "1,299.00,19.00", "Course, deluxe,Workbook"));
  auto events = accept(payload, 3);
  EXPECT_EQ(events[1]["item"], Json({{"type", "product"}, {"id", "910707"}, {"reference", "product-910707"}}));
  EXPECT_EQ(events[2]["item"], Json({{"type", "bump"}, {"id", "910708"}, {"reference", "bump-910708"}}));
}

}  // namespace
}  // namespace samcart_test
