// A log line that may repeat many times a second (a refused webhook, a failed
// claim while the database is away) is said at most once in a while; the
// next one says how many were left unsaid. An Outage also says when it ends.
#pragma once

#include <Poco/Logger.h>
#include <Poco/Message.h>

#include <atomic>
#include <cstdint>
#include <mutex>
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

/**
 * Something that fails many times a second while it lasts (storing events,
 * claiming jobs, a background task): its failures are logged through a
 * LogThrottle, and its end once. Thread-safe; lasting() is one atomic read,
 * for the path that works.
 */
class Outage {
 public:
  /**
   * `counted` names the failures left unlogged: " (N more <counted> since the
   * last line about it)". `level`: of the failure lines.
   */
  Outage(Poco::Logger &log, int64_t every_ms, std::string counted,
         Poco::Message::Priority level = Poco::Message::PRIO_ERROR)
      : log_(log), every_ms_(every_ms), counted_(std::move(counted)), level_(level) {}

  /** A failure at `now_ms`: `line` is logged unless one was, less than every_ms ago. */
  void failed(int64_t now_ms, const std::string &line) {
    std::lock_guard lock(mutex_);
    lasting_ = true;
    if (throttle_.due(now_ms, every_ms_))
      log_.log(Poco::Message(log_.name(), line + throttle_.unlogged(counted_), level_));
  }
  /** Whether failures came since it last worked. */
  bool lasting() const { return lasting_; }
  /** It works again: `line` is logged, once however many say so. */
  void ended(const std::string &line) {
    std::lock_guard lock(mutex_);
    if (!lasting_) return;  // another thread said so first
    lasting_ = false;
    log_.information(line + throttle_.unlogged(counted_));
    throttle_.reset();
  }

 private:
  Poco::Logger &log_;
  const int64_t every_ms_;
  const std::string counted_;
  const Poco::Message::Priority level_;
  std::mutex mutex_;
  LogThrottle throttle_;  // guarded by mutex_
  std::atomic<bool> lasting_{false};
};

}  // namespace cartwire::engine
