// Counters for Prometheus, fed by MeteredStore as events, jobs and attempts
// are written; rendered in the text exposition format by /metrics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>

namespace cartwire::admin {

class Metrics {
 public:
  /** Upper bounds (seconds) of the attempt duration histogram. */
  static constexpr std::array<double, 12> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

  void events(std::size_t accepted, std::size_t duplicates, std::size_t jobs);
  /**
   * One attempt; `state` is where it left its job: succeeded, failed, dead or queued (a retry), or ""
   * for a late record, which left it to another attempt.
   */
  void attempt(const std::string &outcome, const std::string &state, int64_t duration_ms);
  void replayed(std::size_t jobs);

  /**
   * The exposition text; `by_state` are the stored jobs per state right now, `runner` and `poller` whether
   * the running configuration's runner and poller run.
   */
  std::string render(const std::map<std::string, int64_t> &by_state, bool runner, bool poller) const;

 private:
  std::atomic<uint64_t> events_accepted_{0}, events_duplicate_{0}, jobs_created_{0}, jobs_replayed_{0};
  std::atomic<uint64_t> succeeded_{0}, failed_{0}, dead_{0}, retried_{0};
  std::atomic<uint64_t> ok_{0}, retryable_{0}, permanent_{0}, config_{0};
  std::array<std::atomic<uint64_t>, kBuckets.size()> buckets_{};
  std::atomic<uint64_t> attempts_{0}, duration_ms_sum_{0};
};

}  // namespace cartwire::admin
