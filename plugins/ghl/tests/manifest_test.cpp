// The manifest the hub checks rules against, and the settings the connector refuses.
#include "support.hpp"

namespace ghl_test {
namespace {

TEST(Manifest, DeclaresActionsListsFieldsAndTheRateLimit) {
  PluginHarness harness(GHL_PLUGIN_PATH);
  Json m = harness.manifest();
  EXPECT_EQ(m["id"], "ghl");
  EXPECT_EQ(m["version"], "1.1.0");
  std::vector<std::string> actions;
  for (auto &a : m["actions"]) actions.push_back(a["name"]);
  EXPECT_EQ(actions, (std::vector<std::string>{"upsert_contact", "add_tags", "remove_tags", "add_note", "add_task",
                                               "add_to_workflow", "remove_from_workflow", "add_to_campaign",
                                               "remove_from_campaign"}));
  for (auto &a : m["actions"]) {
    for (auto &p : a["params"]) {
      if (p["name"] == "workflow_id") {
        EXPECT_EQ(p["list"], "workflows");
      }
      if (p["name"] == "campaign_id") {
        EXPECT_EQ(p["list"], "campaigns");
      }
    }
  }
  std::vector<std::string> lists;
  for (auto &l : m["lists"]) lists.push_back(l["name"]);
  EXPECT_EQ(lists, (std::vector<std::string>{"tags", "custom_fields", "workflows", "campaigns"}));
  EXPECT_EQ(m["triggers"], (Json::parse(R"([{"name": "contacts_changed", "kind": "poll", "interval_seconds": 300,
      "events": ["ghl.contact.changed"], "description": )" + m["triggers"][0]["description"].dump() + "}]")));
  EXPECT_EQ(m["fields"]["list"], "custom_fields");
  // HighLevel counts requests per location: integrations on one location share one budget.
  EXPECT_EQ(m["rate_limit"], (Json{{"requests", 100}, {"per_seconds", 10}, {"shared_by", "location_id"}}));
  for (auto &s : m["settings"])
    EXPECT_EQ(s.value("secret", false), s["name"] == "token") << s.dump();
}

TEST(Settings, DefaultBaseUrlIsTheRealApi) {
  PluginHarness harness(GHL_PLUGIN_PATH);
  harness.on_http([](const HttpRequest &) { return upserted(); });
  auto ghl = harness.create({{"token", kToken}, {"location_id", kLocation}});
  ASSERT_TRUE(ghl.action("upsert_contact", Json::object(), event()).is_ok());
  EXPECT_EQ(harness.requests().at(0).url, "https://services.leadconnectorhq.com/contacts/upsert");
}

TEST(Settings, TrailingSlashOfTheBaseUrlIsDropped) {
  PluginHarness harness(GHL_PLUGIN_PATH);
  harness.on_http([](const HttpRequest &) { return upserted(); });
  auto ghl = harness.create({{"token", kToken}, {"location_id", kLocation}, {"base_url", "http://127.0.0.1:9/"}});
  ASSERT_TRUE(ghl.action("upsert_contact", Json::object(), event()).is_ok());
  EXPECT_EQ(harness.requests().at(0).url, "http://127.0.0.1:9/contacts/upsert");
}

void expect_refused(const Json &settings, const std::string &text) {
  PluginHarness harness(GHL_PLUGIN_PATH);
  try {
    harness.create(settings);
    ADD_FAILURE() << "accepted " << settings.dump();
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find(kToken), std::string::npos) << "the token leaked: " << e.what();
  }
}

TEST(Settings, RefusedWithClearMessages) {
  expect_refused({{"location_id", kLocation}}, "setting 'token' is required");
  expect_refused({{"token", ""}, {"location_id", kLocation}}, "setting 'token' is required");
  expect_refused({{"token", 42}, {"location_id", kLocation}}, "setting 'token' must be a string");
  expect_refused({{"token", kToken}}, "setting 'location_id' is required");
  expect_refused({{"token", kToken}, {"location_id", "a/b"}}, "setting 'location_id' must be a bare location id");
  expect_refused({{"token", kToken}, {"location_id", kLocation}, {"base_url", "ftp://x"}},
                 "setting 'base_url' must start with https://");
}

TEST(Settings, EveryProblemIsNamedAtOnce) {
  PluginHarness harness(GHL_PLUGIN_PATH);
  try {
    harness.create({{"location_id", "a/b"}, {"base_url", "ftp://x"}, {"source", 7}});
    ADD_FAILURE() << "created with broken settings";
  } catch (const std::runtime_error &e) {
    std::string text = e.what();
    for (const char *problem : {"setting 'token' is required", "setting 'location_id' must be a bare location id",
                                "setting 'base_url' must start with https://", "setting 'source' must be a string"})
      EXPECT_NE(text.find(problem), std::string::npos) << problem << " in: " << text;
  }
}

}  // namespace
}  // namespace ghl_test
