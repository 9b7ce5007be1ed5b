// How Thinkific's answers are classified: auth, validation, rate limits, outages.
#include "support.hpp"

using namespace thinkific_test;

namespace {

Result enrol_against(const HttpResponse &users_answer, int64_t now_ms = 1768471200000) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  harness.set_now_ms(now_ms);
  Remote remote(harness);
  remote.on(kUsersByEmail, users_answer);
  auto thinkific = harness.create(key_settings());
  Result r = thinkific.action("enroll_course", {{"course_id", 42}}, event(), job());
  EXPECT_EQ(harness.requests().size(), 1u);
  return r;
}

}  // namespace

TEST(ThinkificErrors, BadCredentialsAreAConfigProblemWithoutTheKey) {
  Result r = enrol_against(reply(401, {{"error", "Authentication Error"}}));
  EXPECT_EQ(r.outcome, Outcome::config);
  EXPECT_NE(r.message.find("Thinkific GET /users: HTTP 401"), std::string::npos) << r.message;
  EXPECT_EQ(r.message.find("tk-secret-key-123"), std::string::npos);
  EXPECT_EQ(enrol_against(reply(403, {{"error", "Access to Apps is not available on your plan"}})).outcome,
            Outcome::config);
}

TEST(ThinkificErrors, RateLimitResetAsDelayInMilliseconds) {
  Result r = enrol_against(reply(429, nullptr, {{"RateLimit-Reset", "1500"}}));
  EXPECT_EQ(r.outcome, Outcome::retryable);
  ASSERT_TRUE(r.retry_after.has_value());
  EXPECT_EQ(r.retry_after->count(), 1500);
}

TEST(ThinkificErrors, RateLimitResetAsEpochSecondsOrMilliseconds) {
  const int64_t now = 1768471200000;
  Result seconds = enrol_against(reply(429, nullptr, {{"RateLimit-Reset", "1768471230"}}), now);
  ASSERT_TRUE(seconds.retry_after.has_value());
  EXPECT_EQ(seconds.retry_after->count(), 30000);
  Result millis = enrol_against(reply(429, nullptr, {{"RateLimit-Reset", "1768471202500"}}), now);
  ASSERT_TRUE(millis.retry_after.has_value());
  EXPECT_EQ(millis.retry_after->count(), 2500);
  Result past = enrol_against(reply(429, nullptr, {{"RateLimit-Reset", "1768471100"}}), now);
  ASSERT_TRUE(past.retry_after.has_value());
  EXPECT_EQ(past.retry_after->count(), 0);
}

TEST(ThinkificErrors, ARateLimitResetThatIsNoTimeWithinAYearFallsBackToRetryAfter) {
  // A number no integer holds ("inf", "1e300") made the hub's own code undefined.
  for (const char *value : {"inf", "nan", "1e300", "9.3e18", "-inf", "99999999999999"}) {
    Result r = enrol_against(reply(429, nullptr, {{"RateLimit-Reset", value}, {"Retry-After", "7"}}));
    EXPECT_EQ(r.outcome, Outcome::retryable) << value;
    ASSERT_TRUE(r.retry_after.has_value()) << value;
    EXPECT_EQ(r.retry_after->count(), 7000) << value;
  }
}

TEST(ThinkificErrors, RetryAfterIsTheFallbackAndBare429IsStillRetryable) {
  Result r = enrol_against(reply(429, {{"error", "Too Many Requests"}}, {{"Retry-After", "7"}}));
  EXPECT_EQ(r.outcome, Outcome::retryable);
  ASSERT_TRUE(r.retry_after.has_value());
  EXPECT_EQ(r.retry_after->count(), 7000);
  Result bare = enrol_against(reply(429));
  EXPECT_EQ(bare.outcome, Outcome::retryable);
  EXPECT_FALSE(bare.retry_after.has_value());
}

TEST(ThinkificErrors, OldStyleRateLimit403IsRetryable) {
  Result r = enrol_against(reply(403, {{"error", "Rate Limit Exceeded"}}));
  EXPECT_EQ(r.outcome, Outcome::retryable);
}

TEST(ThinkificErrors, OutagesAndTimeoutsAreRetryable) {
  EXPECT_EQ(enrol_against(reply(500, {{"error", "boom"}})).outcome, Outcome::retryable);
  EXPECT_EQ(enrol_against(reply(503)).outcome, Outcome::retryable);
  HttpResponse timeout;
  timeout.error = "timed out after 15000 ms";
  timeout.timed_out = true;
  Result r = enrol_against(timeout);
  EXPECT_EQ(r.outcome, Outcome::retryable);
  EXPECT_EQ(r.message, "Thinkific GET /users: timed out");
}

TEST(ThinkificErrors, ValidationErrorsInBothShapesArePermanentAndReadable) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on(kUsersByEmail, reply(200, page(Json::array())))
      .on("POST /users", reply(422, {{"errors", {{"first_name", {"can't be blank"}}, {"email", {"is invalid", "is too long"}}}}}));
  auto thinkific = harness.create(key_settings());
  Result r = thinkific.action("upsert_user", Json::object(), event(), job());
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_EQ(r.message, "Thinkific POST /users: HTTP 422 email is invalid, is too long; first_name can't be blank");
  // After a 422 the user is looked up once more (a create race); still absent here.
  EXPECT_EQ(harness.requests().size(), 3u);
}

TEST(ThinkificErrors, NotFoundIsPermanent) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on(kUsersByEmail, reply(200, page({user()})))
      .on("GET /enrollments?query%5Buser_id%5D=501&query%5Bcourse_id%5D=42&page=1&limit=250",
          reply(200, page({enrollment(9001, 501, 42)})))
      .on("PUT /enrollments/9001", reply(404, {{"error", "Record not found."}}));
  auto thinkific = harness.create(key_settings());
  Result r = thinkific.action("expire_course", {{"course_id", 42}}, event(), job());
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_NE(r.message.find("Thinkific PUT /enrollments/9001: HTTP 404"), std::string::npos) << r.message;
}

TEST(ThinkificErrors, MalformedCollectionIsRetryable) {
  Result r = enrol_against(reply(200, {{"unexpected", true}}));
  EXPECT_EQ(r.outcome, Outcome::retryable);
  EXPECT_NE(r.message.find("no \"items\" list"), std::string::npos);
}
