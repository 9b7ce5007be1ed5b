#include <gtest/gtest.h>

#include "engine/runner.hpp"

using namespace cartwire;
using std::chrono::milliseconds;

TEST(Backoff, GrowsExponentiallyWithinJitterAndCaps) {
  config::RetryConfig retry;
  retry.initial_delay = milliseconds(1000);
  retry.max_delay = milliseconds(60000);
  // Attempt n waits between half and all of initial * 2^(n-1).
  EXPECT_EQ(engine::backoff(retry, 1, std::nullopt, 0.0), milliseconds(500));
  EXPECT_EQ(engine::backoff(retry, 1, std::nullopt, 1.0), milliseconds(1000));
  EXPECT_EQ(engine::backoff(retry, 3, std::nullopt, 0.0), milliseconds(2000));
  EXPECT_EQ(engine::backoff(retry, 3, std::nullopt, 1.0), milliseconds(4000));
  EXPECT_EQ(engine::backoff(retry, 30, std::nullopt, 1.0), milliseconds(60000));
  EXPECT_EQ(engine::backoff(retry, 30, std::nullopt, 0.0), milliseconds(30000));
}

TEST(Backoff, RetryAfterIsAFloor) {
  config::RetryConfig retry;
  retry.initial_delay = milliseconds(1000);
  EXPECT_EQ(engine::backoff(retry, 1, milliseconds(7000), 0.5), milliseconds(7000));
  EXPECT_EQ(engine::backoff(retry, 1, milliseconds(10), 1.0), milliseconds(1000));
}

TEST(Backoff, DefaultScheduleKeepsRetryingForMoreThanADay) {
  config::RetryConfig retry;
  EXPECT_GE(retry.horizon, std::chrono::hours(24));
  EXPECT_EQ(retry.max_attempts, 0);
  // Even with the shortest jitter every time, the default schedule needs more
  // than a day's worth of attempts, so a day-long outage does not kill a job.
  milliseconds waited{0};
  int attempts = 1;
  for (; waited < std::chrono::hours(24); ++attempts) waited += engine::backoff(retry, attempts, std::nullopt, 0.0);
  EXPECT_GT(attempts, 10);
  EXPECT_LT(attempts, 40);
}
