// The hub's own JSON endpoint (connector json) end to end: one hub's Notify
// URL feeds another hub, which runs its own rules on the events.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <ctime>

#include "../support/hub_process.hpp"
#include "../support/signature.hpp"
#include "../support/sink.hpp"
#include "../support/thrivecart_payloads.hpp"

using namespace cartwire::testing;
using Json = nlohmann::json;

TEST(JsonSource, AHubsNotifyUrlFeedsAnotherHubsRules) {
  const std::string tc_secret = "json-source-tc-secret", hop_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  Sink sink;
  HubProcess downstream("json-downstream",
                        "runner:\n  poll_interval: 100ms\n"
                        "sources:\n  upstream:\n    connector: json\n    settings: {secret: \"${HOP_SECRET}\"}\n"
                        "  forms:\n    connector: json\n    settings: {secret: \"${HOP_SECRET}\"}\n"
                        "integrations:\n  crm:\n    connector: notifyurl\n    settings: {url: \"" + sink.url() + "\"}\n"
                        "rules:\n  - {name: course, on: product.purchased, where: {item.reference: product-12}, do: crm.post}\n",
                        {{"HOP_SECRET", hop_secret}});
  downstream.start();
  HubProcess upstream("json-upstream",
                      "runner:\n  poll_interval: 100ms\n"
                      "sources:\n  thrivecart:\n    connector: thrivecart\n    settings: {secret: " + tc_secret + "}\n"
                      "integrations:\n  next-hub:\n    connector: notifyurl\n    settings: {url: \"http://127.0.0.1:" +
                          std::to_string(downstream.port()) + "/hooks/upstream\", secret: \"${HOP_SECRET}\"}\n"
                      "rules:\n  - {name: forward, on: product.purchased, do: next-hub.post}\n",
                      {{"HOP_SECRET", hop_secret}});
  upstream.start();

  std::string order = thrivecart::order_success(tc_secret, "7001", {{"product", "12", "Course", 4995}});
  ASSERT_EQ(upstream.post("/hooks/thrivecart", order).status, 200);
  ASSERT_TRUE(sink.wait_for(1)) << upstream.log() << downstream.log();
  Json delivered = Json::parse(sink.requests().at(0).body);
  EXPECT_EQ(delivered["type"], "product.purchased");
  EXPECT_EQ(delivered["data"]["customer"]["email"], "ann@example.com");
  EXPECT_EQ(delivered["data"]["source"], "upstream");
  EXPECT_EQ(delivered["data"]["dedupe_key"], "json:upstream:k:tc:acme:order:7001:item:product-12") << delivered.dump(2);

  // The cart re-sends the order to the first hub: nothing new reaches the second. The first
  // stores the jobs of what it takes before its 2xx: it has none to send besides the one sent.
  ASSERT_EQ(upstream.post("/hooks/thrivecart", order).status, 200);
  EXPECT_EQ(upstream.count("SELECT COUNT(*) FROM jobs"), 1);
  ASSERT_TRUE(eventually([&] { return upstream.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == 1; }))
      << upstream.log();
  EXPECT_EQ(upstream.count("SELECT COUNT(*) FROM attempts"), 1);
  EXPECT_EQ(downstream.count("SELECT COUNT(*) FROM events"), 1);
  EXPECT_EQ(sink.count(), 1u);
  // A sender retrying its message (same webhook-id): the second hub stores it once.
  std::string event = Json{{"type", "product.purchased"},
                           {"customer", {{"email", "bob@example.com"}}},
                           {"item", {{"reference", "product-12"}, {"amount", 4995}}}}.dump();
  std::string now = std::to_string(std::time(nullptr));
  std::map<std::string, std::string> headers = {{"Content-Type", "application/json"},
                                                {"webhook-id", "msg_direct_1"},
                                                {"webhook-timestamp", now},
                                                {"webhook-signature", sign_standard_webhook(hop_secret, "msg_direct_1",
                                                                                            now, event)}};
  for (int send = 0; send < 2; ++send)
    ASSERT_EQ(http("POST", downstream.port(), "/hooks/upstream", event, headers).status, 200);
  ASSERT_TRUE(sink.wait_for(2)) << downstream.log();
  EXPECT_EQ(downstream.count("SELECT COUNT(*) FROM events WHERE dedupe_key = 'json:upstream:m:msg_direct_1'"), 1);
  EXPECT_EQ(downstream.count("SELECT COUNT(*) FROM jobs"), 2) << "the retry ran a rule again";
  ASSERT_TRUE(eventually([&] { return downstream.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == 2; }))
      << downstream.log();
  EXPECT_EQ(downstream.count("SELECT COUNT(*) FROM attempts"), 2);
  EXPECT_EQ(sink.count(), 2u) << "the retry ran no rule again";
  // Another source's keys are its own: the same message sent to it is a fact of its own.
  ASSERT_EQ(http("POST", downstream.port(), "/hooks/forms", event, headers).status, 200);
  ASSERT_TRUE(sink.wait_for(3)) << downstream.log();
  EXPECT_EQ(downstream.count("SELECT COUNT(*) FROM events WHERE dedupe_key = 'json:forms:m:msg_direct_1'"), 1);
  // A post that is not signed with the secret is refused, and stores nothing.
  auto forged = downstream.post("/hooks/upstream", delivered.dump(), "application/json");
  EXPECT_EQ(forged.status, 401) << forged.body;
  EXPECT_EQ(downstream.count("SELECT COUNT(*) FROM events"), 3);
}
