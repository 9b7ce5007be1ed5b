// Runs the poll triggers of the configured sources on their intervals: one
// thread per configuration, polls of one source never overlap, and across
// hub nodes sharing a store a lease lets one node poll a source at a time,
// extended while a poll runs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "engine/engine.hpp"

namespace cartwire::engine {

/**
 * The sources whose poll is under way in this process. The pollers of one
 * configuration and of the next (a reload, while the earlier one's poll
 * finishes) share it, so that each poll of a source starts from the cursor
 * the one before it stored.
 */
class PollsUnderWay {
 public:
  /** False when a poll of `source` is under way already. */
  bool begin(const std::string &source);
  void end(const std::string &source);

 private:
  std::mutex mutex_;
  std::set<std::string> sources_;
};

class Poller {
 public:
  /**
   * Called on the polling thread with a source this node left out after its
   * poll stopped its last run, and the node its mark in the store was ended on
   * (Poll again asked there): the source is to be created again.
   */
  using TakeBack = std::function<void(const std::string &source, const std::string &ended_on)>;

  /**
   * `take_back`: for each source this node left out after its poll stopped
   * its last run and marked in the store (plugins::crash_note::refused_and_marked),
   * the poller reads that mark on the source's interval, and calls it once
   * another node has ended the mark.
   */
  Poller(Engine &engine, const config::RunnerConfig &config, std::string node, PollsUnderWay &under_way,
         TakeBack take_back = {});
  ~Poller();
  Poller(const Poller &) = delete;
  Poller &operator=(const Poller &) = delete;

  /**
   * Start polling; does nothing when no source has a poll trigger. All or
   * nothing: when a thread cannot be started, none runs and the error is thrown.
   */
  void start();
  /**
   * Start no other poll. A poll under way goes on until it stores what it
   * found (or its failure), its lease extended. Returns whether one is under way.
   */
  bool stop_starting();
  /** stop_starting(), then wait until a poll under way has ended. */
  void stop();

  /** The interval of a poll source: `every` from hub.yaml, else the trigger's default. */
  static std::chrono::milliseconds interval(const config::InstanceConfig &source, const plugins::TriggerSpec &trigger);

 private:
  struct Schedule {
    std::string source;
    std::string trigger;
    std::chrono::milliseconds every{0};
    int64_t next_at = 0;  // engine clock, ms
    std::string settings;  // settings_digest() of the source's settings
    bool left_out = false;  // the store said so at the last claim (logged once)
    bool marked = false;    // left out by this node, which reads its mark in the store rather than poll it
  };

  void loop();
  /** Whether the mark of a source this node left out was ended by another node: take_back_ then. */
  void look_at_mark(Schedule &schedule);
  /**
   * Every third of runner.lease, extends the lease of the poll under way: a
   * poll that outlasts the lease (a slow remote, many pages) must not be
   * started by another node meanwhile. Also at once when the node took its
   * name again on a new session (LeaseRenewals).
   */
  void keep_lease();
  void poll(Schedule &schedule);
  void failed(Schedule &schedule, const sdk::Result &result, int failures, int64_t now);

  Engine &engine_;
  config::RunnerConfig config_;
  std::string node_;
  PollsUnderWay &under_way_;
  TakeBack take_back_;
  std::vector<Schedule> schedules_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool in_poll_ = false;  // guarded by mutex_: the thread is in poll(), from its stopping_ check on
  std::string polling_;  // the source whose poll is under way (none: empty); guarded by mutex_
  std::thread keeper_;
  std::condition_variable keeper_cv_;
  bool keeper_stop_ = false;  // guarded by mutex_; set once the poll under way has ended
};

}  // namespace cartwire::engine
