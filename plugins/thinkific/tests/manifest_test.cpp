#include "support.hpp"

using namespace thinkific_test;

TEST(ThinkificManifest, DeclaresActionsListsFieldsAndRateLimit) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Json m = harness.manifest();
  EXPECT_EQ(m["id"], "thinkific");
  EXPECT_EQ(m["version"], "1.0.0");
  std::map<std::string, Json> actions;
  for (auto &a : m["actions"]) actions[a["name"].get<std::string>()] = a;
  for (auto name : {"upsert_user", "enroll_course", "expire_course", "enroll_bundle", "expire_bundle"}) {
    ASSERT_TRUE(actions.count(name)) << name;
    EXPECT_TRUE(actions[name]["ordered"].get<bool>()) << name;
  }
  auto param = [&](const std::string &action, const std::string &name) {
    for (auto &p : actions[action]["params"])
      if (p["name"] == name) return p;
    return Json();
  };
  EXPECT_EQ(param("enroll_course", "course_id")["list"], "courses");
  EXPECT_TRUE(param("enroll_course", "course_id")["required"].get<bool>());
  EXPECT_EQ(param("expire_course", "course_id")["list"], "courses");
  EXPECT_EQ(param("enroll_bundle", "bundle_id")["list"], "bundles");
  EXPECT_EQ(param("expire_bundle", "bundle_id")["list"], "bundles");
  EXPECT_FALSE(param("enroll_course", "email")["required"].get<bool>());

  std::set<std::string> lists;
  for (auto &l : m["lists"]) lists.insert(l["name"].get<std::string>());
  EXPECT_EQ(lists, (std::set<std::string>{"courses", "bundles", "custom_profile_fields"}));
  EXPECT_EQ(m["fields"], (Json{{"list", "custom_profile_fields"}, {"types", {"text"}}}));
  EXPECT_EQ(m["rate_limit"], (Json{{"requests", 120}, {"per_seconds", 60}}));

  std::map<std::string, Json> settings;
  for (auto &s : m["settings"]) settings[s["name"].get<std::string>()] = s;
  EXPECT_TRUE(settings["api_key"]["secret"].get<bool>());
  EXPECT_TRUE(settings["access_token"]["secret"].get<bool>());
  EXPECT_FALSE(settings["subdomain"]["secret"].get<bool>());
  EXPECT_NE(settings["base_url"]["description"].get<std::string>().find("https://api.thinkific.com/api/public/v1"),
            std::string::npos);
}
