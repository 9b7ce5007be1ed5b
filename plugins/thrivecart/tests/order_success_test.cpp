// order.success → order.completed + product.purchased.
#include "fixtures.hpp"

namespace thrivecart_test {
namespace {

using OrderSuccess = ConnectorTest;

const Json *find(const std::vector<Json> &events, const std::string &dedupe_key) {
  for (auto &event : events)
    if (event["dedupe_key"] == dedupe_key) return &event;
  return nullptr;
}

TEST_F(OrderSuccess, Section9ExampleGivesTheOrderAndOnePurchasePerItem) {
  auto events = accept(post(kSection9Body, "application/x-www-form-urlencoded"), 3);
  ASSERT_EQ(events.size(), 3u);

  Json expected_customer = {{"email", "ann@example.com"},
                            {"first_name", "Ann"},
                            {"last_name", "Lee"},
                            {"name", "Ann Lee"},
                            {"address",
                             {{"line1", ""}, {"line2", ""}, {"city", ""}, {"state", ""}, {"zip", "10001"}, {"country", "US"}}}};
  Json expected_order = {
      {"id", "1514394"}, {"invoice_id", "000000004"}, {"currency", "USD"}, {"total", 9990}, {"total_str", "99.90"}};

  Json order = events[0];
  EXPECT_EQ(order["type"], "order.completed");
  EXPECT_EQ(order["source_type"], "order.success");
  EXPECT_EQ(order["dedupe_key"], "tc:acme:order:1514394");
  EXPECT_EQ(order["occurred_at"], "2026-01-15T10:00:00Z");
  EXPECT_EQ(order["mode"], "live");
  EXPECT_EQ(order["customer"], expected_customer);
  EXPECT_EQ(order["order"], expected_order);
  EXPECT_EQ(order["item"], Json({{"type", "product"},
                                 {"id", "12"},
                                 {"reference", "product-12"},
                                 {"name", "Course"},
                                 {"amount", 9990},
                                 {"amount_str", "99.90"}}));
  EXPECT_FALSE(order.contains("id"));
  EXPECT_FALSE(order.contains("source"));
  EXPECT_FALSE(order.contains("subscription"));
  EXPECT_FALSE(order.contains("refund"));
  EXPECT_FALSE(order["raw"].contains("thrivecart_secret"));
  EXPECT_EQ(order["raw"]["order_id"], "1514394");

  Json product = events[1];
  EXPECT_EQ(product["type"], "product.purchased");
  EXPECT_EQ(product["dedupe_key"], "tc:acme:order:1514394:item:product-12");
  EXPECT_EQ(product["item"], Json({{"type", "product"},
                                   {"id", "12"},
                                   {"reference", "product-12"},
                                   {"name", "Course"},
                                   {"amount", 4995},
                                   {"amount_str", "49.95"}}));
  EXPECT_EQ(product["customer"], expected_customer);
  EXPECT_EQ(product["order"], expected_order);

  Json upsell = events[2];
  EXPECT_EQ(upsell["type"], "product.purchased");
  EXPECT_EQ(upsell["dedupe_key"], "tc:acme:order:1514394:item:upsell-13");
  EXPECT_EQ(upsell["item"]["reference"], "upsell-13");
  EXPECT_EQ(upsell["item"]["name"], "Coaching");
  EXPECT_EQ(upsell["item"]["amount"], 4995);
  EXPECT_EQ(upsell["item"]["amount_str"], "49.95");
}

TEST_F(OrderSuccess, EveryFieldPayloadCountsTheRecurringRowOnce) {
  auto events = accept(order_success(), 4);
  std::vector<std::string> types;
  for (auto &event : events) types.push_back(event["type"]);
  EXPECT_EQ(types, (std::vector<std::string>{"order.completed", "product.purchased", "product.purchased",
                                             "product.purchased"}));

  EXPECT_EQ(events[0]["item"]["amount"], 10990);
  EXPECT_EQ(events[0]["item"]["amount_str"], "109.90");
  EXPECT_EQ(events[0]["order"]["total"], 10990);

  const Json *product = find(events, "tc:acme:order:1514394:item:product-12");
  ASSERT_NE(product, nullptr);
  EXPECT_EQ((*product)["item"]["amount"], 4995);

  const Json *bump = find(events, "tc:acme:order:1514394:item:bump-12");
  ASSERT_NE(bump, nullptr);
  EXPECT_EQ((*bump)["item"], Json({{"type", "bump"},
                                   {"id", "12"},
                                   {"reference", "bump-12"},
                                   {"name", "Workbook"},
                                   {"amount", 1000},
                                   {"amount_str", "10.00"}}));  // derived: the row has no amount_str

  ASSERT_NE(find(events, "tc:acme:order:1514394:item:upsell-13"), nullptr);
}

TEST_F(OrderSuccess, RecurringDescriptorFirstStillYieldsOnePurchaseFromTheChargedRow) {
  Form form = with(common_fields("order.success"), {{"order[total]", "4995"},
                                                    {"order[charges][0][item_type]", "product"},
                                                    {"order[charges][0][reference]", "12"},
                                                    {"order[charges][0][amount]", "2500"},
                                                    {"order[charges][0][type]", "recurring"},
                                                    {"order[charges][1][item_type]", "product"},
                                                    {"order[charges][1][reference]", "12"},
                                                    {"order[charges][1][amount]", "4995"},
                                                    {"order[charges][1][type]", "single"}});
  auto events = accept(form, 2);
  EXPECT_EQ(events[1]["dedupe_key"], "tc:acme:order:1514394:item:product-12");
  EXPECT_EQ(events[1]["item"]["amount"], 4995);
}

TEST_F(OrderSuccess, CustomerCarriesPhoneAddressAndCustomFields) {
  auto events = accept(order_success(), 4);
  Json customer = events[0]["customer"];
  EXPECT_EQ(customer["email"], "ann@example.com");
  EXPECT_EQ(customer["phone"], "+1 555 0100");
  EXPECT_EQ(customer["address"], Json({{"line1", "1 Main St"},
                                       {"line2", "Suite 5"},
                                       {"city", "New York"},
                                       {"state", "NY"},
                                       {"zip", "10001"},
                                       {"country", "US"}}));
  EXPECT_EQ(customer["custom_fields"], Json({{"business_name", "Lee & Co"},
                                             {"checkbox_confirmation", "false"},
                                             {"company_size", "11-50"},
                                             {"how_did_you_hear", "Podcast"}}));
  for (auto &event : events) EXPECT_EQ(event["customer"], customer);
}

TEST_F(OrderSuccess, OldFirstnameLastnameSpellingsAreAccepted) {
  Form form = without(without(without(order_success(), "customer[first_name]"), "customer[last_name]"), "customer[name]");
  form = with(form, {{"customer[firstname]", "Ann"}, {"customer[lastname]", "Lee"}});
  Json customer = accept(form, 4)[0]["customer"];
  EXPECT_EQ(customer["first_name"], "Ann");
  EXPECT_EQ(customer["last_name"], "Lee");
  EXPECT_EQ(customer["name"], "Ann Lee");
  EXPECT_FALSE(customer["custom_fields"].contains("firstname"));
}

TEST_F(OrderSuccess, AFullNameAloneGivesTheFirstAndLastNames) {
  Form bare = without(without(order_success(), "customer[first_name]"), "customer[last_name]");
  Json customer = accept(bare, 4)[0]["customer"];
  EXPECT_EQ(customer["first_name"], "Ann");
  EXPECT_EQ(customer["last_name"], "Lee");
  EXPECT_EQ(customer["name"], "Ann Lee");
  customer = accept(with(without(bare, "customer[name]"), {{"customer[name]", " Mary Ann  van Dyke "}}), 4)[0]["customer"];
  EXPECT_EQ(customer["first_name"], "Mary");
  EXPECT_EQ(customer["last_name"], "Ann  van Dyke");
  customer = accept(with(without(bare, "customer[name]"), {{"customer[name]", "Cher"}}), 4)[0]["customer"];
  EXPECT_EQ(customer["first_name"], "Cher");
  EXPECT_FALSE(customer.contains("last_name"));
  // Either part sent is taken as sent.
  customer = accept(without(order_success(), "customer[last_name]"), 4)[0]["customer"];
  EXPECT_EQ(customer["first_name"], "Ann");
  EXPECT_FALSE(customer.contains("last_name"));
}

TEST_F(OrderSuccess, JsonVariantGivesTheSameEvents) {
  auto from_form = accept(order_success(), 4);
  auto from_json = accept(post_json(to_json(order_success())), 4);
  for (std::size_t i = 0; i < from_form.size() && i < from_json.size(); ++i) EXPECT_EQ(from_json[i], from_form[i]);
}

TEST_F(OrderSuccess, JsonWithNumbersAndAnEmptyAddressArray) {
  Json payload = to_json(order_success());
  payload["order_id"] = 1514394;
  payload["order_timestamp"] = 1768471200;
  payload["order"]["total"] = 10990;
  payload["order"]["charges"][3]["amount"] = 4995;
  payload["order"]["charges"][3]["reference"] = 13;
  payload["customer"]["address"] = Json::array();
  payload["customer"]["custom_fields"] = Json::array();
  payload["customer"]["checkbox_confirmation"] = false;
  auto events = accept(post_json(payload), 4);
  EXPECT_EQ(events[0]["dedupe_key"], "tc:acme:order:1514394");
  EXPECT_EQ(events[0]["occurred_at"], "2026-01-15T10:00:00Z");
  EXPECT_EQ(events[0]["order"]["total"], 10990);
  EXPECT_FALSE(events[0]["customer"].contains("address"));
  EXPECT_EQ(events[0]["customer"]["custom_fields"]["checkbox_confirmation"], "false");
  EXPECT_FALSE(events[0]["customer"]["custom_fields"].contains("company_size"));
  const Json *upsell = find(events, "tc:acme:order:1514394:item:upsell-13");
  ASSERT_NE(upsell, nullptr);
  EXPECT_EQ((*upsell)["item"]["amount"], 4995);
  EXPECT_EQ((*upsell)["item"]["id"], "13");
}

TEST_F(OrderSuccess, WithoutChargesThePurchaseMapNamesTheItems) {
  Form form = order_success();
  std::erase_if(form, [](auto &field) { return field.first.rfind("order[charges]", 0) == 0; });
  auto events = accept(form, 4);
  EXPECT_EQ(events[1]["dedupe_key"], "tc:acme:order:1514394:item:product-12");
  EXPECT_EQ(events[1]["item"], Json({{"type", "product"}, {"id", "12"}, {"reference", "product-12"}, {"name", "Course"}}));
  EXPECT_EQ(events[2]["item"]["reference"], "bump-12");
  EXPECT_EQ(events[2]["item"]["name"], "Workbook");
  EXPECT_EQ(events[3]["dedupe_key"], "tc:acme:order:1514394:item:upsell-13");
  EXPECT_FALSE(events[3]["item"].contains("amount"));
}

// As in a real delivery: charge and purchase names come HTML-escaped, the
// base product's name does not.
TEST_F(OrderSuccess, EscapedItemNamesAreReadAsText) {
  Json payload = to_json(order_success());
  payload["base_product_name"] = "Mobile & Universal App Pro";
  payload["order"]["charges"][0]["name"] = "Mobile &amp; Universal App Pro";
  payload["order"]["charges"][1]["name"] = "Mobile &amp; Universal App Pro";
  payload["order"]["charges"][2]["name"] = "Tom &amp; Jerry&#039;s &lt;b&gt;&quot;best&quot;&lt;/b&gt; &amp;lt; &copy; & co";
  payload["purchases"][2] = "Coaching &amp; Q&amp;A";
  auto events = accept(post_json(payload), 4);
  EXPECT_EQ(events[0]["item"]["name"], "Mobile & Universal App Pro");
  EXPECT_EQ(events[1]["item"]["name"], "Mobile & Universal App Pro");
  EXPECT_EQ(events[2]["item"]["name"], "Tom & Jerry's <b>\"best\"</b> &lt; &copy; & co");

  payload.erase("order");
  events = accept(post_json(payload), 4);
  EXPECT_EQ(events[3]["item"]["reference"], "upsell-13");
  EXPECT_EQ(events[3]["item"]["name"], "Coaching & Q&A");
}

TEST_F(OrderSuccess, WithoutChargesOrMapTheFlatListIsSplitAndTrimmed) {
  Form form = order_success();
  std::erase_if(form, [](auto &field) {
    return field.first.rfind("order[charges]", 0) == 0 || field.first.rfind("purchase_map[", 0) == 0;
  });
  auto events = accept(form, 4);
  EXPECT_EQ(events[1]["item"]["reference"], "product-12");
  EXPECT_EQ(events[2]["item"]["reference"], "bump-12");
  EXPECT_EQ(events[3]["item"]["reference"], "upsell-13");
  EXPECT_EQ(events[3]["item"]["type"], "upsell");
  EXPECT_EQ(events[3]["item"]["id"], "13");
}

TEST_F(OrderSuccess, AnItemBoughtButNotChargedNowIsPurchasedToo) {
  // A free trial of product-12 with a bump and an upsell paid now: the product is charged later only.
  Form form = order_success();
  std::erase_if(form, [](auto &field) {
    return field.first.rfind("order[charges][0]", 0) == 0 || field.first.rfind("order[charges][1]", 0) == 0;
  });
  auto events = accept(form, 4);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[1]["item"]["reference"], "bump-12");
  EXPECT_EQ(events[1]["item"]["amount"], 1000);
  EXPECT_EQ(events[2]["item"]["reference"], "upsell-13");
  EXPECT_EQ(events[3]["type"], "product.purchased");
  EXPECT_EQ(events[3]["dedupe_key"], "tc:acme:order:1514394:item:product-12");
  EXPECT_EQ(events[3]["item"], Json({{"type", "product"}, {"id", "12"}, {"reference", "product-12"}, {"name", "Course"}}));
}

TEST_F(OrderSuccess, ModeComesFromModeOrModeInt) {
  EXPECT_EQ(accept(with(order_success(), {{"mode", "test"}, {"mode_int", "1"}}), 4)[0]["mode"], "test");
  EXPECT_EQ(accept(with(without(order_success(), "mode"), {{"mode_int", "1"}}), 4)[0]["mode"], "test");
  EXPECT_EQ(accept(with(without(order_success(), "mode"), {{"mode_int", "2"}}), 4)[0]["mode"], "live");
  EXPECT_EQ(accept(without(without(order_success(), "mode"), "mode_int"), 4)[0]["mode"], "live");
}

TEST_F(OrderSuccess, OccurredAtFallsBackThroughTheDateFields) {
  Form form = without(without(order_success(), "order_timestamp"), "order[date_unix]");
  form = with(form, {{"order[date_iso8601]", "2026-01-15T12:30:00+02:00"}});
  EXPECT_EQ(accept(form, 4)[0]["occurred_at"], "2026-01-15T10:30:00Z");

  form = without(form, "order[date_iso8601]");
  harness_.set_now_ms(1800000000000);
  EXPECT_EQ(accept(form, 4)[0]["occurred_at"], "2027-01-15T08:00:00Z");
}

TEST_F(OrderSuccess, ReDeliveryGivesTheSameKeys) {
  auto first = accept(order_success(), 4);
  harness_.set_now_ms(1900000000000);
  auto again = accept(post_json(to_json(order_success())), 4);
  for (std::size_t i = 0; i < first.size(); ++i) EXPECT_EQ(first[i]["dedupe_key"], again[i]["dedupe_key"]);
}

}  // namespace
}  // namespace thrivecart_test
