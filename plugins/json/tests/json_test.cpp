// The JSON endpoint connector through the C seam, as the hub calls it.
#include <gtest/gtest.h>

#include <cartwire/sdk/testing/plugin_harness.hpp>

#include "signer.hpp"

namespace {

using cartwire::sdk::Json;
using cartwire::sdk::WebhookReply;
using cartwire::sdk::WebhookRequest;
using cartwire::sdk::testing::PluginHarness;

const std::string kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr int64_t kNow = 1768471200;  // 2026-01-15T10:00:00Z, the harness clock

class JsonEndpoint : public ::testing::Test {
 protected:
  JsonEndpoint() : harness_(JSON_PLUGIN_PATH), instance_(harness_.create({{"secret", kSecret}})) {
    harness_.set_now_ms(kNow * 1000);
  }

  static WebhookRequest signed_post(const std::string &body, const std::string &id = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
                                    int64_t at = kNow) {
    WebhookRequest r;
    r.trigger = "webhook";
    r.source = "shop";
    r.method = "POST";
    r.body = body;
    r.headers = {{"content-type", "application/json"},
                 {"webhook-id", id},
                 {"webhook-timestamp", std::to_string(at)},
                 {"webhook-signature", cartwire::notifyurl::Signer(kSecret).sign(id, at, body)}};
    return r;
  }

  static Json purchase() {
    return {{"type", "product.purchased"},
            {"customer", {{"email", "ann@example.com"}, {"first_name", "Ann"}}},
            {"order", {{"id", "A-1001"}, {"currency", "USD"}, {"total", 4995}}},
            {"item", {{"type", "product"}, {"reference", "course-42"}, {"amount", 4995}}}};
  }

  PluginHarness harness_;
  PluginHarness::Instance instance_;
};

}  // namespace

TEST_F(JsonEndpoint, ASignedEventIsAcceptedAsItIsKnownByItsWebhookId) {
  WebhookReply reply = instance_.webhook(signed_post(purchase().dump()));
  ASSERT_EQ(reply.status, 200) << reply.body;
  ASSERT_EQ(reply.events.size(), 1u);
  const Json &event = reply.events[0];
  EXPECT_EQ(event["type"], "product.purchased");
  EXPECT_EQ(event["item"]["reference"], "course-42");
  EXPECT_EQ(event["dedupe_key"], "json:shop:m:msg_2KWPBgLlAfxdpx2AI54pPJ85f4W") << "a retry of the delivery is the same fact";
  EXPECT_EQ(event["raw"], purchase()) << "what the sender posted";
}

TEST_F(JsonEndpoint, TheSendersOwnKeysOccurredAtAndModeAreKept) {
  Json event = purchase();
  event["dedupe_key"] = "shop:order:A-1001:course-42";
  event["occurred_at"] = "2026-01-15T09:58:00.250Z";
  event["mode"] = "test";
  event["id"] = 7;          // the hub numbers events
  event["source"] = "spoof";  // the hub names the source
  // Keys of other facts that would keep the event out, each looked up: the carts' connectors name them.
  event["dedupe_alternatives"] = Json::array({"tc:acme:order:1514394"});
  WebhookReply reply = instance_.webhook(signed_post(event.dump()));
  ASSERT_EQ(reply.status, 200) << reply.body;
  const Json &out = reply.events.at(0);
  EXPECT_EQ(out["dedupe_key"], "json:shop:k:shop:order:A-1001:course-42");
  EXPECT_EQ(out["occurred_at"], "2026-01-15T09:58:00.250Z");
  EXPECT_EQ(out["mode"], "test");
  EXPECT_FALSE(out.contains("id"));
  EXPECT_FALSE(out.contains("source"));
  EXPECT_FALSE(out.contains("dedupe_alternatives"));
}

TEST_F(JsonEndpoint, EachSourceKeepsItsKeysApartFromTheOthers) {
  Json event = purchase();
  event["dedupe_key"] = "order:1001";
  WebhookRequest shop = signed_post(event.dump()), forms = shop, from_older_hub = shop;
  forms.source = "forms";
  from_older_hub.source.clear();
  EXPECT_EQ(instance_.webhook(shop).events.at(0)["dedupe_key"], "json:shop:k:order:1001");
  EXPECT_EQ(instance_.webhook(forms).events.at(0)["dedupe_key"], "json:forms:k:order:1001");
  EXPECT_EQ(instance_.webhook(from_older_hub).events.at(0)["dedupe_key"], "json:k:order:1001")
      << "a hub before SDK 1.6 names no source";
  shop = signed_post(purchase().dump(), "msg_same");  // a message without a key of its own
  forms = shop;
  forms.source = "forms";
  EXPECT_EQ(instance_.webhook(shop).events.at(0)["dedupe_key"], "json:shop:m:msg_same");
  EXPECT_EQ(instance_.webhook(forms).events.at(0)["dedupe_key"], "json:forms:m:msg_same");
}

TEST_F(JsonEndpoint, ABatchAndANotifyUrlPostOfAnotherHubAreRead) {
  Json refund = purchase();
  refund["type"] = "product.refunded";
  WebhookReply batch = instance_.webhook(signed_post(Json{{"events", {purchase(), refund}}}.dump(), "msg_batch"));
  ASSERT_EQ(batch.status, 200) << batch.body;
  ASSERT_EQ(batch.events.size(), 2u);
  EXPECT_EQ(batch.events[0]["dedupe_key"], "json:shop:m:msg_batch:0");
  EXPECT_EQ(batch.events[1]["type"], "product.refunded");

  Json forwarded = purchase();
  forwarded["dedupe_key"] = "tc:acme:order:1001:product-12";
  forwarded["id"] = 88;
  Json envelope = {{"type", "product.purchased"}, {"timestamp", "2026-01-15T10:00:00Z"}, {"data", forwarded}};
  WebhookReply hop = instance_.webhook(signed_post(envelope.dump(), "msg_hop"));
  ASSERT_EQ(hop.status, 200) << hop.body;
  EXPECT_EQ(hop.events.at(0)["dedupe_key"], "json:shop:k:tc:acme:order:1001:product-12");
  EXPECT_EQ(hop.events[0]["customer"]["email"], "ann@example.com");
}

TEST_F(JsonEndpoint, AnUnsignedOrStaleOrForgedPostIsRefused) {
  WebhookRequest unsigned_post = signed_post(purchase().dump());
  unsigned_post.headers.erase("webhook-signature");
  WebhookReply refused = instance_.webhook(unsigned_post);
  EXPECT_EQ(refused.status, 401);
  EXPECT_NE(refused.body.find("the webhook-signature header is missing"), std::string::npos) << refused.body;
  refused = instance_.webhook(signed_post(purchase().dump(), ""));
  EXPECT_EQ(refused.status, 401) << "an empty webhook-id";
  EXPECT_NE(refused.body.find("the webhook-id header is missing"), std::string::npos) << refused.body;
  WebhookReply stale = instance_.webhook(signed_post(purchase().dump(), "msg_old", kNow - 600));
  EXPECT_EQ(stale.status, 401);
  EXPECT_NE(stale.body.find("timestamp"), std::string::npos) << stale.body;
  WebhookRequest forged = signed_post(purchase().dump());
  forged.body = purchase().dump(2);  // the same event, but not the bytes signed
  EXPECT_EQ(instance_.webhook(forged).status, 401);
}

TEST_F(JsonEndpoint, AnEventTheHubCannotUseIsRefusedWithItsReason) {
  auto refused = [&](Json event, const std::string &reason) {
    WebhookReply reply = instance_.webhook(signed_post(event.dump()));
    EXPECT_EQ(reply.status, 422) << event.dump();
    EXPECT_NE(reply.body.find(reason), std::string::npos) << reply.body;
    EXPECT_TRUE(reply.events.empty());
  };
  Json no_email = purchase();
  no_email["customer"].erase("email");
  refused(no_email, "customer.email");
  Json bad_type = purchase();
  bad_type["type"] = "Purchase!";
  refused(bad_type, "\\\"type\\\"");
  Json hub_type = purchase();
  hub_type["type"] = "hub.job.dead";
  refused(hub_type, "the hub's own");
  Json bad_time = purchase();
  bad_time["occurred_at"] = "15/01/2026";
  refused(bad_time, "occurred_at");
  Json no_day = purchase();
  no_day["occurred_at"] = "2026-02-30T10:00:00Z";
  refused(no_day, "must be UTC in RFC 3339, e.g. 2026-01-15T10:00:00Z (there is no day 30 in February 2026)");
  Json text_customer = purchase();
  text_customer["customer"] = "ann@example.com";
  refused(text_customer, "\\\"customer\\\" must be a JSON object");
  Json word_amount = purchase();
  word_amount["item"]["amount"] = "lots";
  refused(word_amount, "\\\"item.amount\\\" must be a whole number of cents");
  Json number_key = purchase();
  number_key["dedupe_key"] = 1001;
  refused(number_key, "dedupe_key");
  Json batch = {{"events", {purchase(), no_email}}};
  refused(batch, "event 1: ");
  WebhookReply list = instance_.webhook(signed_post("[1,2]"));
  EXPECT_EQ(list.status, 400) << list.body;
}

TEST(JsonEndpointSettings, TheSecretMustBeAStandardWebhooksSecret) {
  PluginHarness harness(JSON_PLUGIN_PATH);
  EXPECT_THROW(harness.create(Json::object()), std::exception);
  EXPECT_THROW(harness.create({{"secret", "whsec_c2hvcnQ="}}), std::exception) << "5 bytes";
  EXPECT_NO_THROW(harness.create({{"secret", kSecret}}));
}
