// Settings validation and the two authentication modes on the wire.
#include "support.hpp"

using namespace thinkific_test;

namespace {

std::string refusal(const Json &settings) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  try {
    harness.create(settings);
  } catch (const std::exception &e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ThinkificSettings, RefusesIncompleteOrAmbiguousCredentials) {
  EXPECT_NE(refusal(Json::object()).find("set api_key and subdomain (private app) or access_token"), std::string::npos);
  EXPECT_NE(refusal({{"api_key", "k"}}).find("subdomain is missing"), std::string::npos);
  EXPECT_NE(refusal({{"subdomain", "acme"}}).find("api_key is missing"), std::string::npos);
  EXPECT_NE(refusal({{"subdomain", "acme"}, {"api_key", "k"}, {"access_token", "t"}}).find("not both"),
            std::string::npos);
  EXPECT_NE(refusal({{"subdomain", "acme.thinkific.com"}, {"api_key", "k"}}).find("bare site name"), std::string::npos);
  EXPECT_NE(refusal({{"access_token", "t"}, {"base_url", "ftp://x"}}).find("'base_url' must start with https://"),
            std::string::npos);
  EXPECT_NE(refusal({{"access_token", "t"}, {"base_url", "http://api.thinkific.com/api/public/v1"}})
                .find("only for this machine"),
            std::string::npos)
      << "the token would cross the network in the clear";
  EXPECT_NE(refusal({{"access_token", "t"}, {"send_welcome_email", "yes"}}).find("send_welcome_email"),
            std::string::npos);
  EXPECT_NE(refusal({{"access_token", 5}}).find("'access_token' must be a string"), std::string::npos);
  EXPECT_EQ(refusal(key_settings()), "");
  EXPECT_EQ(refusal({{"access_token", "t"}}), "");
}

TEST(ThinkificSettings, NamesEveryProblemAtOnce) {
  std::string message = refusal({{"api_key", "k"}, {"base_url", "ftp://x"}, {"send_welcome_email", "yes"}});
  for (const char *problem : {"subdomain is missing", "'base_url' must start with https://",
                              "setting 'send_welcome_email' must be true or false"})
    EXPECT_NE(message.find(problem), std::string::npos) << problem << " in: " << message;
}

TEST(ThinkificSettings, RefusalsNeverShowTheSecret) {
  std::string message = refusal({{"subdomain", "acme"}, {"api_key", "tk-secret-key-123"}, {"access_token", "oauth-xyz"}});
  EXPECT_FALSE(message.empty());
  EXPECT_EQ(message.find("tk-secret-key-123"), std::string::npos);
  EXPECT_EQ(message.find("oauth-xyz"), std::string::npos);
}

TEST(ThinkificSettings, ApiKeyModeSendsKeyAndSubdomainHeaders) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on("GET /courses?page=1&limit=250", reply(200, page(Json::array())));
  auto thinkific = harness.create(key_settings());
  ASSERT_TRUE(thinkific.list("courses").is_ok());
  ASSERT_EQ(harness.requests().size(), 1u);
  const auto &r = harness.requests()[0];
  EXPECT_EQ(r.url, std::string(kBase) + "/courses?page=1&limit=250");
  EXPECT_EQ(r.headers.at("x-auth-api-key"), "tk-secret-key-123");
  EXPECT_EQ(r.headers.at("x-auth-subdomain"), "acme");
  EXPECT_EQ(r.headers.at("accept"), "application/json");
  EXPECT_EQ(r.headers.count("authorization"), 0u);
}

TEST(ThinkificSettings, AccessTokenModeSendsBearerOnlyAndHonoursBaseUrl) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness, "http://127.0.0.1:9/api/public/v1");
  remote.on("GET /courses?page=1&limit=250", reply(200, page(Json::array())));
  auto thinkific = harness.create({{"access_token", "oauth-xyz"}, {"base_url", "http://127.0.0.1:9/api/public/v1/"}});
  ASSERT_TRUE(thinkific.list("courses").is_ok());
  const auto &r = harness.requests().at(0);
  EXPECT_EQ(r.url, "http://127.0.0.1:9/api/public/v1/courses?page=1&limit=250");
  EXPECT_EQ(r.headers.at("authorization"), "Bearer oauth-xyz");
  EXPECT_EQ(r.headers.count("x-auth-api-key"), 0u);
  EXPECT_EQ(r.headers.count("x-auth-subdomain"), 0u);
}
