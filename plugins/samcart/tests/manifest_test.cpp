#include <gtest/gtest.h>

#include <algorithm>

#include <cartwire/sdk/testing/plugin_harness.hpp>

using cartwire::sdk::Json;
using cartwire::sdk::testing::PluginHarness;

namespace {

const char *kToken = "3f9c1c2a7d5e4b8a9c0d1e2f";

TEST(SamCartManifest, DescribesTheWebhookTrigger) {
  PluginHarness harness(SAMCART_PLUGIN_PATH);
  Json manifest = harness.manifest();
  EXPECT_EQ(manifest["id"], "samcart");
  EXPECT_EQ(manifest["version"], "1.0.0");
  ASSERT_EQ(manifest["settings"].size(), 3u);
  EXPECT_EQ(manifest["settings"][0]["name"], "token");
  EXPECT_EQ(manifest["settings"][0]["type"], "string");
  EXPECT_EQ(manifest["settings"][0]["required_for"], Json::array({"webhook"}));
  EXPECT_TRUE(manifest["settings"][0]["secret"].get<bool>());
  EXPECT_EQ(manifest["settings"][1]["name"], "currency");
  EXPECT_FALSE(manifest["settings"][1]["required"].get<bool>());
  EXPECT_EQ(manifest["settings"][2]["name"], "item_types");
  EXPECT_EQ(manifest["settings"][2]["type"], "object");
  ASSERT_EQ(manifest["triggers"].size(), 1u);
  EXPECT_EQ(manifest["triggers"][0]["name"], "webhook");
  EXPECT_EQ(manifest["triggers"][0]["kind"], "webhook");
  Json events = manifest["triggers"][0]["events"];
  for (const char *type : {"order.completed", "product.purchased", "product.refunded", "product.partially_refunded",
                           "subscription.charged", "subscription.charge_failed", "subscription.delinquent",
                           "subscription.recovered", "subscription.canceled", "subscription.restarted",
                           "subscription.completed"})
    EXPECT_NE(std::find(events.begin(), events.end(), type), events.end()) << type;
  EXPECT_TRUE(manifest["actions"].empty());
  EXPECT_TRUE(manifest["lists"].empty());
}

TEST(SamCartManifest, RefusesToStartWithoutAUsableToken) {
  PluginHarness harness(SAMCART_PLUGIN_PATH);
  EXPECT_THROW(harness.create(Json::object()), std::runtime_error);
  EXPECT_THROW(harness.create({{"token", ""}}), std::runtime_error);
  EXPECT_THROW(harness.create({{"token", 42}}), std::runtime_error);
  try {
    harness.create({{"token", "short"}});
    ADD_FAILURE() << "a 5-character token was accepted";
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("at least 16 characters"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("short"), std::string::npos) << "the token was echoed";
  }
  EXPECT_NO_THROW(harness.create({{"token", kToken}}));
}

TEST(SamCartManifest, ChecksCurrencyAndItemTypes) {
  PluginHarness harness(SAMCART_PLUGIN_PATH);
  EXPECT_NO_THROW(harness.create({{"token", kToken}, {"currency", "eur"}}));
  EXPECT_THROW(harness.create({{"token", kToken}, {"currency", "euro"}}), std::runtime_error);
  EXPECT_NO_THROW(harness.create(
      {{"token", kToken}, {"item_types", {{"1", "bump"}, {"2", "upsell"}, {"3", "downsell"}, {"4", "product"}}}}));
  EXPECT_THROW(harness.create({{"token", kToken}, {"item_types", {{"1", "addon"}}}}), std::runtime_error);
  EXPECT_THROW(harness.create({{"token", kToken}, {"item_types", Json::array({"1"})}}), std::runtime_error);
}

TEST(SamCartManifest, NamesEveryProblemOfTheSettingsAtOnce) {
  PluginHarness harness(SAMCART_PLUGIN_PATH);
  try {
    harness.create({{"token", "short"}, {"currency", "euro"}});
    ADD_FAILURE() << "created with broken settings";
  } catch (const std::runtime_error &e) {
    std::string text = e.what();
    for (const char *problem : {"setting 'token' must be at least 16 characters", "setting 'currency' must be"})
      EXPECT_NE(text.find(problem), std::string::npos) << problem << " in: " << text;
  }
}

}  // namespace
