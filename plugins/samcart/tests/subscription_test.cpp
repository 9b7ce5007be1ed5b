// The seven subscription triggers.
#include "support.hpp"

namespace samcart_test {
namespace {

using Subscription = ConnectorTest;

const Json kMembership = {{"type", "product"},   {"id", "910800"}, {"reference", "product-910800"},
                          {"name", "Membership"}, {"amount", 2900}, {"amount_str", "29.00"}};
const Json kSubscription = {{"id", "5521"}, {"item_reference", "product-910800"}, {"amount", 2900},
                            {"amount_str", "29.00"}};

void expect_common(const Json &event, const std::string &source_type) {
  EXPECT_EQ(event["source_type"], source_type);
  EXPECT_EQ(event["item"], kMembership) << source_type;
  EXPECT_EQ(event["subscription"], kSubscription) << source_type;
  EXPECT_EQ(event["order"]["id"], "19026152") << source_type;
  EXPECT_EQ(event["customer"]["email"], "ann@example.com") << source_type;
  EXPECT_EQ(event["mode"], "live");
  // order.created_at is the order's date, not this event's: the hub's clock dates it.
  EXPECT_EQ(event["occurred_at"], kNow) << source_type;
  EXPECT_EQ(event["raw"]["type"], source_type);
}

TEST_F(Subscription, ChargedIsKeyedByTheProductTransaction) {
  Json event = one(subscription_post("RecurringPaymentSucceeded"));
  EXPECT_EQ(event["type"], "subscription.charged");
  EXPECT_EQ(event["dedupe_key"], "sc:charge:ch_3Rebill");
  expect_common(event, "RecurringPaymentSucceeded");
}

TEST_F(Subscription, ChargedFallsBackToTheOrderTransactionThenTheDay) {
  Json payload = subscription_post("RecurringPaymentSucceeded");
  payload["product"]["transaction_id"] = nullptr;
  payload["order"]["transaction_id"] = Json::array({"ch_order_1", "ch_order_2"});
  EXPECT_EQ(one(payload)["dedupe_key"], "sc:charge:ch_order_1");
  payload["order"]["transaction_id"] = "ch_order_3";
  EXPECT_EQ(one(payload)["dedupe_key"], "sc:charge:ch_order_3");
  payload["order"].erase("transaction_id");
  EXPECT_EQ(one(payload)["dedupe_key"], std::string("sc:charge:5521:") + kToday);
}

TEST_F(Subscription, ChargeWithoutAProductPriceTakesTheOrderTotal) {
  Json payload = subscription_post("RecurringPaymentSucceeded");
  payload["product"]["price"] = nullptr;
  payload["order"]["total"] = "29.00";
  Json event = one(payload);
  EXPECT_EQ(event["item"]["amount"], 2900);
  EXPECT_EQ(event["item"]["amount_str"], "29.00");
}

TEST_F(Subscription, ChargeFailed) {
  Json event = one(subscription_post("RecurringPaymentFailed"));
  EXPECT_EQ(event["type"], "subscription.charge_failed");
  EXPECT_EQ(event["dedupe_key"], std::string("sc:failed:5521:") + kToday);
  expect_common(event, "RecurringPaymentFailed");
}

TEST_F(Subscription, Delinquent) {
  Json event = one(subscription_post("SubscriptionDelinquent"));
  EXPECT_EQ(event["type"], "subscription.delinquent");
  EXPECT_EQ(event["dedupe_key"], std::string("sc:delinquent:5521:") + kToday);
  expect_common(event, "SubscriptionDelinquent");
}

TEST_F(Subscription, RecoveredUnderEitherObservedName) {
  for (const char *type : {"SubscriptionRecovered", "RecurringPaymentRecovered"}) {
    Json event = one(subscription_post(type));
    EXPECT_EQ(event["type"], "subscription.recovered") << type;
    EXPECT_EQ(event["dedupe_key"], std::string("sc:recovered:5521:") + kToday) << type;
    expect_common(event, type);
  }
}

TEST_F(Subscription, Canceled) {
  Json event = one(subscription_post("Cancel"));
  EXPECT_EQ(event["type"], "subscription.canceled");
  EXPECT_EQ(event["dedupe_key"], std::string("sc:canceled:5521:") + kToday);
  expect_common(event, "Cancel");
}

TEST_F(Subscription, Restarted) {
  Json event = one(subscription_post("SubscriptionRestarted"));
  EXPECT_EQ(event["type"], "subscription.restarted");
  EXPECT_EQ(event["dedupe_key"], std::string("sc:restarted:5521:") + kToday);
  expect_common(event, "SubscriptionRestarted");
}

TEST_F(Subscription, CompletedOncePerSubscription) {
  Json event = one(subscription_post("SubscriptionCompleted"));
  EXPECT_EQ(event["type"], "subscription.completed");
  EXPECT_EQ(event["dedupe_key"], "sc:completed:5521");
  expect_common(event, "SubscriptionCompleted");
}

TEST_F(Subscription, NamesAreMatchedWhateverTheirCase) {
  Json event = one(subscription_post("recurringpaymentsucceeded"));
  EXPECT_EQ(event["type"], "subscription.charged");
  EXPECT_EQ(event["source_type"], "recurringpaymentsucceeded");
}

TEST_F(Subscription, CancelThenRestartThenCancelAgainOnALaterDayAreThreeFacts) {
  std::set<std::string> keys;
  keys.insert(one(subscription_post("Cancel"))["dedupe_key"]);
  keys.insert(one(subscription_post("SubscriptionRestarted"))["dedupe_key"]);
  harness_.set_now_ms(1768471200000 + 3 * 86400000LL);
  keys.insert(one(subscription_post("Cancel"))["dedupe_key"]);
  EXPECT_EQ(keys, (std::set<std::string>{"sc:canceled:5521:2026-01-15", "sc:restarted:5521:2026-01-15",
                                         "sc:canceled:5521:2026-01-18"}));
}

TEST_F(Subscription, MissingSubscriptionIdFallsBackToThePayload) {
  Json payload = subscription_post("Cancel");
  payload["order"]["subscription_id"] = nullptr;
  Json event = one(payload);
  EXPECT_FALSE(event.contains("subscription"));
  std::string key = event["dedupe_key"];
  EXPECT_EQ(key.rfind("sc:canceled:h", 0), 0u) << key;
  EXPECT_EQ(one(payload)["dedupe_key"], key);
}

}  // namespace
}  // namespace samcart_test
