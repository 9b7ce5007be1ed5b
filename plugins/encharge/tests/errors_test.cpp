// How Encharge's answers and transport failures become results.
#include "support.hpp"

namespace encharge_test {
namespace {

class Errors : public EnchargeTest {
 protected:
  Result track(HttpResponse response) {
    answer_all(harness, std::move(response));
    auto c = harness.create(settings());
    return c.action("track_event", Json::object(), tc_purchase());
  }
};

TEST_F(Errors, WrongWriteKeyIsConfigAndDoesNotLeakIt) {
  Result r = track(answer(401, R"({"error":"Invalid write key."})"));
  EXPECT_EQ(r.outcome, Outcome::config);
  EXPECT_NE(r.message.find("Encharge POST /v1/: HTTP 401"), std::string::npos) << r.message;
  EXPECT_EQ(r.message.find(kWriteKey), std::string::npos);
}

TEST_F(Errors, ForbiddenIsConfig) { EXPECT_EQ(track(answer(403, "{}")).outcome, Outcome::config); }

TEST_F(Errors, BadRequestIsPermanent) {
  Result r = track(answer(400, R"({"error":"Missing user email or userId."})"));
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_NE(r.message.find("Missing user email"), std::string::npos) << r.message;
}

TEST_F(Errors, NotFoundAndUnprocessableArePermanent) {
  EXPECT_EQ(track(answer(404, "{}")).outcome, Outcome::permanent);
  EXPECT_EQ(track(answer(422, R"({"error":"invalid"})")).outcome, Outcome::permanent);
}

TEST_F(Errors, TooManyRequestsHonoursRetryAfter) {
  Result r = track(answer(429, R"({"error":"slow down"})", {{"retry-after", "7"}}));
  EXPECT_EQ(r.outcome, Outcome::retryable);
  ASSERT_TRUE(r.retry_after.has_value());
  EXPECT_EQ(r.retry_after->count(), 7000);
}

TEST_F(Errors, ServerErrorsAreRetryable) {
  Result r = track(answer(500, "oops"));
  EXPECT_EQ(r.outcome, Outcome::retryable);
  EXPECT_FALSE(r.retry_after.has_value());
  EXPECT_EQ(track(answer(503, "{}")).outcome, Outcome::retryable);
}

TEST_F(Errors, TimeoutIsRetryable) {
  HttpResponse timeout;
  timeout.error = "timed out after 15000 ms";
  timeout.timed_out = true;
  Result r = track(timeout);
  EXPECT_EQ(r.outcome, Outcome::retryable);
  EXPECT_NE(r.message.find("timed out"), std::string::npos) << r.message;
}

TEST_F(Errors, ConnectionRefusedIsRetryable) {
  HttpResponse refused;
  refused.error = "Connection refused";
  EXPECT_EQ(track(refused).outcome, Outcome::retryable);
}

TEST_F(Errors, SuccessBodyIsNotRequired) {
  Result r = track(answer(200, ""));
  EXPECT_TRUE(r.is_ok()) << r.message;
  EXPECT_EQ(r.data["name"], "ThriveCart purchase");
  EXPECT_EQ(r.data["email"], "ann@example.com");
}

TEST_F(Errors, RestRateLimitIsRetryable) {
  answer_all(harness, answer(429, "{}", {{"retry-after", "2"}}));
  auto c = harness.create(settings_with_api_key());
  Result r = c.action("remove_tag", {{"tags", "trial"}}, tc_purchase());
  EXPECT_EQ(r.outcome, Outcome::retryable);
  EXPECT_EQ(r.retry_after->count(), 2000);
}

}  // namespace
}  // namespace encharge_test
