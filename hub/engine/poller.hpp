// Runs the poll triggers of the configured sources on their intervals: one
// thread per configuration, polls of one source never overlap, and across
// hub nodes sharing a store a lease lets one node poll a source at a time,
// extended while a poll runs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "engine/engine.hpp"

namespace cartwire::engine {

class Poller {
 public:
  Poller(Engine &engine, const config::RunnerConfig &config, std::string node);
  ~Poller();
  Poller(const Poller &) = delete;
  Poller &operator=(const Poller &) = delete;

  /** Start polling; does nothing when no source has a poll trigger. */
  void start();
  /** Stop polling: a poll under way finishes (and stores what it found) first. */
  void stop();

  /** The interval of a poll source: `every` from hub.yaml, else the trigger's default. */
  static std::chrono::milliseconds interval(const config::InstanceConfig &source, const plugins::TriggerSpec &trigger);

 private:
  struct Schedule {
    std::string source;
    std::string trigger;
    std::chrono::milliseconds every{0};
    int64_t next_at = 0;  // engine clock, ms
  };

  void loop();
  /**
   * Every third of runner.lease, extends the lease of the poll under way: a
   * poll that outlasts the lease (a slow remote, many pages) must not be
   * started by another node meanwhile.
   */
  void keep_lease();
  void poll(Schedule &schedule);
  void failed(Schedule &schedule, const sdk::Result &result, int failures, int64_t now);

  Engine &engine_;
  config::RunnerConfig config_;
  std::string node_;
  std::vector<Schedule> schedules_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::string polling_;  // the source whose poll is under way (none: empty); guarded by mutex_
  std::thread keeper_;
  std::condition_variable keeper_cv_;
  bool keeper_stop_ = false;  // guarded by mutex_; set once the poll under way has ended
};

}  // namespace cartwire::engine
