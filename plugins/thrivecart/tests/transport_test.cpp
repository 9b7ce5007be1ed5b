// Setup pings, verification and body decoding failures.
#include <cartwire/sdk/event.hpp>

#include "fixtures.hpp"

namespace thrivecart_test {
namespace {

class Transport : public ConnectorTest {
 protected:
  void expect_no_secret_leak(const WebhookReply &reply) {
    EXPECT_EQ(reply.body.find(kSecret), std::string::npos) << reply.body;
    for (auto &line : harness_.logs()) EXPECT_EQ(line.message.find(kSecret), std::string::npos) << line.message;
  }
};

TEST_F(Transport, HeadAnswers200WithAnEmptyBody) {
  WebhookRequest request;
  request.trigger = "webhook";
  request.method = "HEAD";
  WebhookReply reply = send(request);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "");
  EXPECT_TRUE(reply.events.empty());
}

TEST_F(Transport, GetAnswersOk) {
  WebhookRequest request;
  request.trigger = "webhook";
  request.method = "GET";
  WebhookReply reply = send(request);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(Json::parse(reply.body), Json({{"ok", true}}));
  EXPECT_TRUE(reply.events.empty());
}

TEST_F(Transport, OtherMethodsAreRefused) {
  WebhookRequest request = post("", "");
  request.method = "PUT";
  EXPECT_EQ(send(request).status, 405);
}

TEST_F(Transport, PingPostsWithoutAnEventRecordNothing) {
  for (const WebhookRequest &ping : {post("", ""), post("", "application/x-www-form-urlencoded"),
                                     post("thrivecart_account=acme", "application/x-www-form-urlencoded"),
                                     post("{}", "application/json"), post(R"({"event":"null"})", "application/json"),
                                     // No secret either: a ping is answered before verification.
                                     post("mode=live&thrivecart_secret=wrong", "")}) {
    WebhookReply reply = send(ping);
    EXPECT_EQ(reply.status, 200) << ping.body;
    EXPECT_TRUE(reply.events.empty()) << ping.body;
  }
}

TEST_F(Transport, AnUnknownEventIsKeptUnderATypeOfNameCharactersAndAListIs400) {
  // Never dropped (ThriveCart may add events), under an event type.
  for (auto [name, type] : std::vector<std::pair<std::string, std::string>>{
           {"affiliate.commission_earned", "thrivecart.affiliate.commission_earned"},
           {"Cart.Abandoned-v2", "thrivecart.cart.abandoned_v2"},
           {"cart.abandonedV2", "thrivecart.cart.abandoned_v2"},
           {"../cart abandoned/\x1b[31m.", "thrivecart._cart_abandoned___31m"},
           {"..", "thrivecart.unnamed"},
           {std::string(120, 'a'), "thrivecart." + std::string(89, 'a')}}) {
    WebhookReply kept = send(post_form(with(order_success(), {{"event", name}})));
    EXPECT_EQ(kept.status, 200) << kept.body;
    ASSERT_EQ(kept.events.size(), 1u) << name;
    EXPECT_EQ(kept.events[0]["type"], type);
    EXPECT_TRUE(cartwire::sdk::is_event_type(kept.events[0]["type"].get<std::string>())) << type;
  }
  // An event that is a list is no name, and no setup ping either.
  WebhookReply list = send(post(encode(without(order_success(), "event")) + "&event%5B%5D=order.success", ""));
  EXPECT_EQ(list.status, 400) << list.body;
  EXPECT_NE(list.body.find("event must be text"), std::string::npos) << list.body;
  EXPECT_TRUE(list.events.empty());
}

TEST_F(Transport, MissingSecretIs401) {
  WebhookReply reply = send(post(encode(without(order_success(), "thrivecart_secret")), ""));
  EXPECT_EQ(reply.status, 401);
  EXPECT_NE(reply.body.find("thrivecart_secret is missing"), std::string::npos) << reply.body;
  EXPECT_TRUE(reply.events.empty());
}

TEST_F(Transport, WrongSecretIs401AndNeverEchoed) {
  for (const char *guess : {"wrong", "S3cretWor", "S3cretWordX", "s3cretword", "S3cretWord ", "null2"}) {
    WebhookReply reply = send(post_form(with(order_success(), {{"thrivecart_secret", guess}})));
    EXPECT_EQ(reply.status, 401) << guess;
    EXPECT_NE(reply.body.find("does not match"), std::string::npos) << reply.body;
    EXPECT_EQ(reply.body.find(guess), std::string::npos) << reply.body;
    EXPECT_TRUE(reply.events.empty());
    expect_no_secret_leak(reply);
  }
}

TEST_F(Transport, WrongSecretIn401ForJsonToo) {
  Json payload = to_json(order_success());
  payload["thrivecart_secret"] = "nope";
  EXPECT_EQ(send(post_json(payload)).status, 401);
  payload.erase("thrivecart_secret");
  EXPECT_EQ(send(post_json(payload)).status, 401);
}

TEST_F(Transport, AccountMustMatchWhenConfigured) {
  WebhookReply reply = send(post_form(with(order_success(), {{"thrivecart_account", "evil"}})));
  EXPECT_EQ(reply.status, 401);
  EXPECT_NE(reply.body.find("thrivecart_account 'evil'"), std::string::npos) << reply.body;
  EXPECT_TRUE(reply.events.empty());

  reply = send(post_form(without(order_success(), "thrivecart_account")));
  EXPECT_EQ(reply.status, 401);
  EXPECT_NE(reply.body.find("thrivecart_account is missing"), std::string::npos) << reply.body;

  // Subdomains are case-insensitive.
  EXPECT_EQ(send(post_form(with(order_success(), {{"thrivecart_account", "ACME"}}))).status, 200);
}

class NoAccountSetting : public ConnectorTest {
 protected:
  NoAccountSetting() : ConnectorTest({{"secret", kSecret}}) {}
};

TEST_F(NoAccountSetting, AnyAccountIsAcceptedAndNamesTheKeys) {
  auto events = accept(with(order_success(), {{"thrivecart_account", "other"}}), 4);
  EXPECT_EQ(events[0]["dedupe_key"], "tc:other:order:1514394");
}

TEST_F(Transport, MalformedJsonIs400) {
  for (const WebhookRequest &request :
       {post(R"({"event":"order.success",)", "application/json"), post("{not json", ""),
        post("event=order.success", "application/json"), post(R"({"event": "order.success"} trailing)", "")}) {
    WebhookReply reply = send(request);
    EXPECT_EQ(reply.status, 400) << request.body;
    EXPECT_NE(reply.body.find("not valid JSON"), std::string::npos) << reply.body;
    EXPECT_TRUE(reply.events.empty());
  }
}

TEST_F(Transport, ANumberTooLargeToReadIs400) {
  WebhookReply reply = send(post(R"({"event":"order.success","order":{"total":1e400}})", "application/json"));
  EXPECT_EQ(reply.status, 400) << reply.body;
  EXPECT_NE(reply.body.find("a number too large to read"), std::string::npos) << reply.body;
}

TEST_F(Transport, JsonThatIsNotAnObjectIs400) {
  WebhookReply reply = send(post(R"(["order.success"])", "application/json; charset=utf-8"));
  EXPECT_EQ(reply.status, 400);
  EXPECT_NE(reply.body.find("must be an object, got array"), std::string::npos) << reply.body;
}

TEST_F(Transport, MalformedPercentEscapeIs400WithoutQuotingTheValue) {
  std::string body = encode(order_success()) + "&thrivecart_secret=S3cret%ZZWord";
  WebhookReply reply = send(post(body, "application/x-www-form-urlencoded"));
  EXPECT_EQ(reply.status, 400);
  EXPECT_NE(reply.body.find("malformed %-escape in the value of pair"), std::string::npos) << reply.body;
  EXPECT_EQ(reply.body.find("S3cret"), std::string::npos) << reply.body;

  reply = send(post("event=order.success&order%5=1", ""));
  EXPECT_EQ(reply.status, 400);
  EXPECT_NE(reply.body.find("in the key of pair 2"), std::string::npos) << reply.body;
}

TEST_F(Transport, InvalidUtf8Is400) {
  WebhookReply reply = send(post(encode(order_success()) + "&customer[name]=Ann%FFLee", ""));
  EXPECT_EQ(reply.status, 400);
  EXPECT_NE(reply.body.find("not valid UTF-8"), std::string::npos) << reply.body;
}

TEST_F(Transport, MultipartIs415) {
  EXPECT_EQ(send(post("--x\r\n", "multipart/form-data; boundary=x")).status, 415);
}

TEST_F(Transport, ValidDeliveryWithoutContentTypeIsReadAsForm) {
  auto events = accept(post(encode(order_success()), ""), 4);
  EXPECT_EQ(events[0]["type"], "order.completed");
}

TEST_F(Transport, BodyStartingWithBraceIsReadAsJsonWhateverTheContentType) {
  auto events = accept(post(to_json(order_success()).dump(), "application/x-www-form-urlencoded"), 4);
  EXPECT_EQ(events[0]["type"], "order.completed");
}

}  // namespace
}  // namespace thrivecart_test
