// Product Refunded / Product Partially Refunded.
#include "support.hpp"

namespace samcart_test {
namespace {

using Refund = ConnectorTest;

const Json kCourse = {{"type", "product"}, {"id", "910707"}, {"reference", "product-910707"},
                      {"name", "Course"},  {"amount", 4995}, {"amount_str", "49.95"}};

TEST_F(Refund, FullRefundReturnsTheProductPrice) {
  Json event = one(refund_post("Refund"));
  EXPECT_EQ(event["type"], "product.refunded");
  EXPECT_EQ(event["source_type"], "Refund");
  EXPECT_EQ(event["dedupe_key"], "sc:refund:re_3Nxyz");
  EXPECT_EQ(event["occurred_at"], kNow);
  EXPECT_EQ(event["item"], kCourse);
  EXPECT_EQ(event["refund"], Json({{"amount", 4995}, {"amount_str", "49.95"}, {"item_reference", "product-910707"}}));
  EXPECT_EQ(event["order"]["id"], "19026152");
  EXPECT_EQ(event["customer"]["email"], "ann@example.com");
  EXPECT_EQ(event["raw"]["refund_transaction_id"], "re_3Nxyz");
  EXPECT_TRUE(harness_.logs().empty());
}

TEST_F(Refund, PartialRefundWithAnAmount) {
  for (const char *where : {"top", "order", "product"}) {
    for (const char *key : {"refund_amount", "refunded_amount", "amount_refunded"}) {
      Json payload = refund_post("PartialRefund");
      Json &target = std::string(where) == "top" ? payload : payload[where];
      target[key] = "20.00";
      Json event = one(payload);
      EXPECT_EQ(event["type"], "product.partially_refunded") << where << "." << key;
      EXPECT_EQ(event["source_type"], "PartialRefund");
      EXPECT_EQ(event["dedupe_key"], "sc:refund:re_3Nxyz");
      EXPECT_EQ(event["item"], kCourse);
      EXPECT_EQ(event["refund"], Json({{"amount", 2000}, {"amount_str", "20.00"}, {"item_reference", "product-910707"}}))
          << where << "." << key;
    }
  }
  EXPECT_TRUE(harness_.logs().empty());
}

TEST_F(Refund, PartialRefundWithoutAnAmountIsFlagged) {
  Json event = one(refund_post("PartialRefund"));
  EXPECT_EQ(event["type"], "product.partially_refunded");
  EXPECT_EQ(event["refund"], Json({{"amount_unknown", true}, {"item_reference", "product-910707"}}));
  ASSERT_EQ(harness_.logs().size(), 1u);
  EXPECT_NE(harness_.logs()[0].message.find("carries no refunded amount"), std::string::npos)
      << harness_.logs()[0].message;
  EXPECT_EQ(harness_.logs()[0].level, CW_LOG_WARNING);
}

TEST_F(Refund, FullRefundWithAnExplicitAmountUsesIt) {
  Json payload = refund_post("Refund");
  payload["refund_amount"] = "1,299.00";
  EXPECT_EQ(one(payload)["refund"]["amount"], 129900);
}

TEST_F(Refund, WithoutARefundTransactionTheKeyIsOrderProductAndKind) {
  Json payload = classic("Refund");
  EXPECT_EQ(one(payload)["dedupe_key"], "sc:refund:19026152:910707:refunded");
  payload["type"] = "PartialRefund";
  payload["refund_amount"] = "5.00";
  EXPECT_EQ(one(payload)["dedupe_key"], "sc:refund:19026152:910707:partially_refunded");
}

TEST_F(Refund, MultiProductRefundIsOnePerProduct) {
  Json payload = refund_post("Refund");
  payload["product"] = product("910707,910708", "49.95,19.00", "Course,Workbook", "ch_1,ch_2");
  auto events = accept(payload, 2);
  EXPECT_EQ(events[0]["dedupe_key"], "sc:refund:re_3Nxyz:product:910707");
  EXPECT_EQ(events[1]["dedupe_key"], "sc:refund:re_3Nxyz:product:910708");
  EXPECT_EQ(events[1]["refund"], Json({{"amount", 1900}, {"amount_str", "19.00"}, {"item_reference", "product-910708"}}));
}

TEST_F(Refund, RefundWithoutAProductHasNoItem) {
  Json payload = refund_post("Refund");
  payload.erase("product");
  Json event = one(payload);
  EXPECT_EQ(event["type"], "product.refunded");
  EXPECT_FALSE(event.contains("item"));
  EXPECT_EQ(event["refund"], Json({{"amount_unknown", true}}));
  EXPECT_EQ(event["dedupe_key"], "sc:refund:re_3Nxyz");
}

TEST_F(Refund, RefundOfABumpNamesTheBump) {
  PluginHarness harness(SAMCART_PLUGIN_PATH);
  auto instance = harness.create({{"token", kToken}, {"item_types", {{"910707", "bump"}}}});
  WebhookReply reply = instance.webhook(post(refund_post("Refund")));
  ASSERT_EQ(reply.events.size(), 1u);
  EXPECT_EQ(reply.events[0]["item"]["reference"], "bump-910707");
  EXPECT_EQ(reply.events[0]["refund"]["item_reference"], "bump-910707");
}

}  // namespace
}  // namespace samcart_test
