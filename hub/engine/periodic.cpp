#include "engine/periodic.hpp"

#include <Poco/Logger.h>

#include <exception>

namespace cartwire::engine {

Periodic::Periodic(const std::string &logger, std::string what, std::chrono::milliseconds every,
                   std::function<void()> task) {
  Poco::Logger &log = Poco::Logger::get(logger);
  thread_ = std::thread([this, &log, what = std::move(what), every, task = std::move(task)] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      try {
        task();
      } catch (const std::exception &e) {
        log.warning(what + " failed, tried again later: " + e.what());
      }
      lock.lock();
      cv_.wait_for(lock, every, [&] { return stopping_; });
    }
  });
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
