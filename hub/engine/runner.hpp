// Worker threads that claim due jobs, run their actions and decide what comes next.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "engine/engine.hpp"
#include "engine/log_throttle.hpp"

namespace cartwire::engine {

/** The delay before retry number `attempt` + 1: exponential, capped, with jitter, never before Retry-After. */
std::chrono::milliseconds backoff(const config::RetryConfig &retry, int attempt,
                                  std::optional<std::chrono::milliseconds> retry_after, double jitter01);

class Runner : public Dispatcher {
 public:
  Runner(Engine &engine, const config::RunnerConfig &config, std::string node);
  ~Runner() override;

  /**
   * Start the workers and take jobs from the engine. With `resume` (at the
   * process's start, not after a reload) first requeue what this node left
   * running (a crash). All or nothing: when a thread cannot be started, the
   * threads started end before they claim a job, the runner is stopped, and
   * the error is thrown.
   */
  void start(bool resume = true);
  /**
   * Stop taking and claiming jobs, and put those held but not begun back in
   * the queue: the jobs handed over that wait for a worker, and the rest of
   * each worker's batch. The attempts under way go on, their leases renewed,
   * until they are recorded. Returns how many attempts are under way. Only
   * the first call does anything (later ones return 0).
   */
  std::size_t stop_starting();
  /**
   * stop_starting(), then wait until the attempts under way are recorded. A
   * record that fails (a database restarting) is tried again while the jobs'
   * leases surely hold, as while the runner runs, unless give_up() is called:
   * a reload's previous runner finishes this way.
   */
  void finish();
  /** From now on a record that fails is given up at once: its jobs run again once their leases end. */
  void give_up();
  /** give_up(), then finish(): a stop does not wait for a database that is away. */
  void stop();
  /** New jobs are due now. */
  void wake();

  std::size_t room() override;
  const std::string &node() const override { return node_; }
  int64_t lease_ms() const override { return config_.lease.count(); }
  bool take(std::vector<store::ClaimedJob> &jobs) override;

 private:
  /** Most jobs a worker claims at once (when the queue has a backlog). */
  static constexpr int kMaxBatch = 16;
  static constexpr int64_t kClaimFailureLogEveryMs = 10000;
  /** Claims in a row that could not read a job's row, which fail that job (left_out()). */
  static constexpr int kUnreadableClaims = 3;

  /** What a claim works on, for the crash notes, and the jobs whose rows it could not read. */
  class ClaimNote;

  void work(std::size_t worker);
  /**
   * Every third of the lease, extends the lease of each job whose attempt is
   * under way: an attempt that outlasts the lease (a slow remote, a long
   * timeout) must not be claimed again and run twice meanwhile. Also at once
   * when the node took its name again on a new session (LeaseRenewals).
   */
  void keep_leases();
  /**
   * The jobs `worker` holds until they are recorded or put back (none:
   * empty). False when the runner stopped starting attempts first: the
   * worker puts them back itself.
   */
  bool hold(std::size_t worker, const std::vector<store::ClaimedJob> &jobs);
  /**
   * The worker takes the next job of its batch in hand, to run it or to put
   * it back or off itself. False once stop_starting() put the rest of the
   * batch back.
   */
  bool take_next(std::size_t worker);
  /** The worker begins an attempt at the job it took in hand last. */
  void attempt_begins(std::size_t worker);
  /** Each rate-limited integration's room now: how many requests its budget allows. */
  std::map<std::string, int> rate_room() const;
  /**
   * The jobs handed over that wait, up to a batch (empty when there are none).
   * At most a batch per worker waits; more wait in the database for a claim.
   */
  std::vector<store::ClaimedJob> next_handed_over();
  /**
   * After a claim that took `claimed`: the jobs whose rows it could not read
   * (`note`), which it left in the queue, are logged, and failed with an
   * attempt that says why once kUnreadableClaims claims of this runner in a
   * row could not read them. A job read again starts its count again.
   */
  void left_out(const ClaimNote &note, const std::vector<store::ClaimedJob> &claimed);
  /** Jobs this node holds but will not run go back to the queue (logged when that fails). */
  void put_back(const std::vector<int64_t> &ids);
  /** One attempt at a claimed job: what to record (nothing is stored yet). */
  store::Finished run(store::ClaimedJob &job);
  /**
   * Records the attempts of a batch held since `held_at`. A store that fails
   * (a database restarting) is asked again every poll interval while the
   * jobs' leases surely hold, so that a shorter outage does not have them
   * run again. Nothing when they were not recorded, else those recorded late
   * (store::Store::finish); `now_ms`: when they were. Each attempt's number
   * becomes the one it was recorded as (store::Store::finish_batch).
   */
  std::optional<store::LateRecords> record(const std::vector<store::ClaimedJob *> &ran,
                                           std::vector<store::Finished> &done, int64_t held_at, int64_t &now_ms);
  /** record(), then conclude() or left_to() each job recorded. */
  void record_and_conclude(const std::vector<store::ClaimedJob *> &ran, std::vector<store::Finished> &done,
                           int64_t held_at);
  /** After the attempt is recorded: log it, and raise hub.job.dead for a dead job. */
  void conclude(store::ClaimedJob &job, const store::Finished &done, int64_t now);
  /** After the attempt is recorded late: warn that `holder` (or the attempt recorded meanwhile) has the job. */
  void left_to(const store::ClaimedJob &job, const store::Finished &done, const std::string &holder);

  Engine &engine_;
  config::RunnerConfig config_;
  std::string node_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> giving_up_{false};
  std::atomic<bool> taking_{false};
  std::deque<store::ClaimedJob> handed_over_;  // guarded by mutex_
  std::atomic<uint64_t> wakeups_{0};
  /** A worker's batch: jobs[taken..] are not in hand yet, and stop_starting() puts them back. */
  struct Held {
    std::vector<int64_t> jobs;
    std::size_t taken = 0;
    std::size_t attempts = 0;  // begun and not yet recorded
  };
  std::mutex held_mutex_;
  std::map<std::size_t, Held> held_;  // per worker, guarded by held_mutex_
  bool put_back_held_ = false;        // guarded by held_mutex_: stop_starting() put back what was not in hand
  std::mutex keeper_mutex_;
  std::condition_variable keeper_cv_;  // the lease keeper's own: a notify for the workers must not wake it instead
  std::condition_variable recording_cv_;  // workers retrying a record wait on it, with mutex_, for the same reason
  // Failed claims (the database away, say), logged at most once every 10 s:
  // every worker tries again each poll interval.
  Outage claims_;
  std::mutex unreadable_mutex_;
  std::map<int64_t, int> unreadable_;  // guarded by unreadable_mutex_: claims in a row that could not read a job
  std::atomic<int64_t> renewed_from_{0};  // the start of the last renewal of leases that succeeded
  bool keeper_stop_ = false;           // guarded by keeper_mutex_; set once the workers are done
  std::thread lease_keeper_;
};

}  // namespace cartwire::engine
