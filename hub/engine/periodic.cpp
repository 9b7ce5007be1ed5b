#include "engine/periodic.hpp"

#include <Poco/Logger.h>

#include <chrono>
#include <exception>

#include "engine/log_throttle.hpp"

namespace cartwire::engine {

Periodic::Periodic(const std::string &logger, std::string what, std::chrono::milliseconds every,
                   std::function<void()> task, std::function<int64_t()> clock_ms) {
  Poco::Logger &log = Poco::Logger::get(logger);
  thread_ = std::thread([this, &log, what = std::move(what), every, task = std::move(task),
                         clock_ms = std::move(clock_ms)] {
    Outage failures(log, kFailureLogEveryMs, "failures", Poco::Message::PRIO_WARNING);
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      try {
        task();
        if (failures.lasting()) failures.ended(what + " works again");
      } catch (const std::exception &e) {
        failures.failed(clock_ms(), what + " failed, tried again later: " + e.what());
      }
      lock.lock();
      cv_.wait_for(lock, every, [&] { return stopping_; });
    }
  });
}

int64_t Periodic::steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Periodic::~Periodic() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

}  // namespace cartwire::engine
