#include <gtest/gtest.h>

#include <cartwire/sdk/http.hpp>
#include <cartwire/sdk/result.hpp>

using namespace cartwire::sdk;

TEST(Result, RoundTripsThroughJson) {
  Result r = Result::retryable("HTTP 503", std::chrono::milliseconds(1500));
  Result back = Result::from_json(r.to_json());
  EXPECT_EQ(back.outcome, Outcome::retryable);
  EXPECT_EQ(back.message, "HTTP 503");
  ASSERT_TRUE(back.retry_after);
  EXPECT_EQ(back.retry_after->count(), 1500);
}

TEST(Result, MalformedAnswerIsPermanent) {
  EXPECT_EQ(Result::from_json(Json::array()).outcome, Outcome::permanent);
  EXPECT_EQ(Result::from_json({{"status", "maybe"}}).outcome, Outcome::permanent);
}

TEST(Classify, MapsStatusesToOutcomes) {
  auto with = [](int status, Headers headers = {}) {
    HttpResponse r;
    r.status = status;
    r.headers = std::move(headers);
    return classify(r, "test").outcome;
  };
  EXPECT_EQ(with(200), Outcome::ok);
  EXPECT_EQ(with(204), Outcome::ok);
  EXPECT_EQ(with(302), Outcome::permanent);
  EXPECT_EQ(with(400), Outcome::permanent);
  EXPECT_EQ(with(404), Outcome::permanent);
  EXPECT_EQ(with(401), Outcome::config);
  EXPECT_EQ(with(403), Outcome::config);
  EXPECT_EQ(with(408), Outcome::retryable);
  EXPECT_EQ(with(429), Outcome::retryable);
  EXPECT_EQ(with(500), Outcome::retryable);
  EXPECT_EQ(with(503), Outcome::retryable);
  HttpResponse refused;
  refused.error = "connection refused";
  EXPECT_EQ(classify(refused, "test").outcome, Outcome::retryable);
}

TEST(Classify, HonoursRetryAfterSeconds) {
  HttpResponse r;
  r.status = 429;
  r.headers["retry-after"] = "7";
  Result result = classify(r, "GHL");
  ASSERT_TRUE(result.retry_after);
  EXPECT_EQ(result.retry_after->count(), 7000);
  EXPECT_NE(result.message.find("HTTP 429"), std::string::npos);
}

TEST(Classify, RetryAfterAsAnHttpDateCountsFromNow) {
  using namespace std::chrono;
  auto now = system_clock::from_time_t(1768471200);  // Thu, 15 Jan 2026 10:00:00 GMT
  EXPECT_EQ(cartwire::sdk::parse_retry_after("Thu, 15 Jan 2026 10:02:00 GMT", now), milliseconds(120000));
  EXPECT_EQ(cartwire::sdk::parse_retry_after("Thu, 15 Jan 2026 09:00:00 GMT", now), milliseconds(0)) << "a date past";
  EXPECT_FALSE(cartwire::sdk::parse_retry_after("Thu, 15 Jan 2036 10:00:00 GMT", now)) << "over a year";
  for (const char *bad : {"Thu, 15 Jan 2026 10:02:00 UTC", "Thursday, 15-Jan-26 10:02:00 GMT", "Thu, 15 Foo 2026 10:02:00 GMT"})
    EXPECT_FALSE(cartwire::sdk::parse_retry_after(bad, now)) << bad;
  EXPECT_EQ(cartwire::sdk::parse_retry_after("7", now), milliseconds(7000));
}
