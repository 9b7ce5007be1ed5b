#include <gtest/gtest.h>

#include <cartwire/sdk/webhook.hpp>

using cartwire::sdk::answer_probe;
using cartwire::sdk::Json;
using cartwire::sdk::WebhookRequest;

namespace {
WebhookRequest with_method(const std::string &method) {
  WebhookRequest r;
  r.method = method;
  return r;
}
}  // namespace

TEST(AnswerProbe, HeadAndGetAreAnsweredWithoutEvents) {
  auto head = answer_probe(with_method("head"), "Cart webhooks");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty()) << "a HEAD answer has no body";
  EXPECT_TRUE(head->events.empty());
  auto get = answer_probe(with_method("GET"), "Cart webhooks");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_TRUE(get->events.empty());
}

TEST(AnswerProbe, PostIsLeftToTheConnectorAndOtherMethodsAreRefused) {
  EXPECT_FALSE(answer_probe(with_method("POST"), "Cart webhooks"));
  EXPECT_FALSE(answer_probe(with_method("post"), "Cart webhooks"));
  auto put = answer_probe(with_method("PUT"), "Cart webhooks");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 405);
  EXPECT_EQ(Json::parse(put->body)["error"], "Cart webhooks are POST requests, not PUT");
}

TEST(JsonObjectBody, AnObjectOrAReasonThatNeverQuotesTheBody) {
  using cartwire::sdk::parse_json_object;
  EXPECT_EQ(*parse_json_object(R"({"order_id": 7})").object, (cartwire::sdk::Json{{"order_id", 7}}));
  EXPECT_EQ(*parse_json_object(" \r\n").object, cartwire::sdk::Json::object()) << "an empty post is an empty object";
  auto list = parse_json_object("[1]");
  EXPECT_FALSE(list.object);
  EXPECT_EQ(list.error, "JSON body must be an object, got array");
  auto broken = parse_json_object(R"({"secret": "hunter2-word", oops})");
  EXPECT_FALSE(broken.object);
  EXPECT_EQ(broken.error.find("hunter2"), std::string::npos) << broken.error;
  EXPECT_NE(broken.error.find("syntax error at byte"), std::string::npos) << broken.error;
  auto huge = parse_json_object(R"({"amount": 1e400})");
  EXPECT_FALSE(huge.object);
  EXPECT_EQ(huge.error, "body holds a number too large to read (such as 1e400)");
}

TEST(ValidUtf8, KeepsUtf8AndReplacesWhatIsNot) {
  using cartwire::sdk::is_utf8;
  using cartwire::sdk::valid_utf8;
  for (const char *good : {"", "ascii", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xef\xbf\xbd"})
    EXPECT_TRUE(is_utf8(good)) << good;
  for (const char *bad : {"caf\xe9", "\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff"})
    EXPECT_FALSE(is_utf8(bad)) << bad;
  EXPECT_EQ(valid_utf8("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(valid_utf8("caf\xe9 ok"), "caf\xef\xbf\xbd ok");
  EXPECT_EQ(valid_utf8("cut \xc3"), "cut \xef\xbf\xbd");
}
