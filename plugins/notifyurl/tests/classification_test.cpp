// What each answer from the receiver means for the job (retryable, permanent, configuration).
#include "support.hpp"

namespace notifyurl_test {
namespace {

class Classification : public PluginTest {
 protected:
  Result deliver(const HttpResponse &response) { return post(settings(), response); }
};

bool mentions(const Result &result, const std::string &text) {
  return result.message.find(text) != std::string::npos;
}

TEST_F(Classification, TwoHundredsAreDelivered) {
  Result json = deliver(answer(200, {{"content-type", "application/json"}}, R"({"received":true})"));
  ASSERT_EQ(json.outcome, Outcome::ok);
  EXPECT_EQ(json.data["response"], Json({{"received", true}}));
  EXPECT_EQ(json.data["webhook_id"], "msg_job_17");
  Result empty = deliver(answer(204));
  EXPECT_EQ(empty.outcome, Outcome::ok);
  EXPECT_FALSE(empty.data.contains("response"));
  EXPECT_EQ(deliver(answer(202, {}, "queued")).outcome, Outcome::ok);
}

TEST_F(Classification, RedirectsAreNotFollowed) {
  Result result = deliver(answer(301, {{"location", "https://receiver.example/new"}}));
  EXPECT_EQ(result.outcome, Outcome::permanent);
  EXPECT_TRUE(mentions(result, "redirects are not followed")) << result.message;
  EXPECT_TRUE(mentions(result, "https://receiver.example/new")) << result.message;
  EXPECT_EQ(deliver(answer(307, {{"retry-after", "5"}})).outcome, Outcome::permanent);
  EXPECT_EQ(harness.requests().size(), 2u);
}

TEST_F(Classification, GoneMeansStop) {
  Result result = deliver(answer(410, {{"retry-after", "60"}}));
  EXPECT_EQ(result.outcome, Outcome::permanent);
  EXPECT_TRUE(mentions(result, "HTTP 410")) << result.message;
  EXPECT_TRUE(mentions(result, "asked to stop receiving webhooks")) << result.message;
}

TEST_F(Classification, AGoneEndpointGetsNothingMoreUntilTheIntegrationIsCreatedAgain) {
  harness.on_http([](const HttpRequest &) { return answer(410); });
  auto instance = harness.create(settings());
  EXPECT_EQ(instance.action("post", Json::object(), purchase_event(), job(1, "job_1")).outcome, Outcome::permanent);
  Result next = instance.action("post", Json::object(), purchase_event(), job(1, "job_2"));
  EXPECT_EQ(next.outcome, Outcome::permanent);
  EXPECT_TRUE(mentions(next, "not sent: the endpoint answered 410 Gone at 2026-01-15T10:00:00Z")) << next.message;
  EXPECT_EQ(harness.requests().size(), 1u);
  // A rule's own url is another endpoint; a reload (a new instance) tries the gone one again.
  EXPECT_EQ(instance.action("post", {{"url", "https://other.example/in"}}, purchase_event(), job(1, "job_3")).outcome,
            Outcome::permanent);
  EXPECT_EQ(harness.requests().size(), 2u);
  harness.create(settings()).action("post", Json::object(), purchase_event(), job(1, "job_4"));
  EXPECT_EQ(harness.requests().size(), 3u);
}

TEST_F(Classification, ThrottlingHonoursRetryAfterSeconds) {
  Result result = deliver(answer(429, {{"retry-after", "30"}}));
  EXPECT_EQ(result.outcome, Outcome::retryable);
  EXPECT_EQ(result.retry_after, std::chrono::milliseconds(30000));
}

TEST_F(Classification, RetryAfterAsAnHttpDateCountsFromTheHubClock) {
  Result result = deliver(answer(503, {{"retry-after", "Thu, 15 Jan 2026 10:02:00 GMT"}}));
  EXPECT_EQ(result.outcome, Outcome::retryable);
  EXPECT_EQ(result.retry_after, std::chrono::milliseconds(120000));
  Result past = deliver(answer(503, {{"retry-after", "Thu, 15 Jan 2026 09:00:00 GMT"}}));
  EXPECT_EQ(past.retry_after, std::chrono::milliseconds(0));
}

TEST_F(Classification, ServerErrorsAreRetried) {
  for (int status : {429, 500, 502, 503, 504, 408}) {
    Result result = deliver(answer(status, {}, "busy"));
    EXPECT_EQ(result.outcome, Outcome::retryable) << status;
    EXPECT_FALSE(result.retry_after) << status;
    EXPECT_TRUE(mentions(result, "HTTP " + std::to_string(status) + " busy")) << result.message;
  }
}

TEST_F(Classification, UnreadableRetryAfterIsIgnored) {
  for (const char *value : {"inf", "1e9", "-5", "soon"}) {
    Result result = deliver(answer(503, {{"retry-after", value}}));
    EXPECT_EQ(result.outcome, Outcome::retryable) << value;
    EXPECT_FALSE(result.retry_after) << value;
  }
}

TEST_F(Classification, RetryAfterMakesAnyFailureRetryable) {
  Result result = deliver(answer(409, {{"retry-after", "10"}}));
  EXPECT_EQ(result.outcome, Outcome::retryable);
  EXPECT_EQ(result.retry_after, std::chrono::milliseconds(10000));
}

TEST_F(Classification, TransportFailuresAreRetried) {
  HttpResponse timeout;
  timeout.error = "timeout";
  timeout.timed_out = true;
  Result timed_out = deliver(timeout);
  EXPECT_EQ(timed_out.outcome, Outcome::retryable);
  EXPECT_TRUE(mentions(timed_out, "timed out")) << timed_out.message;
  HttpResponse reset;
  reset.error = "connection reset by peer";
  Result failed = deliver(reset);
  EXPECT_EQ(failed.outcome, Outcome::retryable);
  EXPECT_TRUE(mentions(failed, "connection reset by peer")) << failed.message;
}

TEST_F(Classification, ClientErrorsFollowTheSdk) {
  EXPECT_EQ(deliver(answer(400)).outcome, Outcome::permanent);
  EXPECT_EQ(deliver(answer(404)).outcome, Outcome::permanent);
  EXPECT_EQ(deliver(answer(401)).outcome, Outcome::config);
  EXPECT_EQ(deliver(answer(403)).outcome, Outcome::config);
}

TEST_F(Classification, AbortMessageStopsRetries) {
  for (int status : {500, 429, 400}) {
    Result result = deliver(answer(status, {{"webhook-delivery", "abort-message"}, {"retry-after", "5"}}));
    EXPECT_EQ(result.outcome, Outcome::permanent) << status;
    EXPECT_TRUE(mentions(result, "abort-message")) << result.message;
  }
}

// Two endpoints of one host are told apart by their paths; a query, which may carry a credential, never
// shows (the hub masks a token of the path: Redactor.AUrlSettingsPathTokensAreSecrets).
TEST_F(Classification, MessagesNameTheHostAndPathButNeitherQueryNorUserInfo) {
  Json orders = {{"url", "https://ann:pass-4Fv8Nq@hooks.example.com:8443/in/orders?sig=Qw83Lp2Zx9#top"}, {"secret", kSecret}};
  Result result = post(orders, answer(500, {}, "oops"));
  EXPECT_TRUE(mentions(result, "POST https://hooks.example.com:8443/in/orders: HTTP 500 oops")) << result.message;
  for (auto hidden : {"sig", "Qw83Lp2Zx9", "pass-4Fv8Nq", "ann", "top", "?"})
    EXPECT_FALSE(mentions(result, hidden)) << hidden << ": " << result.message;
  Json refunds = {{"url", "https://hooks.example.com:8443/in/refunds"}, {"secret", kSecret}};
  EXPECT_TRUE(mentions(post(refunds, answer(503, {}, "busy")), "POST https://hooks.example.com:8443/in/refunds: HTTP 503"));
  Json bare = {{"url", "https://hooks.example.com?token=tok-7Rw2Lp9q"}, {"secret", kSecret}};
  EXPECT_TRUE(mentions(post(bare, answer(500, {}, "oops")), "POST https://hooks.example.com: HTTP 500 oops"));
}

}  // namespace
}  // namespace notifyurl_test
