// Rebills, failures, cancellations, refunds and unknown events.
#include "fixtures.hpp"

namespace thrivecart_test {
namespace {

using Lifecycle = ConnectorTest;

const Json kUpsellItem = {{"type", "upsell"},     {"id", "101"},   {"reference", "upsell-101"},
                          {"name", "Coaching"}, {"amount", 2500}, {"amount_str", "25.00"}};

TEST_F(Lifecycle, SubscriptionPaymentIsACharge) {
  Json event = accept(subscription_event("order.subscription_payment"), 1)[0];
  EXPECT_EQ(event["type"], "subscription.charged");
  EXPECT_EQ(event["source_type"], "order.subscription_payment");
  EXPECT_EQ(event["dedupe_key"], "tc:acme:rebill:1514394:000000005");
  EXPECT_EQ(event["occurred_at"], "2026-02-15T10:00:00Z");
  EXPECT_EQ(event["mode"], "live");
  EXPECT_EQ(event["item"], kUpsellItem);
  EXPECT_EQ(event["subscription"], Json({{"id", "sub_1"},
                                         {"item_reference", "upsell-101"},
                                         {"amount", 2500},
                                         {"amount_str", "25.00"},
                                         {"frequency", "month"},
                                         {"remaining_rebills", 3}}));
  EXPECT_EQ(event["order"], Json({{"id", "1514394"}, {"invoice_id", "000000005"}, {"currency", "USD"}}));
  EXPECT_EQ(event["customer"]["email"], "ann@example.com");
  EXPECT_FALSE(event["raw"].contains("thrivecart_secret"));
  EXPECT_EQ(event["raw"]["subscription"]["billing_period_end"], "1773828000");
}

TEST_F(Lifecycle, RebillIsDatedByItsOwnDateNotTheOrders) {
  Form form = with(subscription_event("order.subscription_payment"),
                   {{"order_timestamp", "1768471200"}, {"order[date_unix]", "1768471200"}});
  EXPECT_EQ(accept(form, 1)[0]["occurred_at"], "2026-02-15T10:00:00Z");
  form = without(without(form, "date_unix"), "order_timestamp");
  EXPECT_EQ(accept(form, 1)[0]["occurred_at"], "2026-02-15T10:00:00Z");  // from date_iso8601
}

TEST_F(Lifecycle, RebillWithoutInvoiceFallsBackToSubscriptionAndDate) {
  Form form = without(without(subscription_event("order.subscription_payment"), "invoice_id"), "subscription[invoice_id]");
  EXPECT_EQ(accept(form, 1)[0]["dedupe_key"], "tc:acme:rebill:sub_1:1771149600");
}

TEST_F(Lifecycle, RebillInvoiceMayComeFromTheSubscriptionObject) {
  Form form = without(subscription_event("order.subscription_payment"), "invoice_id");
  EXPECT_EQ(accept(form, 1)[0]["dedupe_key"], "tc:acme:rebill:1514394:000000005");
}

TEST_F(Lifecycle, UnlimitedSubscriptionHasNullRemainingRebills) {
  Json event = accept(with(subscription_event("order.subscription_payment"), {{"subscription[remaining_rebills]", "null"}}), 1)[0];
  ASSERT_TRUE(event["subscription"].contains("remaining_rebills"));
  EXPECT_TRUE(event["subscription"]["remaining_rebills"].is_null());
}

TEST_F(Lifecycle, TheLastRebillOfALimitedSubscriptionAlsoCompletesIt) {
  // ThriveCart has no account webhook for it: remaining_rebills reaching 0 on
  // a payment says the payment plan is paid off. The key is the import's.
  std::vector<Json> events =
      accept(with(subscription_event("order.subscription_payment"), {{"subscription[remaining_rebills]", "0"}}), 2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["type"], "subscription.charged");
  EXPECT_EQ(events[0]["dedupe_key"], "tc:acme:rebill:1514394:000000005");
  EXPECT_EQ(events[1]["type"], "subscription.completed");
  EXPECT_EQ(events[1]["source_type"], "order.subscription_payment");
  EXPECT_EQ(events[1]["dedupe_key"], "tc:acme:completed:sub_1");
  EXPECT_EQ(events[1]["occurred_at"], "2026-02-15T10:00:00Z");
  EXPECT_EQ(events[1]["item"], kUpsellItem);
  EXPECT_EQ(events[1]["subscription"]["remaining_rebills"], 0);
}

TEST_F(Lifecycle, ARebillWithRebillsLeftOrNoEndCompletesNothing) {
  accept(subscription_event("order.subscription_payment"), 1);
  accept(with(subscription_event("order.subscription_payment"), {{"subscription[remaining_rebills]", "null"}}), 1);
  accept(with(subscription_event("order.rebill_failed"), {{"subscription[remaining_rebills]", "0"}}), 1);
}

TEST_F(Lifecycle, CancellationIsKeyedBySubscription) {
  Json event = accept(subscription_event("order.subscription_cancelled"), 1)[0];
  EXPECT_EQ(event["type"], "subscription.canceled");
  EXPECT_EQ(event["source_type"], "order.subscription_cancelled");
  EXPECT_EQ(event["dedupe_key"], "tc:acme:cancel:sub_1");
  EXPECT_EQ(event["item"], kUpsellItem);
  EXPECT_EQ(event["subscription"]["id"], "sub_1");
}

TEST_F(Lifecycle, FailedRebillIsAChargeFailure) {
  Json event = accept(subscription_event("order.rebill_failed"), 1)[0];
  EXPECT_EQ(event["type"], "subscription.charge_failed");
  EXPECT_EQ(event["dedupe_key"], "tc:acme:rebill_failed:sub_1:1771149600");
  EXPECT_EQ(event["item"]["reference"], "upsell-101");
  EXPECT_EQ(event["occurred_at"], "2026-02-15T10:00:00Z");
}

TEST_F(Lifecycle, FullRefund) {
  Json event = accept(refund_event("4995"), 1)[0];
  EXPECT_EQ(event["type"], "product.refunded");
  EXPECT_EQ(event["source_type"], "order.refund");
  EXPECT_EQ(event["dedupe_key"], "tc:acme:refund:1514394:product-12:4995:1768899600");
  EXPECT_EQ(event["occurred_at"], "2026-01-20T09:00:00Z");
  EXPECT_EQ(event["refund"], Json({{"amount", 4995}, {"amount_str", "49.95"}, {"item_reference", "product-12"}}));
  EXPECT_EQ(event["item"], Json({{"type", "product"},
                                 {"id", "12"},
                                 {"reference", "product-12"},
                                 {"name", "Course"},
                                 {"amount", 4995},
                                 {"amount_str", "49.95"}}));
}

TEST_F(Lifecycle, PartialRefund) {
  Json event = accept(refund_event("2000"), 1)[0];
  EXPECT_EQ(event["type"], "product.partially_refunded");
  EXPECT_EQ(event["dedupe_key"], "tc:acme:refund:1514394:product-12:2000:1768899600");
  EXPECT_EQ(event["refund"], Json({{"amount", 2000}, {"amount_str", "20.00"}, {"item_reference", "product-12"}}));
  EXPECT_EQ(event["item"]["amount"], 2000);
}

TEST_F(Lifecycle, RefundOfAnotherItemIsNotComparedWithThisCharge) {
  Json event = accept(with(refund_event("2000"), {{"refund[type]", "upsell"}, {"refund[id]", "13"}}), 1)[0];
  EXPECT_EQ(event["type"], "product.refunded");
  EXPECT_EQ(event["refund"]["item_reference"], "upsell-13");
}

TEST_F(Lifecycle, RefundWithoutTheOriginalChargeIsLeftForTheHubToVerify) {
  Json event = accept(refund_event("2000", /*with_charges=*/false), 1)[0];
  EXPECT_EQ(event["type"], "product.refunded");
  EXPECT_EQ(event["refund"], Json({{"amount", 2000}, {"amount_str", "20.00"}, {"item_reference", "product-12"},
                                   {"unverified", true}}));
  EXPECT_EQ(event["item"]["amount"], 2000);
  EXPECT_FALSE(event["item"].contains("name"));
}

TEST_F(Lifecycle, UnknownEventsAreKeptNamespaced) {
  for (const char *name : {"order.subscription_paused", "order.subscription_resumed", "cart.abandoned",
                           "affiliate.commission_earned", "something.new"}) {
    Json event = accept(subscription_event(name), 1)[0];
    EXPECT_EQ(event["type"], std::string("thrivecart.") + name);
    EXPECT_EQ(event["source_type"], name);
    std::string key = event["dedupe_key"];
    EXPECT_EQ(key.rfind(std::string("tc:acme:") + name + ":h", 0), 0u) << key;
    EXPECT_EQ(event["customer"]["email"], "ann@example.com");
    EXPECT_EQ(event["subscription"]["id"], "sub_1");
    EXPECT_FALSE(event["raw"].contains("thrivecart_secret"));
  }
}

TEST_F(Lifecycle, UnknownEventKeysAreStableAndDistinct) {
  Form form = {{"event", "affiliate.commission_earned"}, {"thrivecart_account", "acme"}, {"thrivecart_secret", kSecret},
               {"affiliate[id]", "7"}, {"commission", "1500"}};
  std::string first = accept(form, 1)[0]["dedupe_key"];
  harness_.set_now_ms(1900000000000);
  EXPECT_EQ(accept(form, 1)[0]["dedupe_key"], first);
  EXPECT_NE(accept(with(form, {{"commission", "1600"}}), 1)[0]["dedupe_key"], first);
  Json event = accept(form, 1)[0];
  EXPECT_EQ(event["mode"], "live");
  EXPECT_EQ(event["occurred_at"], "2030-03-17T17:46:40Z");  // no date in the payload: the host clock
  EXPECT_FALSE(event.contains("customer"));
  EXPECT_FALSE(event.contains("order"));
}

}  // namespace
}  // namespace thrivecart_test
