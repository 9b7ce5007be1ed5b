// Names outside SamCart's documented list, and the alternative envelope.
#include <cartwire/sdk/event.hpp>

#include "support.hpp"

namespace samcart_test {
namespace {

using OtherEvents = ConnectorTest;

TEST_F(OtherEvents, UnknownTypesAreKeptUnderTheirOwnName) {
  for (auto [type, words] : {std::pair{"CheckoutFailed", "checkout_failed"},
                             std::pair{"ProspectCreated", "prospect_created"},
                             std::pair{"ScheduledSubscriptionCancellation", "scheduled_subscription_cancellation"}}) {
    Json payload = classic(type);
    Json event = one(payload);
    EXPECT_EQ(event["type"], std::string("samcart.") + words);
    EXPECT_EQ(event["source_type"], type);
    std::string key = event["dedupe_key"];
    EXPECT_EQ(key.rfind(std::string("sc:") + words + ":h", 0), 0u) << key;
    EXPECT_EQ(event["customer"]["email"], "ann@example.com");
    EXPECT_EQ(event["order"]["id"], "19026152");
    EXPECT_FALSE(event.contains("item"));
    payload.erase("api_key");
    EXPECT_EQ(event["raw"], payload);
  }
}

// Whatever SamCart names it, the type is one rules, the admin API's test
// events and the json connector all take (docs/events.md).
TEST_F(OtherEvents, AnUnknownNameBecomesAnEventType) {
  for (auto [type, stored] : {std::pair{"Checkout Failed", "samcart.checkout_failed"},
                              std::pair{"Subscription2Renewed", "samcart.subscription2_renewed"},
                              std::pair{".prospect..created.", "samcart.prospect.created"},
                              std::pair{"???", "samcart.___"}, std::pair{"..", "samcart.unknown"}}) {
    Json event = one(classic(type));
    EXPECT_EQ(event["type"], stored) << type;
    EXPECT_EQ(event["source_type"], type);
    EXPECT_EQ(cartwire::sdk::event_problem(event), "") << type;
  }
  Json event = one(classic(std::string(300, 'A')));
  EXPECT_EQ(event["type"], "samcart." + std::string(92, 'a'));
  EXPECT_EQ(cartwire::sdk::event_problem(event), "");
}

TEST_F(OtherEvents, APostWithoutANameIsKeptToo) {
  Json event = one({{"customer", customer()}});
  EXPECT_EQ(event["type"], "samcart.unknown");
  EXPECT_EQ(event["source_type"], "");
  EXPECT_EQ(event["customer"]["email"], "ann@example.com");
}

TEST_F(OtherEvents, DifferentBodiesOfAnUnknownTypeAreDifferentFacts) {
  Json a = {{"type", "ProspectCreated"}, {"customer", customer()}};
  Json b = a;
  b["customer"]["email"] = "bob@example.com";
  EXPECT_NE(one(a)["dedupe_key"], one(b)["dedupe_key"]);
  EXPECT_EQ(one(a)["dedupe_key"], one(a)["dedupe_key"]);
}

/** §4 "Alternative envelope", every key it lists. */
Json alternative(const std::string &event_type) {
  return {{"event_type", event_type},
          {"data",
           {{"order_id", 19026152},
            {"customer", {{"email", "ann@example.com"}, {"first_name", "Ann"}, {"last_name", "Lee"}}},
            {"products", Json::array({{{"id", 910707}, {"name", "Course"}, {"price", "49.95"}, {"quantity", 1},
                                       {"upgraded", false}},
                                      {{"id", 910708}, {"name", "Workbook"}, {"price", 19}, {"quantity", 1},
                                       {"upgraded", true}}})},
            {"order_total", "$68.95"},
            {"currency", "USD"},
            {"test_order", false}}}};
}

TEST_F(OtherEvents, AlternativeEnvelopeOrderCompleted) {
  auto events = accept(alternative("order.completed"), 3);
  EXPECT_EQ(events[0]["type"], "order.completed");
  EXPECT_EQ(events[0]["source_type"], "order.completed");
  EXPECT_EQ(events[0]["dedupe_key"], "sc:order:19026152");
  EXPECT_EQ(events[0]["order"], Json({{"id", "19026152"}, {"currency", "USD"}, {"total", 6895}, {"total_str", "68.95"}}));
  EXPECT_EQ(events[0]["customer"], Json({{"email", "ann@example.com"}, {"first_name", "Ann"}, {"last_name", "Lee"},
                                         {"name", "Ann Lee"}}));
  EXPECT_EQ(events[0]["mode"], "live");
  EXPECT_EQ(events[1]["type"], "product.purchased");
  EXPECT_EQ(events[1]["dedupe_key"], "sc:order:19026152:product:910707");
  EXPECT_EQ(events[1]["item"]["amount"], 4995);
  EXPECT_EQ(events[2]["dedupe_key"], "sc:order:19026152:product:910708");
  EXPECT_EQ(events[2]["item"]["amount_str"], "19.00");
  EXPECT_EQ(events[2]["raw"]["data"]["products"][1]["upgraded"], true);
}

TEST_F(OtherEvents, AlternativeEnvelopeSharesKeysWithTheClassicOne) {
  auto classic_events = accept(classic("Order"), 2);
  auto alternative_events = accept(alternative("order.completed"), 3);
  EXPECT_EQ(classic_events[0]["dedupe_key"], alternative_events[0]["dedupe_key"]);
  EXPECT_EQ(classic_events[1]["dedupe_key"], alternative_events[1]["dedupe_key"]);
}

TEST_F(OtherEvents, AlternativeEnvelopeOtherNames) {
  Json payload = alternative("order.refunded");
  auto refunds = accept(payload, 2);
  EXPECT_EQ(refunds[0]["type"], "product.refunded");
  EXPECT_EQ(refunds[0]["refund"]["amount"], 4995);
  EXPECT_EQ(refunds[1]["refund"]["amount"], 1900);

  payload = alternative("subscription.charged");
  payload["data"]["subscription_id"] = "5521";
  payload["data"]["transaction_id"] = "ch_alt";
  Json charged = one(payload);
  EXPECT_EQ(charged["type"], "subscription.charged");
  EXPECT_EQ(charged["dedupe_key"], "sc:charge:ch_alt");
  EXPECT_EQ(charged["subscription"]["id"], "5521");

  payload = alternative("charge.failed");
  payload["data"]["subscription_id"] = 5521;
  EXPECT_EQ(one(payload)["type"], "subscription.charge_failed");

  Json other = one(alternative("customer.updated"));
  EXPECT_EQ(other["type"], "samcart.customer.updated");
}

TEST_F(OtherEvents, AlternativeEnvelopeTestOrder) {
  Json payload = alternative("order.completed");
  payload["data"]["test_order"] = true;
  for (const Json &event : accept(payload, 3)) EXPECT_EQ(event["mode"], "test");
}

}  // namespace
}  // namespace samcart_test
