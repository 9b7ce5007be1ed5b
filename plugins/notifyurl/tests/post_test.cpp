// The outbound request of action "post": headers, exact body bytes, signature (Standard Webhooks).
#include "support.hpp"

namespace notifyurl_test {
namespace {

using cartwire::notifyurl::Signer;
using cartwire::notifyurl::Verdict;
using cartwire::notifyurl::verify;

class Post : public PluginTest {};

std::string expected_json_body(const Json &event) {
  return R"({"type":"product.purchased","timestamp":"2026-01-15T10:00:00Z","data":)" + event.dump() + "}";
}

TEST_F(Post, ManifestDeclaresTheAction) {
  Json manifest = harness.manifest();
  EXPECT_EQ(manifest["id"], "notifyurl");
  ASSERT_EQ(manifest["actions"].size(), 1u);
  EXPECT_EQ(manifest["actions"][0]["name"], "post");
  EXPECT_EQ(manifest["actions"][0]["ordered"], false);
  ASSERT_EQ(manifest["settings"].size(), 5u);
  EXPECT_EQ(manifest["settings"][1]["name"], "secret");
  EXPECT_EQ(manifest["settings"][1]["secret"], true);
}

TEST_F(Post, SendsTheSignedJsonEnvelope) {
  Result result = post(settings({{"headers", {{"X-Api-Key", "k-1"}}}}), answer(200));
  ASSERT_EQ(result.outcome, Outcome::ok) << result.message;
  EXPECT_EQ(result.data["webhook_id"], "msg_job_17");
  EXPECT_EQ(result.data["status"], 200);

  ASSERT_EQ(harness.requests().size(), 1u);
  const HttpRequest &request = last_request();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, kUrl);
  EXPECT_EQ(request.body, expected_json_body(purchase_event()));
  EXPECT_EQ(request.headers.at("content-type"), "application/json");
  EXPECT_EQ(request.headers.at("webhook-id"), "msg_job_17");
  EXPECT_EQ(request.headers.at("webhook-timestamp"), std::to_string(kNow));
  EXPECT_EQ(request.headers.at("user-agent"), "Cartwire/1.0");
  EXPECT_EQ(request.headers.at("x-api-key"), "k-1");
  EXPECT_EQ(request.headers.at("webhook-signature"), Signer(kSecret).sign("msg_job_17", kNow, request.body));
  EXPECT_EQ(verify(kSecret, request.headers, request.body, kNow), Verdict::valid);
  EXPECT_EQ(request.timeout, std::chrono::milliseconds(15000));
}

TEST_F(Post, RetriesKeepTheIdAndTakeTheAttemptsTime) {
  harness.on_http([](const HttpRequest &) { return answer(503); });
  auto instance = harness.create(settings());
  harness.set_now_ms(kNow * 1000 + 400);
  instance.action("post", {}, purchase_event(), job(1));
  harness.set_now_ms((kNow + 65) * 1000);
  instance.action("post", {}, purchase_event(), job(2));

  ASSERT_EQ(harness.requests().size(), 2u);
  const HttpRequest &first = harness.requests()[0];
  const HttpRequest &second = harness.requests()[1];
  EXPECT_EQ(first.headers.at("webhook-id"), "msg_job_17");
  EXPECT_EQ(second.headers.at("webhook-id"), first.headers.at("webhook-id"));
  EXPECT_EQ(first.headers.at("webhook-timestamp"), std::to_string(kNow));
  EXPECT_EQ(second.headers.at("webhook-timestamp"), std::to_string(kNow + 65));
  EXPECT_EQ(second.body, first.body);
  EXPECT_NE(second.headers.at("webhook-signature"), first.headers.at("webhook-signature"));
  EXPECT_EQ(verify(kSecret, first.headers, first.body, kNow), Verdict::valid);
  EXPECT_EQ(verify(kSecret, second.headers, second.body, kNow + 65), Verdict::valid);
  EXPECT_EQ(verify(kSecret, first.headers, first.body, kNow + 65 + 300), Verdict::timestamp_out_of_tolerance);
}

TEST_F(Post, WebhookIdNeverContainsAFullStop) {
  post(settings(), answer(200), {}, purchase_event(), job(1, "job.17.retry:2"));
  EXPECT_EQ(last_request().headers.at("webhook-id"), "msg_job_17_retry_2");
  EXPECT_EQ(verify(kSecret, last_request().headers, last_request().body, kNow), Verdict::valid);
}

TEST_F(Post, WithoutASecretNothingIsSigned) {
  Result result = post({{"url", kUrl}}, answer(204));
  EXPECT_EQ(result.outcome, Outcome::ok);
  EXPECT_EQ(last_request().headers.count("webhook-signature"), 0u);
  EXPECT_EQ(last_request().headers.at("webhook-id"), "msg_job_17");
  EXPECT_EQ(last_request().headers.at("webhook-timestamp"), std::to_string(kNow));
}

TEST_F(Post, NullSecretCountsAsNone) {
  post({{"url", kUrl}, {"secret", nullptr}}, answer(200));
  EXPECT_EQ(last_request().headers.count("webhook-signature"), 0u);
}

TEST_F(Post, ParametersOverrideUrlAndData) {
  Json params = {{"url", "https://other.example/hook?x=1"}, {"data", {{"email", "ann@example.com"}, {"amount", 4995}}}};
  Result result = post(settings(), answer(200), params);
  ASSERT_EQ(result.outcome, Outcome::ok) << result.message;
  EXPECT_EQ(last_request().url, "https://other.example/hook?x=1");
  EXPECT_EQ(last_request().body,
            R"({"type":"product.purchased","timestamp":"2026-01-15T10:00:00Z","data":{"amount":4995,"email":"ann@example.com"}})");
  EXPECT_EQ(verify(kSecret, last_request().headers, last_request().body, kNow), Verdict::valid);
}

TEST_F(Post, UnusableParametersFailWithoutARequest) {
  Result bad_url = post(settings(), answer(200), {{"url", "ftp://other.example/"}});
  EXPECT_EQ(bad_url.outcome, Outcome::permanent);
  EXPECT_NE(bad_url.message.find("parameter 'url'"), std::string::npos) << bad_url.message;
  Result bad_data = post(settings(), answer(200), {{"data", "not a map"}});
  EXPECT_EQ(bad_data.outcome, Outcome::permanent);
  EXPECT_NE(bad_data.message.find("parameter 'data'"), std::string::npos) << bad_data.message;
  EXPECT_TRUE(harness.requests().empty());
}

TEST_F(Post, UnknownActionIsPermanent) {
  auto instance = harness.create(settings());
  Result result = instance.action("put", {}, purchase_event());
  EXPECT_EQ(result.outcome, Outcome::permanent);
  EXPECT_TRUE(harness.requests().empty());
}

TEST_F(Post, FormModeSendsPhpBracketFieldsSignedTheSameWay) {
  Json data = {{"customer", {{"email", "ann@example.com"}, {"name", "Zoë Lee"}}},
               {"items", {{{"ref", "upsell-13"}, {"qty", 1}}, {{"ref", "bump-2"}, {"qty", 2}}}},
               {"gift", true},
               {"trial", false},
               {"note", nullptr},
               {"tags", Json::array()},
               {"comment", "50% off & more"}};
  Result result = post(settings({{"format", "form"}}), answer(200), {{"data", data}});
  ASSERT_EQ(result.outcome, Outcome::ok) << result.message;
  const HttpRequest &request = last_request();
  EXPECT_EQ(request.headers.at("content-type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(request.body,
            "type=product.purchased"
            "&timestamp=2026-01-15T10%3A00%3A00Z"
            "&data%5Bcomment%5D=50%25+off+%26+more"
            "&data%5Bcustomer%5D%5Bemail%5D=ann%40example.com"
            "&data%5Bcustomer%5D%5Bname%5D=Zo%C3%AB+Lee"
            "&data%5Bgift%5D=1"
            "&data%5Bitems%5D%5B0%5D%5Bqty%5D=1"
            "&data%5Bitems%5D%5B0%5D%5Bref%5D=upsell-13"
            "&data%5Bitems%5D%5B1%5D%5Bqty%5D=2"
            "&data%5Bitems%5D%5B1%5D%5Bref%5D=bump-2"
            "&data%5Btrial%5D=0");
  EXPECT_EQ(request.headers.at("webhook-signature"), Signer(kSecret).sign("msg_job_17", kNow, request.body));
  EXPECT_EQ(verify(kSecret, request.headers, request.body, kNow), Verdict::valid);
}

TEST_F(Post, TimeoutSettingReachesTheRequest) {
  post(settings({{"timeout_ms", 5000}}), answer(200));
  EXPECT_EQ(last_request().timeout, std::chrono::milliseconds(5000));
  post(settings({{"timeout_ms", "30000"}}), answer(200));
  EXPECT_EQ(last_request().timeout, std::chrono::milliseconds(30000));
}

TEST_F(Post, EventWithoutOccurredAtIsStampedWithTheHubClock) {
  Json event = purchase_event();
  event.erase("occurred_at");
  harness.set_now_ms((kNow + 30) * 1000);
  post(settings(), answer(200), {}, event);
  EXPECT_EQ(Json::parse(last_request().body)["timestamp"], "2026-01-15T10:00:30Z");
}

}  // namespace
}  // namespace notifyurl_test
