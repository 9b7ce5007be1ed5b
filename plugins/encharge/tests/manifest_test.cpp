// The manifest the hub reads, and how settings are checked.
#include "support.hpp"

namespace encharge_test {
namespace {

TEST_F(EnchargeTest, ManifestDeclaresActionsListsFieldsAndSecrets) {
  Json m = harness.manifest();
  EXPECT_EQ(m["id"], "encharge");
  EXPECT_EQ(m["version"], "1.0.0");
  std::map<std::string, Json> settings;
  for (auto &s : m["settings"]) settings[s["name"]] = s;
  EXPECT_TRUE(settings.at("write_key")["secret"]);
  EXPECT_TRUE(settings.at("write_key")["required"]);
  EXPECT_TRUE(settings.at("api_key")["secret"]);
  EXPECT_FALSE(settings.at("api_key")["required"]);
  EXPECT_FALSE(settings.at("base_url")["required"]);
  EXPECT_NE(settings.at("base_url")["description"].get<std::string>().find("https://ingest.encharge.io/v1"),
            std::string::npos);

  std::map<std::string, Json> actions;
  for (auto &a : m["actions"]) actions[a["name"]] = a;
  ASSERT_EQ(actions.size(), 4u);
  for (auto &[name, a] : actions) EXPECT_TRUE(a["ordered"]) << name;
  std::vector<std::string> track_params;
  for (auto &p : actions.at("track_event")["params"]) {
    track_params.push_back(p["name"]);
    EXPECT_FALSE(p["required"]);
  }
  EXPECT_EQ(track_params, (std::vector<std::string>{"name", "tags", "properties"}));
  EXPECT_TRUE(actions.at("remove_tag")["params"][0]["required"]);
  EXPECT_TRUE(actions.at("add_tag")["params"][0]["required"]);

  ASSERT_EQ(m["lists"].size(), 2u);
  EXPECT_EQ(m["lists"][0]["name"], "tags");
  EXPECT_EQ(m["lists"][1]["name"], "fields");
  EXPECT_EQ(m["fields"]["list"], "fields");
  std::vector<std::string> fixed;
  for (auto &f : m["fields"]["fixed"]) fixed.push_back(f["name"]);
  EXPECT_EQ(fixed, (std::vector<std::string>{"firstName", "lastName", "name", "userId", "phone", "company", "ip"}));
  // Encharge publishes no rate limit for either API.
  EXPECT_FALSE(m.contains("rate_limit"));
}

TEST_F(EnchargeTest, WriteKeyIsRequired) {
  try {
    harness.create({{"base_url", kIngest}});
    FAIL() << "created without a write key";
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("'write_key' is required"), std::string::npos) << e.what();
  }
  EXPECT_THROW(harness.create({{"write_key", ""}}), std::runtime_error);
}

TEST_F(EnchargeTest, NonTextSecretIsRefusedWithoutEchoingIt) {
  try {
    harness.create({{"write_key", 123456789}});
    FAIL();
  } catch (const std::runtime_error &e) {
    std::string text = e.what();
    EXPECT_NE(text.find("'write_key' must be a string: write it in quotes (unquoted, YAML reads it as a number, and "
                        "a leading 0 is lost)"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("123456789"), std::string::npos) << text;
  }
  try {
    harness.create({{"write_key", kWriteKey}, {"api_key", 987654321}});
    FAIL();
  } catch (const std::runtime_error &e) {
    EXPECT_EQ(std::string(e.what()).find("987654321"), std::string::npos) << e.what();
  }
}

TEST_F(EnchargeTest, BaseUrlsMustBeHttpsOrATestServerOnThisMachine) {
  try {
    harness.create({{"write_key", kWriteKey}, {"base_url", "ingest.encharge.io/v1"}});
    FAIL();
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("'base_url' must start with https://"), std::string::npos) << e.what();
  }
  try {
    harness.create({{"write_key", kWriteKey}, {"api_base_url", "ftp://api.encharge.io"}});
    FAIL();
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("'api_base_url'"), std::string::npos) << e.what();
  }
  // The write key would cross the network in the clear.
  EXPECT_THROW(harness.create({{"write_key", kWriteKey}, {"base_url", "http://ingest.encharge.io/v1"}}),
               std::runtime_error);
  EXPECT_NO_THROW(harness.create({{"write_key", kWriteKey}, {"base_url", "http://127.0.0.1:8089/v1"}}));
}

TEST_F(EnchargeTest, EveryProblemOfTheSettingsIsNamedAtOnce) {
  try {
    harness.create({{"base_url", "ftp://x"}, {"api_key", 42}, {"api_base_url", "api.encharge.io/v1"}});
    FAIL() << "created with broken settings";
  } catch (const std::runtime_error &e) {
    std::string text = e.what();
    for (const char *problem : {"'write_key' is required", "'base_url' must start with https://",
                                "'api_key' must be a string", "'api_base_url' must start with https://"})
      EXPECT_NE(text.find(problem), std::string::npos) << problem << " in: " << text;
  }
}

TEST_F(EnchargeTest, DefaultsToTheRealIngestEndpoint) {
  answer_all(harness, answer(200));
  auto c = harness.create({{"write_key", kWriteKey}});
  ASSERT_TRUE(c.action("track_event", Json::object(), tc_purchase()).is_ok());
  EXPECT_EQ(harness.requests().at(0).url, "https://ingest.encharge.io/v1/");
}

TEST_F(EnchargeTest, TrailingSlashOnBaseUrlIsNotDoubled) {
  answer_all(harness, answer(200));
  auto c = harness.create({{"write_key", kWriteKey}, {"base_url", "http://127.0.0.1:9/v1/"}});
  ASSERT_TRUE(c.action("upsert_person", Json::object(), tc_purchase()).is_ok());
  EXPECT_EQ(harness.requests().at(0).url, "http://127.0.0.1:9/v1/");
}

TEST_F(EnchargeTest, UnknownActionAndListArePermanent) {
  auto c = harness.create(settings());
  Result r = c.action("send_email", Json::object(), tc_purchase());
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_NE(r.message.find("send_email"), std::string::npos);
  EXPECT_EQ(c.list("segments").outcome, Outcome::permanent);
  EXPECT_TRUE(harness.requests().empty());
}

}  // namespace
}  // namespace encharge_test
