// Re-deliveries of the same fact carry the same dedupe_key (docs/events.md).
#include "support.hpp"

namespace samcart_test {
namespace {

using Dedupe = ConnectorTest;

std::vector<std::string> keys_of(const std::vector<Json> &events) {
  std::vector<std::string> keys;
  for (const Json &event : events) keys.push_back(event["dedupe_key"]);
  return keys;
}

TEST_F(Dedupe, EveryTriggerIsStableAcrossARedelivery) {
  Json partial = refund_post("PartialRefund");
  partial["refund_transaction_id"] = "re_3Npartial";
  partial["refund_amount"] = "10.00";
  std::vector<Json> payloads = {classic("Order"),
                                refund_post("Refund"),
                                partial,
                                subscription_post("RecurringPaymentSucceeded"),
                                subscription_post("RecurringPaymentFailed"),
                                subscription_post("SubscriptionDelinquent"),
                                subscription_post("SubscriptionRecovered"),
                                subscription_post("RecurringPaymentRecovered"),
                                subscription_post("Cancel"),
                                subscription_post("SubscriptionRestarted"),
                                subscription_post("SubscriptionCompleted"),
                                classic("CheckoutFailed")};
  std::set<std::string> all;
  for (const Json &payload : payloads) {
    WebhookReply first = send(post(payload));
    // The same body again, later the same day, through the other token form and with keys reordered.
    harness_.set_now_ms(1768471200000 + 3600000);
    Json reordered = Json::parse(payload.dump(2));
    WebhookReply again = send(post_query(reordered));
    harness_.set_now_ms(1768471200000);
    ASSERT_FALSE(first.events.empty()) << payload["type"];
    EXPECT_EQ(keys_of(first.events), keys_of(again.events)) << payload["type"];
    for (auto &key : keys_of(first.events)) all.insert(key);
  }
  // Recovered under both names is one fact; everything else is distinct
  // (the Order post gives two keys: the order and its product).
  EXPECT_EQ(all.size(), 12u);
}

TEST_F(Dedupe, RedeliveryWithNumbersAsTextKeepsTheKeys) {
  Json payload = classic("Order");
  auto first = keys_of(accept(payload, 2));
  payload["order"]["id"] = "19026152";
  payload["product"]["id"] = "910707";
  EXPECT_EQ(keys_of(accept(payload, 2)), first);
}

TEST_F(Dedupe, TwoRebillsOfOneSubscriptionAreTwoFacts) {
  Json first = subscription_post("RecurringPaymentSucceeded");
  Json second = first;
  second["product"]["transaction_id"] = "ch_3Rebill2";
  second["order"]["transaction_id"] = Json::array({"ch_3Rebill2"});
  EXPECT_NE(one(first)["dedupe_key"], one(second)["dedupe_key"]);
}

TEST_F(Dedupe, FailuresOnDifferentDaysAreDifferentFacts) {
  std::string day1 = one(subscription_post("RecurringPaymentFailed"))["dedupe_key"];
  harness_.set_now_ms(1768471200000 + 2 * 86400000LL);
  std::string day3 = one(subscription_post("RecurringPaymentFailed"))["dedupe_key"];
  EXPECT_EQ(day1, "sc:failed:5521:2026-01-15");
  EXPECT_EQ(day3, "sc:failed:5521:2026-01-17");
}

}  // namespace
}  // namespace samcart_test
