// A task the hub runs in the background at once and then at a fixed interval,
// on a thread of its own, until it is destroyed.
#pragma once

#include <chrono>
#include <cstdint>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace cartwire::engine {

class Periodic {
 public:
  /**
   * Runs `task` at once, then every `every`. When it throws, logger `logger`
   * warns "<what> failed, tried again later: <reason>", at most once a
   * minute while it keeps failing (a database away for an hour is not a
   * line every few seconds), and says "<what> works again" once it does.
   * `clock_ms` reads the time that spaces those lines, in ms.
   */
  Periodic(const std::string &logger, std::string what, std::chrono::milliseconds every, std::function<void()> task,
           std::function<int64_t()> clock_ms = steady_ms);
  /** Waits for a run under way to end. */
  ~Periodic();
  Periodic(const Periodic &) = delete;
  Periodic &operator=(const Periodic &) = delete;

  static constexpr int64_t kFailureLogEveryMs = 60'000;
  /** std::chrono::steady_clock, in ms. */
  static int64_t steady_ms();

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cartwire::engine
