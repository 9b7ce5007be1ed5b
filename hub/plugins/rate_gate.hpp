// Holds outbound requests back so an integration stays within its remote's published budget.
#pragma once

#include <chrono>
#include <deque>
#include <mutex>
#include <thread>

namespace cartwire::plugins {

/** At most `requests` calls in any window of `window`; acquire() waits for a free slot. */
class RateGate {
 public:
  RateGate(int requests, std::chrono::milliseconds window) : limit_(requests), window_(window) {}

  void acquire() {
    if (limit_ <= 0) return;
    std::unique_lock lock(mutex_);
    for (;;) {
      auto now = std::chrono::steady_clock::now();
      while (!sent_.empty() && now - sent_.front() >= window_) sent_.pop_front();
      if (static_cast<int>(sent_.size()) < limit_) {
        sent_.push_back(now);
        return;
      }
      auto wait = sent_.front() + window_ - now;
      lock.unlock();
      std::this_thread::sleep_for(wait);
      lock.lock();
    }
  }

 private:
  int limit_;
  std::chrono::milliseconds window_;
  std::mutex mutex_;
  std::deque<std::chrono::steady_clock::time_point> sent_;
};

}  // namespace cartwire::plugins
