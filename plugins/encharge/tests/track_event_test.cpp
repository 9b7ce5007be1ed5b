// track_event: the agreed ThriveCart names and properties, other events'
// names, the person, tags and extra properties, on the exact wire.
#include "support.hpp"

namespace encharge_test {
namespace {

class TrackEvent : public EnchargeTest {
 protected:
  void SetUp() override { answer_all(harness, answer(200)); }

  /** Runs track_event and returns the one request's body. */
  Json send(const Json &event, const Json &params = Json::object(), const Json &fields = Json::object()) {
    auto c = harness.create(settings());
    Result r = c.action("track_event", params, event, {{"id", 3}, {"attempt", 1}, {"idempotency_key", "job_3"}},
                        fields);
    EXPECT_TRUE(r.is_ok()) << r.message;
    EXPECT_EQ(harness.requests().size(), 1u);
    return body_of(harness.requests().back());
  }
};

TEST_F(TrackEvent, PurchaseGoesToIngestWithWriteKeyAndAgreedShape) {
  Json body = send(tc_purchase());
  const HttpRequest &r = harness.requests().at(0);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, std::string(kIngest) + "/");
  EXPECT_EQ(r.headers.at("x-encharge-token"), kWriteKey);
  EXPECT_EQ(r.headers.at("content-type"), "application/json");
  EXPECT_EQ(r.headers.count("authorization"), 0u);
  // The call the README documents for one upsell purchase.
  Json expected = {{"name", "ThriveCart purchase"},
                   {"user", {{"email", "ann@example.com"}, {"firstName", "Ann"}, {"lastName", "Lee"}}},
                   {"properties", {{"item_type", "upsell"}, {"item_id", 13}, {"item_reference", "upsell-13"},
                                   {"amount", 4995}, {"amount_str", "49.95"}, {"order_id", 1514394},
                                   {"currency", "USD"}}}};
  EXPECT_EQ(body, expected) << body.dump(2);
}

TEST_F(TrackEvent, OrderUsesTheOrderTotal) {
  Json event = tc_order();
  event["item"]["amount"] = 4995;  // the front-end item alone; the order is worth more
  event["item"]["amount_str"] = "49.95";
  Json body = send(event);
  EXPECT_EQ(body["name"], "ThriveCart order");
  EXPECT_EQ(body["properties"]["item_type"], "product");
  EXPECT_EQ(body["properties"]["item_id"], 12);
  EXPECT_EQ(body["properties"]["item_reference"], "product-12");
  EXPECT_EQ(body["properties"]["amount"], 9990);
  EXPECT_EQ(body["properties"]["amount_str"], "99.90");
}

TEST_F(TrackEvent, RebillIsNamedRebillWithTheChargedAmount) {
  Json body = send(tc_rebill());
  EXPECT_EQ(body["name"], "ThriveCart rebill");
  Json p = body["properties"];
  EXPECT_EQ(p["item_type"], "product");
  EXPECT_EQ(p["item_id"], 12);
  EXPECT_EQ(p["item_reference"], "product-12");
  EXPECT_EQ(p["amount"], 2900);
  EXPECT_EQ(p["amount_str"], "29.00");
  EXPECT_EQ(p["subscription_id"], "sub_1514394");
}

TEST_F(TrackEvent, RebillWithoutItemFallsBackToTheSubscription) {
  Json event = tc_rebill();
  event.erase("item");
  Json p = send(event)["properties"];
  EXPECT_EQ(p["item_type"], "product");
  EXPECT_EQ(p["item_id"], 12);
  EXPECT_EQ(p["item_reference"], "product-12");
  EXPECT_EQ(p["amount"], 2900);
  EXPECT_EQ(p["amount_str"], "29.00");
}

TEST_F(TrackEvent, PartialRefundCarriesTheRefundedCents) {
  Json event = tc_refund(true);
  event["item"]["amount"] = 4995;  // even when the item shows what was charged
  Json body = send(event);
  EXPECT_EQ(body["name"], "ThriveCart refund");
  EXPECT_EQ(body["properties"]["amount"], 2000);
  EXPECT_EQ(body["properties"]["amount_str"], "20.00");
  EXPECT_EQ(body["properties"]["item_reference"], "product-12");
  EXPECT_EQ(body["properties"]["partial"], true);
}

TEST_F(TrackEvent, FullRefundIsAlsoThriveCartRefund) {
  Json body = send(tc_refund(false));
  EXPECT_EQ(body["name"], "ThriveCart refund");
  EXPECT_EQ(body["properties"]["amount"], 4995);
  EXPECT_EQ(body["properties"]["partial"], false);
}

TEST_F(TrackEvent, RefundAmountStringIsDerivedWhenOnlyCentsArrive) {
  Json event = tc_refund(true);
  event["refund"] = {{"amount", 705}, {"item_reference", "bump-3"}};
  event.erase("item");
  Json p = send(event)["properties"];
  EXPECT_EQ(p["amount"], 705);
  EXPECT_EQ(p["amount_str"], "7.05");
  EXPECT_EQ(p["item_type"], "bump");
  EXPECT_EQ(p["item_id"], 3);
}

TEST_F(TrackEvent, APartialRefundOfUnknownAmountSendsNoAmount) {
  // SamCart's PartialRefund post may carry no refunded amount; its item shows
  // what the product was bought for, which is not what went back.
  Json event = samcart_purchase();
  event["type"] = "product.partially_refunded";
  event["source_type"] = "PartialRefund";
  event["refund"] = {{"amount_unknown", true}, {"item_reference", "product-5"}};
  Json p = send(event)["properties"];
  EXPECT_FALSE(p.contains("amount")) << p.dump();
  EXPECT_FALSE(p.contains("amount_str")) << p.dump();
  EXPECT_EQ(p["item_reference"], "product-5");
  EXPECT_EQ(p["partial"], true);
}

TEST_F(TrackEvent, AFullRefundWithoutARefundAmountIsTheItemsCharge) {
  Json event = samcart_purchase();
  event["type"] = "product.refunded";
  Json p = send(event)["properties"];
  EXPECT_EQ(p["amount"], 1000);
  EXPECT_EQ(p["partial"], false);
}

TEST_F(TrackEvent, ThriveCartNamesIgnoreTheNameParameter) {
  Json body = send(tc_purchase(), {{"name", "Cart product.purchased"}});
  EXPECT_EQ(body["name"], "ThriveCart purchase");
}

TEST_F(TrackEvent, ImportedThriveCartEventsAreRecognisedByTheirKeys) {
  Json event = tc_purchase();
  event["source_type"] = "csv.orders";
  EXPECT_EQ(send(event)["name"], "ThriveCart purchase");
}

TEST_F(TrackEvent, OtherEventsUseTheRenderedNameParameter) {
  Json body = send(samcart_purchase(), {{"name", "Cart product.purchased"}});
  EXPECT_EQ(body["name"], "Cart product.purchased");
  EXPECT_EQ(body["properties"]["item_reference"], "product-5");
  EXPECT_EQ(body["properties"]["amount"], 1000);
  EXPECT_EQ(body["properties"]["currency"], "EUR");
}

TEST_F(TrackEvent, OtherEventsDefaultToTheCanonicalType) {
  EXPECT_EQ(send(samcart_purchase())["name"], "product.purchased");
}

TEST_F(TrackEvent, ThriveCartEventsOutsideTheFourUseTheNameParameter) {
  Json event = base("subscription.canceled", "order.subscription_cancelled", "tc:acme:cancel:sub_1");
  event["subscription"] = {{"id", "sub_1"}, {"item_reference", "product-12"}};
  Json body = send(event, {{"name", "Cart subscription.canceled"}});
  EXPECT_EQ(body["name"], "Cart subscription.canceled");
  EXPECT_EQ(body["properties"]["item_reference"], "product-12");
  EXPECT_EQ(body["properties"]["subscription_id"], "sub_1");
  EXPECT_FALSE(body["properties"].contains("amount"));
}

TEST_F(TrackEvent, BlankNameFallsBackToType) {
  EXPECT_EQ(send(samcart_purchase(), {{"name", "  "}})["name"], "product.purchased");
}

TEST_F(TrackEvent, PropertiesParameterIsMergedOverDerivedOnes) {
  Json body = send(tc_purchase(), {{"properties", {{"campaign", "spring"}, {"currency", "EUR"}, {"nested", {{"a", 1}}}}}});
  Json p = body["properties"];
  EXPECT_EQ(p["campaign"], "spring");
  EXPECT_EQ(p["currency"], "EUR");
  EXPECT_EQ(p["nested"]["a"], 1);
  EXPECT_EQ(p["item_reference"], "upsell-13");
}

TEST_F(TrackEvent, TagsBecomeOneCommaSeparatedString) {
  EXPECT_EQ(send(tc_purchase(), {{"tags", "buyer, course-a ,"}})["user"]["tags"], "buyer,course-a");
}

TEST_F(TrackEvent, TagListIsJoined) {
  EXPECT_EQ(send(tc_purchase(), {{"tags", {"buyer", "vip, gold"}}})["user"]["tags"], "buyer,vip,gold");
}

TEST_F(TrackEvent, FieldMappingSetsPersonFieldsButNeverTheEmail) {
  Json fields = {{"phone", "+1 555 0100"}, {"company", "Acme"}, {"firstName", "Annie"},
                 {"email", "other@example.com"}, {"plan", nullptr}, {"city", ""}, {"seats", 5}};
  Json user = send(tc_purchase(), Json::object(), fields)["user"];
  EXPECT_EQ(user, (Json{{"email", "ann@example.com"}, {"firstName", "Annie"}, {"lastName", "Lee"},
                        {"phone", "+1 555 0100"}, {"company", "Acme"}, {"seats", 5}}))
      << user.dump();
}

TEST_F(TrackEvent, NoNamesWhenTheCustomerHasNone) {
  Json event = samcart_purchase();
  event["customer"] = {{"email", " bob@example.com "}};
  EXPECT_EQ(send(event)["user"], (Json{{"email", "bob@example.com"}}));
}

class TrackEventRefusals : public EnchargeTest {
 protected:
  Result run(const Json &event, const Json &params) {
    auto c = harness.create(settings());
    return c.action("track_event", params, event);
  }
  void TearDown() override { EXPECT_TRUE(harness.requests().empty()) << "a refused action must not call Encharge"; }
};

TEST_F(TrackEventRefusals, NoEmail) {
  Json event = tc_purchase();
  event["customer"].erase("email");
  Result r = run(event, Json::object());
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_NE(r.message.find("customer.email"), std::string::npos) << r.message;
}

TEST_F(TrackEventRefusals, EmailWithoutAt) {
  Json event = tc_purchase();
  event["customer"]["email"] = "ann";
  EXPECT_EQ(run(event, Json::object()).outcome, Outcome::permanent);
}

TEST_F(TrackEventRefusals, PropertiesNotAnObject) {
  Result r = run(tc_purchase(), {{"properties", "campaign=spring"}});
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_NE(r.message.find("'properties' must be an object"), std::string::npos) << r.message;
}

TEST_F(TrackEventRefusals, NameNotText) {
  Result r = run(samcart_purchase(), {{"name", 12}});
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_NE(r.message.find("'name' must be a string"), std::string::npos) << r.message;
}

TEST_F(TrackEventRefusals, TagsOfTheWrongType) {
  EXPECT_EQ(run(tc_purchase(), {{"tags", 5}}).outcome, Outcome::permanent);
  Result r = run(tc_purchase(), {{"tags", {"ok", 7}}});
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_NE(r.message.find("tags must be strings"), std::string::npos) << r.message;
}

TEST_F(TrackEventRefusals, IdentifyIsReserved) {
  Result r = run(samcart_purchase(), {{"name", "identify"}});
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_NE(r.message.find("upsert_person"), std::string::npos) << r.message;
}

TEST_F(TrackEventRefusals, NoTypeAndNoName) {
  Json event = samcart_purchase();
  event.erase("type");
  EXPECT_EQ(run(event, Json::object()).outcome, Outcome::permanent);
}

}  // namespace
}  // namespace encharge_test
