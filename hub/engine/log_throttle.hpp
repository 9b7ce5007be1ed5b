// A log line that may repeat many times a second (a refused webhook, a failed
// claim while the database is away) is said at most once in a while; the
// next one says how many were left unsaid.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

namespace cartwire::engine {

/** One kind of repeated line. Not thread-safe: its owner's lock guards it. */
class LogThrottle {
 public:
  /**
   * Whether to log now: the first line, and the first one `every_ms` after
   * the last logged; the others are counted.
   */
  bool due(int64_t now_ms, int64_t every_ms) {
    if (logged_at_ && now_ms - logged_at_ < every_ms) {
      ++unlogged_;
      return false;
    }
    logged_at_ = now_ms;
    return true;
  }
  /** " (N more <what> since the last line about it)", or "" when none: the count starts again. */
  std::string unlogged(const std::string &what) {
    int64_t n = std::exchange(unlogged_, 0);
    return n ? " (" + std::to_string(n) + " more " + what + " since the last line about it)" : "";
  }
  /** The next line is logged at once. */
  void reset() { logged_at_ = 0; }

 private:
  int64_t logged_at_ = 0;
  int64_t unlogged_ = 0;
};

}  // namespace cartwire::engine
