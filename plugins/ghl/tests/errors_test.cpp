// How LeadConnector's answers become results: auth, validation, rate limits, outages.
#include "support.hpp"

namespace ghl_test {
namespace {

class Errors : public GhlTest {
 protected:
  Result upsert_answered(HttpResponse response) {
    remote.on("POST /contacts/upsert", std::move(response));
    return run("upsert_contact", Json::object());
  }
};

TEST_F(Errors, UnauthorizedIsAConfigProblemWithoutTheToken) {
  Result r = upsert_answered(answer(401, {{"statusCode", 401}, {"message", "Invalid token: access token is invalid"},
                                          {"error", "Unauthorized"}}));
  EXPECT_EQ(r.outcome, Outcome::config);
  EXPECT_NE(r.message.find("HTTP 401"), std::string::npos);
  EXPECT_NE(r.message.find("'token' setting"), std::string::npos) << r.message;
  EXPECT_EQ(r.message.find(kToken), std::string::npos);
}

TEST_F(Errors, ForbiddenLocationIsAConfigProblem) {
  Result r = upsert_answered(answer(403, {{"statusCode", 403}, {"message", "The token does not have access to this location."}}));
  EXPECT_EQ(r.outcome, Outcome::config);
  EXPECT_NE(r.message.find("does not have access to this location"), std::string::npos) << r.message;
}

TEST_F(Errors, ValidationAndNotFoundArePermanent) {
  EXPECT_EQ(upsert_answered(answer(422, {{"statusCode", 422}, {"message", {"email must be an email"}}})).outcome,
            Outcome::permanent);
  remote.on(std::string("GET /contacts/search/duplicate?locationId=") + kLocation + "&email=ann%40example.com",
            answer(400, {{"statusCode", 400}, {"message", "Bad Request"}}));
  EXPECT_EQ(run("remove_tags", {{"tags", "x"}}).outcome, Outcome::permanent);
}

TEST_F(Errors, TooManyRequestsHonoursRetryAfter) {
  Result r = upsert_answered(answer(429, {{"message", "Too many requests"}}, {{"retry-after", "7"}}));
  EXPECT_EQ(r.outcome, Outcome::retryable);
  ASSERT_TRUE(r.retry_after);
  EXPECT_EQ(r.retry_after->count(), 7000);
}

TEST_F(Errors, TooManyRequestsWithoutRetryAfterWaitsOutTheBurstWindow) {
  Result r = upsert_answered(answer(429, {{"statusCode", 429}},
                                    {{"x-ratelimit-max", "100"}, {"x-ratelimit-remaining", "0"},
                                     {"x-ratelimit-interval-milliseconds", "10000"},
                                     {"x-ratelimit-daily-remaining", "150000"}}));
  EXPECT_EQ(r.outcome, Outcome::retryable);
  ASSERT_TRUE(r.retry_after);
  EXPECT_EQ(r.retry_after->count(), 10000);
}

TEST_F(Errors, TooManyRequestsWithNoHeadersStillWaits) {
  Result r = upsert_answered(answer(429, {{"statusCode", 429}}));
  ASSERT_TRUE(r.retry_after);
  EXPECT_EQ(r.retry_after->count(), 10000);
}

TEST_F(Errors, ExhaustedDailyBudgetPausesLonger) {
  Result r = upsert_answered(answer(429, {{"statusCode", 429}},
                                    {{"x-ratelimit-interval-milliseconds", "10000"}, {"x-ratelimit-daily-remaining", "0"}}));
  EXPECT_EQ(r.outcome, Outcome::retryable);
  ASSERT_TRUE(r.retry_after);
  EXPECT_EQ(r.retry_after->count(), 15 * 60 * 1000);
  EXPECT_NE(r.message.find("daily"), std::string::npos);
}

TEST_F(Errors, ServerErrorsAreRetryable) {
  EXPECT_EQ(upsert_answered(answer(500, {{"message", "Internal"}})).outcome, Outcome::retryable);
}

TEST_F(Errors, TimeoutsAreRetryable) {
  harness.on_http([](const HttpRequest &) {
    HttpResponse r;
    r.error = "timed out after 15000 ms";
    r.timed_out = true;
    return r;
  });
  Result r = run("upsert_contact", Json::object());
  EXPECT_EQ(r.outcome, Outcome::retryable);
  EXPECT_NE(r.message.find("timed out"), std::string::npos);
}

TEST_F(Errors, AnUpsertAnswerWithoutAContactIdIsPermanent) {
  Result r = upsert_answered(answer(200, {{"new", true}}));
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_NE(r.message.find("no contact id"), std::string::npos);
}

TEST_F(Errors, UnknownActionIsPermanent) {
  Result r = run("enroll_course", Json::object());
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_TRUE(requests().empty());
}

}  // namespace
}  // namespace ghl_test
