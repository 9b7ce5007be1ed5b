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
