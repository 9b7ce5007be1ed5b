#include <gtest/gtest.h>

#include <cartwire/sdk/testing/plugin_harness.hpp>

#include "fixtures.hpp"

using cartwire::sdk::Json;
using cartwire::sdk::testing::PluginHarness;

TEST(ThriveCartManifest, DescribesTheWebhookTrigger) {
  PluginHarness harness(THRIVECART_PLUGIN_PATH);
  Json manifest = harness.manifest();
  EXPECT_EQ(manifest["id"], "thrivecart");
  EXPECT_EQ(manifest["version"], "1.0.0");
  ASSERT_EQ(manifest["settings"].size(), 2u);
  EXPECT_EQ(manifest["settings"][0]["name"], "secret");
  EXPECT_EQ(manifest["settings"][0]["required_for"], Json::array({"webhook"}));
  EXPECT_TRUE(manifest["settings"][0]["secret"].get<bool>());
  EXPECT_EQ(manifest["settings"][1]["name"], "account");
  EXPECT_FALSE(manifest["settings"][1]["required"].get<bool>());
  ASSERT_EQ(manifest["triggers"].size(), 2u);
  EXPECT_EQ(manifest["triggers"][1]["name"], "csv");
  EXPECT_EQ(manifest["triggers"][1]["kind"], "import");
  EXPECT_EQ(manifest["triggers"][0]["name"], "webhook");
  EXPECT_EQ(manifest["triggers"][0]["kind"], "webhook");
  Json events = manifest["triggers"][0]["events"];
  for (const char *type : {"order.completed", "product.purchased", "product.refunded", "product.partially_refunded",
                           "subscription.charged", "subscription.charge_failed", "subscription.canceled",
                           "subscription.completed"})
    EXPECT_NE(std::find(events.begin(), events.end(), type), events.end()) << type;
  EXPECT_TRUE(manifest["actions"].empty());
}

// A source for imports only has no secret word: it starts, and refuses every webhook, which nothing verifies.
// One written empty is a secret word missing.
TEST(ThriveCartManifest, StartsWithoutASecretWordAndThenRefusesEveryWebhook) {
  PluginHarness harness(THRIVECART_PLUGIN_PATH);
  EXPECT_THROW(harness.create({{"secret", 42}}), std::runtime_error);
  EXPECT_THROW(harness.create({{"secret", ""}}), std::runtime_error);
  EXPECT_NO_THROW(harness.create({{"secret", "S3cretWord"}}));
  for (const Json &settings : {Json::object(), Json{{"account", "acme"}}}) {
    auto instance = harness.create(settings);
    thrivecart_test::Form form = thrivecart_test::order_success();
    for (auto &[key, value] : form)
      if (key == "thrivecart_secret") value = "";
    auto reply = instance.webhook(thrivecart_test::post_form(form));
    EXPECT_EQ(reply.status, 401) << settings.dump();
    EXPECT_NE(reply.body.find("no secret word is set for this source"), std::string::npos) << reply.body;
    EXPECT_TRUE(reply.events.empty());
  }
}
