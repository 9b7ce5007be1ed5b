// Reading a connector's settings: sdk::string_setting and sdk::api_base_url.
#include <gtest/gtest.h>

#include <cartwire/sdk/connector.hpp>

using cartwire::sdk::api_base_url;
using cartwire::sdk::ConfigError;
using cartwire::sdk::Json;

namespace {

std::string refusal(const Json &settings) {
  try {
    api_base_url(settings, "base_url", "https://api.example.com/v1");
  } catch (const ConfigError &e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ApiBaseUrl, TheDefaultOrTheSettingWithoutTrailingSlashes) {
  EXPECT_EQ(api_base_url(Json::object(), "base_url", "https://api.example.com/v1"), "https://api.example.com/v1");
  EXPECT_EQ(api_base_url({{"base_url", nullptr}}, "base_url", "https://a.example.com"), "https://a.example.com");
  EXPECT_EQ(api_base_url({{"base_url", "https://eu.example.com/v2//"}}, "base_url", "https://a.example.com"),
            "https://eu.example.com/v2");
}

TEST(ApiBaseUrl, PlainHttpOnlyToThisMachine) {
  for (const char *local : {"http://127.0.0.1:8089/v1", "http://localhost:9000", "http://LocalHost/api",
                            "http://[::1]:8080/", "http://127.1.2.3"})
    EXPECT_EQ(refusal({{"base_url", local}}), "") << local;
  for (const char *remote : {"http://api.example.com/v1", "http://10.0.0.5:8080", "http://127.0.0.1.example.com/",
                             "http://localhost.example.com", "http://[::2]:80", "http://user@api.example.com"}) {
    std::string why = refusal({{"base_url", remote}});
    EXPECT_NE(why.find("setting 'base_url' must start with https://"), std::string::npos) << remote << ": " << why;
    EXPECT_NE(why.find("credentials"), std::string::npos) << why;
  }
  EXPECT_EQ(refusal({{"base_url", "http://127.0.0.1@api.example.com/"}}).empty(), false)
      << "the host is after the user info";
}

TEST(ApiBaseUrl, OtherSchemesAndNoHostAreRefusedWithoutQuotingTheValue) {
  EXPECT_NE(refusal({{"base_url", "ftp://api.example.com"}}).find("must start with https://"), std::string::npos);
  EXPECT_NE(refusal({{"base_url", "api.example.com/v1"}}).find("must start with https://"), std::string::npos);
  EXPECT_NE(refusal({{"base_url", "https://"}}).find("names no host"), std::string::npos);
  EXPECT_NE(refusal({{"base_url", "https:///v1"}}).find("names no host"), std::string::npos);
  EXPECT_NE(refusal({{"base_url", 42}}).find("must be a string"), std::string::npos);
  EXPECT_EQ(refusal({{"base_url", "http://secret-host.example.com"}}).find("secret-host"), std::string::npos);
}

TEST(SettingsProblems, EveryCheckRunsAndDoneNamesEachProblem) {
  cartwire::sdk::SettingsProblems problems;
  int ran = 0;
  problems.check([&] { ++ran; });
  problems.check([&] {
    ++ran;
    throw ConfigError("setting 'a' is wrong");
  });
  problems.check([&] {
    ++ran;
    throw ConfigError("setting 'b' is wrong");
  });
  EXPECT_EQ(ran, 3);
  try {
    problems.done();
    FAIL() << "done() threw nothing";
  } catch (const ConfigError &e) {
    EXPECT_STREQ(e.what(), "setting 'a' is wrong; setting 'b' is wrong");
  }
  cartwire::sdk::SettingsProblems none;
  none.check([] {});
  EXPECT_NO_THROW(none.done());
}

TEST(UrlHost, TheHostWithoutUserInfoOrPortAndWhetherItIsThisMachine) {
  using cartwire::sdk::is_this_machine;
  using cartwire::sdk::url_host;
  EXPECT_EQ(url_host("https://user:pa:ss@API.Example.com:8443/v1?x=1"), "api.example.com");
  EXPECT_EQ(url_host("http://[::1]:9090/hook"), "[::1]");
  EXPECT_EQ(url_host("ftp://example.com/"), "");
  EXPECT_EQ(url_host("http:///path"), "");
  for (const char *local : {"localhost", "127.0.0.1", "127.8.9.10", "[::1]", "::1"})
    EXPECT_TRUE(is_this_machine(local)) << local;
  for (const char *far : {"example.com", "127.evil.example", "10.0.0.1", "[::2]"})
    EXPECT_FALSE(is_this_machine(far)) << far;
}
