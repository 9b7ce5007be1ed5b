// Setup checks, the hook URL token and body decoding.
#include "support.hpp"

namespace samcart_test {
namespace {

class Transport : public ConnectorTest {
 protected:
  void expect_no_token_leak(const WebhookReply &reply, const std::string &guess) {
    for (const std::string &secret : {std::string(kToken), guess}) {
      EXPECT_EQ(reply.body.find(secret), std::string::npos) << reply.body;
      for (auto &line : harness_.logs()) EXPECT_EQ(line.message.find(secret), std::string::npos) << line.message;
    }
  }
};

TEST_F(Transport, HeadAnswers200WithAnEmptyBodyAndNoToken) {
  WebhookRequest request = post_body("", "");
  request.method = "HEAD";
  WebhookReply reply = send(request);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "");
  EXPECT_TRUE(reply.events.empty());
}

TEST_F(Transport, GetAnswersOk) {
  WebhookRequest request = post_body("", "");
  request.method = "GET";
  WebhookReply reply = send(request);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(Json::parse(reply.body), Json({{"ok", true}}));
  EXPECT_TRUE(reply.events.empty());
}

TEST_F(Transport, OtherMethodsAreRefused) {
  WebhookRequest request = post(classic("Order"));
  request.method = "PUT";
  EXPECT_EQ(send(request).status, 405);
}

TEST_F(Transport, OtherTriggersAreRefused) {
  WebhookRequest request = post(classic("Order"));
  request.trigger = "poll";
  EXPECT_EQ(send(request).status, 404);
}

TEST_F(Transport, TokenAsLastPathSegment) {
  accept(post(classic("Order")), 2);
  WebhookRequest trailing = post(classic("Order"));
  trailing.path += "/";
  accept(trailing, 2);
  WebhookRequest nested = post(classic("Order"));
  nested.path = "/samcart/" + std::string(kToken);
  accept(nested, 2);
}

TEST_F(Transport, TokenAsQueryParameter) {
  auto events = accept(post_query(classic("Order")), 2);
  EXPECT_EQ(events[0]["type"], "order.completed");
}

TEST_F(Transport, EitherPlaceMayCarryTheToken) {
  WebhookRequest request = post_query(classic("Order"));
  request.path = "/not-the-token";
  accept(request, 2);
  request = post(classic("Order"));
  request.query["token"] = "not-the-token";
  accept(request, 2);
}

TEST_F(Transport, MissingTokenIs401) {
  for (std::string path : {"", "/", "//"}) {
    WebhookRequest request = post(classic("Order"), "");
    request.path = path;
    WebhookReply reply = send(request);
    EXPECT_EQ(reply.status, 401) << path;
    EXPECT_NE(reply.body.find("carries no token"), std::string::npos) << reply.body;
    EXPECT_TRUE(reply.events.empty());
  }
  WebhookRequest empty_query = post(classic("Order"), "");
  empty_query.query["token"] = "";
  EXPECT_EQ(send(empty_query).status, 401);
}

TEST_F(Transport, WrongTokenIs401AndNeverEchoed) {
  std::string token = kToken;
  for (const std::string &guess : std::vector<std::string>{"wrong-token-0000000000", token.substr(0, token.size() - 1),
                                                          token + "x", token + " ", "3F9C1C2A7D5E4B8A9C0D1E2F"}) {
    for (const WebhookRequest &request : {post(classic("Order"), guess), post_query(classic("Order"), guess)}) {
      WebhookReply reply = send(request);
      EXPECT_EQ(reply.status, 401) << guess;
      EXPECT_NE(reply.body.find("does not match"), std::string::npos) << reply.body;
      EXPECT_TRUE(reply.events.empty());
      expect_no_token_leak(reply, guess);
    }
  }
}

TEST_F(Transport, TokenIsCheckedBeforeTheBody) {
  WebhookReply reply = send(post_body("{not json", "wrong-token-0000000000"));
  EXPECT_EQ(reply.status, 401);
}

TEST_F(Transport, MalformedJsonIs400) {
  for (const std::string &body : {std::string(R"({"type":"Order",)"), std::string("{not json"),
                                  std::string("type=Order&order[id]=1"), std::string(R"({"type":"Order"} trailing)")}) {
    WebhookReply reply = send(post_body(body));
    EXPECT_EQ(reply.status, 400) << body;
    EXPECT_NE(reply.body.find("not valid JSON"), std::string::npos) << reply.body;
    EXPECT_TRUE(reply.events.empty());
  }
}

TEST_F(Transport, ANumberTooLargeToReadIs400) {
  WebhookReply reply = send(post_body(R"({"type":"Order","order":{"id":1,"total":1e400}})"));
  EXPECT_EQ(reply.status, 400) << reply.body;
  EXPECT_NE(reply.body.find("a number too large to read"), std::string::npos) << reply.body;
}

TEST_F(Transport, JsonThatIsNotAnObjectIs400) {
  WebhookReply reply = send(post_body(R"(["Order"])"));
  EXPECT_EQ(reply.status, 400);
  EXPECT_NE(reply.body.find("must be an object, got array"), std::string::npos) << reply.body;
}

TEST_F(Transport, EmptyTestPostsRecordNothing) {
  for (std::string body : {"", "  \n", "{}"}) {
    WebhookReply reply = send(post_body(body));
    EXPECT_EQ(reply.status, 200) << body;
    EXPECT_TRUE(reply.events.empty()) << body;
  }
}

TEST_F(Transport, TheDocumentedExampleIsAccepted) {
  auto events = accept(post_body(kSection4Example), 2);
  EXPECT_EQ(events[0]["type"], "order.completed");
  EXPECT_EQ(events[1]["type"], "product.purchased");
  EXPECT_EQ(events[1]["item"]["amount"], 4995);
}

TEST_F(Transport, ApiKeyIsNotStored) {
  Json payload = classic("Order");
  payload["api_key"] = "sc_live_key_abcdef";
  for (const Json &event : accept(payload, 2)) {
    EXPECT_FALSE(event["raw"].contains("api_key"));
    EXPECT_EQ(event.dump().find("sc_live_key_abcdef"), std::string::npos);
  }
}

TEST_F(Transport, NothingIsLoggedForAnOrdinaryDelivery) {
  accept(classic("Order"), 2);
  EXPECT_TRUE(harness_.logs().empty());
}

}  // namespace
}  // namespace samcart_test
