// The template's tests: the built hello.so through the hub's seam, with the
// SDK's test kit answering its HTTP requests, without a hub.
#include <gtest/gtest.h>

#include <cartwire/sdk/testing/plugin_harness.hpp>

namespace {

using cartwire::sdk::HttpRequest;
using cartwire::sdk::HttpResponse;
using cartwire::sdk::Json;
using cartwire::sdk::Outcome;
using cartwire::sdk::testing::PluginHarness;

const Json kEvent = {{"type", "order.completed"}, {"customer", {{"email", "ann@example.com"}, {"first_name", "Ann"}}}};

TEST(Hello, PostsTheGreetingWithTheToken) {
  PluginHarness harness(PLUGIN_PATH);
  harness.on_http([](const HttpRequest &) { return HttpResponse{201, {}, R"({"id":1})"}; });
  auto hello = harness.create({{"url", "https://example.test/greet"}, {"token", "t0ken"}});
  auto result = hello.action("greet", {{"greeting", "Hi"}}, kEvent);
  EXPECT_EQ(result.outcome, Outcome::ok) << result.message;
  ASSERT_EQ(harness.requests().size(), 1u);
  const HttpRequest &sent = harness.requests().at(0);
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.url, "https://example.test/greet");
  EXPECT_EQ(sent.headers.at("authorization"), "Bearer t0ken");
  EXPECT_EQ(Json::parse(sent.body), (Json{{"greeting", "Hi, Ann"}}));
}

TEST(Hello, AServerErrorIsRetriedAfterWhatItAsks) {
  PluginHarness harness(PLUGIN_PATH);
  harness.on_http([](const HttpRequest &) { return HttpResponse{503, {{"retry-after", "30"}}, "busy"}; });
  auto hello = harness.create({{"url", "https://example.test/greet"}});
  auto result = hello.action("greet", Json::object(), kEvent);
  EXPECT_EQ(result.outcome, Outcome::retryable);
  EXPECT_EQ(result.retry_after, std::chrono::seconds(30));
}

TEST(Hello, RefusesToSendItsTokenOverPlainHttp) {
  PluginHarness harness(PLUGIN_PATH);
  try {
    harness.create({{"url", "http://example.test/greet"}, {"token", "t0ken"}});
    FAIL() << "created";
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("setting 'url' must start with https://"), std::string::npos) << e.what();
  }
}

}  // namespace
