#include "engine/runner.hpp"

#include <Poco/Logger.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "engine/lease_renewals.hpp"
#include "plugins/crash_note.hpp"
#include "rules/matcher.hpp"

namespace cartwire::engine {
namespace {

// Looked up once: Poco::Logger::get takes a process-wide lock.
Poco::Logger &runner_log() {
  static Poco::Logger &log = Poco::Logger::get("runner");
  return log;
}

// The job's event as a tree: a job handed over at accept holds it as text
// until something needs more than to send it.
const sdk::Json &event_of(store::ClaimedJob &job) {
  if (job.event.is_null() && !job.event_text.empty()) job.event = sdk::Json::parse(job.event_text, nullptr, false);
  return job.event;
}

// What to do about a job the remote refused as misconfigured (a wrong key). A
// reload reads hub.yaml again but not the environment: a setting taken from
// an environment variable changes with a restart only.
std::string config_problem(const config::HubConfig &config, const std::string &integration) {
  std::string variables;
  if (auto it = config.integrations.find(integration); it != config.integrations.end())
    for (auto &[key, variable] : it->second.setting_variables)
      variables += (variables.empty() ? "" : ", ") + variable + " for " + key;
  std::string fix = variables.empty()
                        ? "fix its credentials or settings in hub.yaml, reload, then replay the job"
                        : "fix its settings in hub.yaml and reload, or the environment variables they come from (" +
                              variables + "), which the hub reads only when it starts, and restart it; then replay "
                                          "the job";
  return " (a configuration problem of integration '" + integration + "': " + fix + ")";
}

}  // namespace

std::chrono::milliseconds backoff(const config::RetryConfig &retry, int attempt,
                                  std::optional<std::chrono::milliseconds> retry_after, double jitter01) {
  // "Equal jitter": half the exponential step is fixed, half random, so
  // retries spread out without ever collapsing to zero.
  double base = static_cast<double>(retry.initial_delay.count()) * std::pow(2.0, std::max(0, attempt - 1));
  base = std::min(base, static_cast<double>(retry.max_delay.count()));
  auto delay = std::chrono::milliseconds(static_cast<int64_t>(base / 2 + jitter01 * base / 2));
  if (retry_after && *retry_after > delay) delay = *retry_after;
  return delay;
}

// Puts a fatal signal down to the job a claim reads or leases, on the thread
// that runs the claim (with SQLite, that of another writer of its group commit
// may): the next start fails that job rather than claim it, to stop again.
// It also keeps the jobs whose rows the claim could not read, which it left out.
class Runner::ClaimNote : public store::ClaimWatch {
 public:
  struct Unread {
    int64_t job;
    int attempts;
    std::string why;
  };

  void claiming(int64_t job, int attempts) noexcept override {
    inside_.reset();
    if (job) inside_.emplace(job, attempts);
  }
  void unreadable(int64_t job, int attempts, const std::string &why) noexcept override {
    try {
      unread_.push_back({job, attempts, why});
    } catch (...) {
      // Not kept: the job waits for the next claim, which tells of it again.
    }
  }
  const std::vector<Unread> &unread() const { return unread_; }

 private:
  std::optional<plugins::crash_note::Inside> inside_;
  std::vector<Unread> unread_;
};

Runner::Runner(Engine &engine, const config::RunnerConfig &config, std::string node)
    : engine_(engine),
      config_(config),
      node_(std::move(node)),
      claims_(runner_log(), kClaimFailureLogEveryMs, "failed") {
  engine_.on_jobs_added([this] { wake(); });
}

// Touches the engine only if the runner was never stopped: a generation's
// engine may already be gone when its stopped runner is destroyed.
Runner::~Runner() { stop(); }

void Runner::start(bool resume) {
  // Only at the process's start: after a reload the previous runner has put
  // back what it held, and a job it hands over late is put back by take().
  // Requeueing then would catch the jobs the new runner has begun.
  if (resume) {
    int requeued = engine_.store().requeue_running(node_);
    if (requeued) runner_log().warning("resuming " + std::to_string(requeued) + " job(s) left running by an earlier stop");
  }
  // All of its threads or none: a worker claims nothing until every other one and the lease keeper run, and
  // when one cannot be started (no thread left) those started end again, so that the runner is stopped.
  try {
    lease_keeper_ = std::thread([this] { keep_leases(); });
    for (int i = 0; i < config_.workers; ++i) threads_.emplace_back([this, i] { work(static_cast<std::size_t>(i)); });
  } catch (...) {
    stop();
    throw;
  }
  {
    // Only now: the requeue above must not catch jobs handed over to this runner.
    std::lock_guard lock(mutex_);
    taking_ = true;
  }
  cv_.notify_all();
  engine_.dispatch_to(this);
}

std::size_t Runner::stop_starting() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return 0;
    taking_ = false;
    stopping_ = true;
  }
  engine_.dispatch_to(nullptr);
  cv_.notify_all();
  // Each job not begun is put back once, here or by its worker (see hold() and take_next()): a job
  // put back twice could be put back from under the runner that claimed it meanwhile, on this node.
  std::vector<int64_t> left;
  {
    std::lock_guard lock(mutex_);
    for (auto &job : handed_over_) left.push_back(job.id);
    handed_over_.clear();
  }
  std::size_t under_way = 0;
  {
    std::lock_guard lock(held_mutex_);
    put_back_held_ = true;
    for (auto &[worker, held] : held_) {
      left.insert(left.end(), held.jobs.begin() + static_cast<std::ptrdiff_t>(held.taken), held.jobs.end());
      held.jobs.resize(held.taken);  // the lease keeper renews those in hand alone
      under_way += held.attempts;
    }
  }
  if (!left.empty()) put_back(left);
  return under_way;
}

void Runner::give_up() {
  {
    std::lock_guard lock(mutex_);
    giving_up_ = true;
  }
  recording_cv_.notify_all();
}

void Runner::stop() {
  give_up();
  finish();
}

void Runner::finish() {
  stop_starting();
  for (auto &t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  // The keeper renews leases until the last attempt has ended.
  {
    std::lock_guard lock(keeper_mutex_);
    keeper_stop_ = true;
  }
  keeper_cv_.notify_all();
  if (lease_keeper_.joinable()) lease_keeper_.join();
}

void Runner::wake() {
  {
    std::lock_guard lock(mutex_);
    ++wakeups_;
  }
  cv_.notify_all();
}

std::size_t Runner::room() {
  std::lock_guard lock(mutex_);
  std::size_t most = static_cast<std::size_t>(std::max(1, config_.workers)) * kMaxBatch;
  return taking_ && handed_over_.size() < most ? most - handed_over_.size() : 0;
}

bool Runner::take(std::vector<store::ClaimedJob> &jobs) {
  bool taken = false;
  {
    std::lock_guard lock(mutex_);
    taken = taking_;
    if (taken)
      for (auto &job : jobs) handed_over_.push_back(std::move(job));
  }
  if (!taken) {
    std::vector<int64_t> ids;
    for (auto &job : jobs) ids.push_back(job.id);
    put_back(ids);
    return false;
  }
  for (std::size_t i = 0; i < jobs.size() && i < static_cast<std::size_t>(config_.workers); ++i) cv_.notify_one();
  return true;
}

std::vector<store::ClaimedJob> Runner::next_handed_over() {
  std::lock_guard lock(mutex_);
  // All that wait, up to a batch: the attempts of a batch are recorded in one commit.
  std::size_t n = std::min<std::size_t>(kMaxBatch, handed_over_.size());
  std::vector<store::ClaimedJob> jobs;
  for (std::size_t i = 0; i < n; ++i) {
    jobs.push_back(std::move(handed_over_.front()));
    handed_over_.pop_front();
  }
  return jobs;
}

void Runner::put_back(const std::vector<int64_t> &ids) {
  try {
    engine_.store().release(ids, node_);
  } catch (const std::exception &e) {
    runner_log().error("putting " + std::to_string(ids.size()) + " job(s) back in the queue failed (they run when " +
                       "their lease ends or this node starts again): " + e.what());
  }
}

void Runner::left_out(const ClaimNote &note, const std::vector<store::ClaimedJob> &claimed) {
  const std::vector<ClaimNote::Unread> &unread = note.unread();
  std::vector<ClaimNote::Unread> failing;
  {
    std::lock_guard lock(unreadable_mutex_);
    if (unread.empty() && unreadable_.empty()) return;
    for (auto &job : claimed) unreadable_.erase(job.id);  // read this time: the count starts again
    for (auto &job : unread) {
      int claims = ++unreadable_[job.job];
      if (claims < kUnreadableClaims) {
        runner_log().warning("job " + std::to_string(job.job) + ": its stored row could not be read (" + job.why +
                             "); left for the next claim (" + std::to_string(claims) + " of " +
                             std::to_string(kUnreadableClaims) + " claims in a row before it is failed)");
        continue;
      }
      unreadable_.erase(job.job);
      failing.push_back(job);
    }
  }
  // A job that cannot be read will not run: failed, with an attempt that says why, for an operator to see
  // and replay once its row can be read, rather than taken by every claim and holding up those behind it.
  for (auto &job : failing) {
    store::AttemptRecord attempt;
    attempt.job_id = job.job;
    attempt.started_at = engine_.now_ms();
    attempt.outcome = "permanent";
    attempt.error = "the hub could not read this job's stored row at " + std::to_string(kUnreadableClaims) +
                    " claims in a row (" + job.why + "); not run: replay it once its row can be read";
    attempt.node = node_;
    std::string what = "job " + std::to_string(job.job);
    try {
      if (engine_.store().fail_claimed(attempt, job.attempts, engine_.now_ms()))
        runner_log().error(what + " failed for good: " + attempt.error);
    } catch (const std::exception &e) {
      runner_log().error(what + ": marking it failed, as its stored row could not be read at " +
                         std::to_string(kUnreadableClaims) + " claims in a row, did not work (" + e.what() +
                         "); it stays in the queue");
    }
  }
}

void Runner::keep_leases() {
  LeaseRenewals renewals(engine_.store(), config_.lease);
  for (;;) {
    {
      std::unique_lock lock(keeper_mutex_);
      if (keeper_cv_.wait_for(lock, renewals.wait(), [&] { return keeper_stop_; })) return;
    }
    if (!renewals.due()) continue;
    // Every job this node holds: the workers' batches (running, or waiting
    // for their turn or their record) and those handed over at accept.
    int64_t from = engine_.now_ms();
    std::vector<int64_t> ids;
    {
      std::lock_guard lock(held_mutex_);
      for (auto &[worker, held] : held_) ids.insert(ids.end(), held.jobs.begin(), held.jobs.end());
    }
    {
      std::lock_guard lock(mutex_);
      for (auto &job : handed_over_) ids.push_back(job.id);
    }
    if (ids.empty()) continue;
    try {
      engine_.store().renew_leases(ids, node_, from + config_.lease.count());
      renewed_from_ = from;
    } catch (const std::exception &e) {
      runner_log().error("extending the leases of " + std::to_string(ids.size()) + " job(s) failed: " + e.what());
    }
  }
}

bool Runner::hold(std::size_t worker, const std::vector<store::ClaimedJob> &jobs) {
  std::vector<int64_t> ids;
  for (auto &job : jobs) ids.push_back(job.id);
  std::lock_guard lock(held_mutex_);
  if (ids.empty()) {
    held_.erase(worker);
    return true;
  }
  if (put_back_held_) return false;
  held_[worker] = {std::move(ids), 0, 0};
  return true;
}

bool Runner::take_next(std::size_t worker) {
  std::lock_guard lock(held_mutex_);
  if (put_back_held_) return false;
  ++held_[worker].taken;
  return true;
}

void Runner::attempt_begins(std::size_t worker) {
  std::lock_guard lock(held_mutex_);
  ++held_[worker].attempts;
}

std::map<std::string, int> Runner::rate_room() const {
  std::map<std::string, int> out;
  for (auto &[id, _] : engine_.config().integrations)
    if (auto *inst = engine_.integration(id))
      if (int room = inst->rate_room(); room >= 0) out[id] = room;
  return out;
}

void Runner::work(std::size_t worker) {
  {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return taking_ || stopping_; });  // start() has started every thread, or undoes itself
  }
  int batch = 1;
  auto last_claim = std::chrono::steady_clock::time_point{};
  while (!stopping_) {
    uint64_t seen = wakeups_;
    std::vector<store::ClaimedJob> jobs = next_handed_over();
    // Retries that fell due, replays and jobs that did not fit are claimed
    // from the database when nothing was handed over, and at least once per
    // poll interval while webhooks keep the workers busy.
    auto now = std::chrono::steady_clock::now();
    if (jobs.empty() || now - last_claim >= config_.poll_interval) {
      last_claim = now;
      std::vector<store::ClaimedJob> claimed;
      try {
        std::map<std::string, int> concurrency;
        for (auto &[id, integration] : engine_.config().integrations)
          if (integration.concurrency > 0) concurrency[id] = integration.concurrency;
        // A rate-limited integration gets no more jobs than its budget has room for now.
        ClaimNote note;
        claimed = engine_.store().claim(node_, engine_.now_ms(), config_.lease.count(), batch, concurrency,
                                        rate_room(), &note);
        if (claims_.lasting()) claims_.ended("claiming jobs succeeds again");
        left_out(note, claimed);
      } catch (const std::exception &e) {
        claims_.failed(engine_.now_ms(), std::string("claiming jobs failed: ") + e.what());
      }
      // A full claim means a backlog: take more next time, so that claims and
      // records of attempts cost one commit per batch rather than per job.
      if (!claimed.empty())
        batch = claimed.size() == static_cast<std::size_t>(batch) ? std::min(batch * 2, kMaxBatch)
                                                                  : std::max(1, batch / 2);
      for (auto &job : claimed) jobs.push_back(std::move(job));
    }
    if (!jobs.empty()) {
      if (!hold(worker, jobs)) {
        // Stopping (a reload, a shutdown) as they came: they go back to the queue.
        std::vector<int64_t> ids;
        for (auto &job : jobs) ids.push_back(job.id);
        put_back(ids);
        break;
      }
      int64_t held_at = engine_.now_ms();  // after hold(): a renewal that began later included them
      std::vector<store::ClaimedJob *> ran;
      std::vector<store::Finished> done;
      std::vector<int64_t> late;
      std::vector<std::pair<int64_t, int64_t>> waiting;  // {job, due time}: over their integration's rate budget
      std::map<std::string, int> deferred;               // per integration, for spreading their due times
      for (auto &job : jobs) {
        // Stopping (a reload, a shutdown): stop_starting() put back the jobs not begun.
        if (!take_next(worker)) break;
        // A job whose lease is half gone (it waited behind slow attempts) goes
        // back to the queue rather than run: its lease could end while it
        // runs, and another claim would run it again.
        if (engine_.now_ms() - job.leased_at > config_.lease.count() / 2) {
          late.push_back(job.id);
          continue;
        }
        // An integration that spent its rate budget gets its jobs back when it
        // has room again, one budget step apart, rather than hold this worker
        // (and the jobs of every other integration) while it waits.
        if (auto *inst = engine_.integration(job.integration)) {
          if (auto wait = inst->reserve_request(); wait.count() > 0) {
            int64_t step = inst->rate_spacing().count() * deferred[job.integration]++;
            waiting.emplace_back(job.id, engine_.now_ms() + wait.count() + step);
            continue;
          }
        }
        attempt_begins(worker);
        done.push_back(run(job));
        ran.push_back(&job);
      }
      if (!late.empty()) put_back(late);
      if (!waiting.empty()) {
        try {
          engine_.store().defer(waiting, node_);
        } catch (const std::exception &e) {
          runner_log().error("putting " + std::to_string(waiting.size()) + " job(s) back until their rate budget has "
                             "room failed (they run when their lease ends): " + e.what());
        }
      }
      // Jobs whose record, together, stopped the last run are recorded one at
      // a time, so that the one at fault is named should it stop this run too.
      if (ran.size() > 1 && std::any_of(ran.begin(), ran.end(), [](const store::ClaimedJob *job) {
            return plugins::crash_note::to_record_alone(job->id);
          })) {
        for (std::size_t i = 0; i < ran.size(); ++i) {
          std::vector<store::Finished> one;
          one.push_back(std::move(done[i]));
          record_and_conclude({ran[i]}, one, held_at);
        }
      } else if (!done.empty()) {
        record_and_conclude(ran, done, held_at);
      }
      hold(worker, {});
      if (!done.empty()) continue;
    }
    std::unique_lock lock(mutex_);
    auto wait = config_.poll_interval;
    cv_.wait_for(lock, wait, [&] { return stopping_ || wakeups_ != seen || !handed_over_.empty(); });
  }
}

void Runner::record_and_conclude(const std::vector<store::ClaimedJob *> &ran, std::vector<store::Finished> &done,
                                 int64_t held_at) {
  int64_t now_ms = engine_.now_ms();
  std::optional<store::LateRecords> recorded;
  {
    // A fatal signal while recording is put down to the job when it is alone,
    // and else to all of the batch's jobs, which the next start records one at a time.
    std::vector<int64_t> ids;
    std::optional<plugins::crash_note::Inside> recording;
    if (ran.size() == 1) {
      recording.emplace(ran[0]->integration, "action", ran[0]->action, ran[0]->id, nullptr,
                        plugins::crash_note::Code::hub);
    } else {
      ids.reserve(ran.size());
      for (auto *job : ran) ids.push_back(job->id);
      recording.emplace(ids);
    }
    recorded = record(ran, done, held_at, now_ms);
  }
  if (!recorded) return;
  for (std::size_t i = 0; i < ran.size(); ++i) {
    if (auto late = recorded->find(ran[i]->id); late != recorded->end()) left_to(*ran[i], done[i], late->second);
    else conclude(*ran[i], done[i], now_ms);
  }
}

std::optional<store::LateRecords> Runner::record(const std::vector<store::ClaimedJob *> &ran,
                                                 std::vector<store::Finished> &done, int64_t held_at,
                                                 int64_t &now_ms) {
  auto what = [&] { return "recording " + std::to_string(done.size()) + " attempt(s)"; };
  int64_t last_try = 0;  // worked out at the first failure
  for (int tries = 1;; ++tries) {
    try {
      store::LateRecords late = engine_.store().finish_batch(done, now_ms);
      if (tries > 1) runner_log().information(what() + " succeeded on try " + std::to_string(tries));
      return late;
    } catch (const std::exception &e) {
      if (tries == 1) {
        // When the batch's leases could end at the earliest: the first claimed or
        // handed over plus a lease, or a lease after the last renewal that
        // included them. Tries end a quarter of a lease before that: room for
        // the nodes' clocks to differ.
        int64_t ends = std::numeric_limits<int64_t>::max();
        for (auto *job : ran) ends = std::min(ends, job->leased_at + config_.lease.count());
        if (int64_t renewed = renewed_from_; renewed > held_at) ends = std::max(ends, renewed + config_.lease.count());
        last_try = ends - config_.lease.count() / 4 - config_.poll_interval.count();
      }
      if (giving_up_ || engine_.now_ms() > last_try) {
        runner_log().error(what() + " failed (their jobs run again once their leases end): " + e.what());
        return std::nullopt;
      }
      if (tries == 1) runner_log().error(what() + " failed, tried again while their leases hold: " + e.what());
    }
    {
      std::unique_lock lock(mutex_);
      recording_cv_.wait_for(lock, config_.poll_interval, [&] { return giving_up_.load(); });
    }
    now_ms = engine_.now_ms();
  }
}

store::Finished Runner::run(store::ClaimedJob &job) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  // A fatal signal from here on, outside the connector, is put down to the hub working on this job.
  plugins::crash_note::Inside inside(job.integration, "action", job.action, job.id, nullptr,
                                     plugins::crash_note::Code::hub);
  int number = job.attempts + 1;
  store::AttemptRecord attempt;
  attempt.job_id = job.id;
  attempt.number = number;
  attempt.due_at = job.due_at;
  attempt.node = node_;
  attempt.leased_at = job.leased_at;
  attempt.started_at = engine_.now_ms();
  auto started = std::chrono::steady_clock::now();

  sdk::Result result;
  plugins::CallLog log;
  if (auto *inst = engine_.integration(job.integration)) {
    sdk::ActionRequest request;
    request.action = job.action;
    request.params = job.params;
    const auto &mapping = engine_.config().integrations.at(job.integration).fields;
    // The JSON seam takes an event still in text as it is.
    if (engine_.reads_event_tree(job.integration)) event_of(job);
    const std::string *event_text = job.event.is_null() && !job.event_text.empty() ? &job.event_text : nullptr;
    request.event = std::move(job.event);  // given back below: the connector only reads it
    request.job = {{"id", job.id}, {"attempt", number}, {"idempotency_key", "job_" + std::to_string(job.id)}};
    request.fields = map_fields(mapping, request.event);
    result = inst->action(request, log, event_text);
    job.event = std::move(request.event);
  } else {
    // Retried, not failed: while hub.yaml or a connector changes node by node, another node (or this
    // one after a reload) may have the integration; past the retry horizon the job is dead and replayable.
    bool configured = engine_.config().integrations.count(job.integration) > 0;
    result = sdk::Result::retryable("integration '" + job.integration + "' is " +
                                    (configured ? "not available on node " + node_ + " (see its log)"
                                                : "not in the configuration of node " + node_) +
                                    "; retried until a node has it");
  }
  attempt.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  attempt.outcome = sdk::to_string(result.outcome);
  attempt.error = result.message;
  for (auto &ex : log.exchanges)
    attempt.exchanges.push_back(
        {{"request", std::move(ex.request)}, {"response", std::move(ex.response)}, {"duration_ms", ex.duration_ms}});

  store::JobUpdate update;
  int64_t now = attempt.started_at + attempt.duration_ms;  // a retry waits from the end of this attempt
  switch (result.outcome) {
    case sdk::Outcome::ok:
      update.state = store::JobState::succeeded;
      break;
    case sdk::Outcome::permanent:
    case sdk::Outcome::config:
      update.state = store::JobState::failed;
      update.last_error = result.message;
      break;
    case sdk::Outcome::retryable: {
      std::uniform_real_distribution<double> jitter(0.0, 1.0);
      auto delay = backoff(config_.retry, number, result.retry_after, jitter(rng));
      bool out_of_attempts = config_.retry.max_attempts > 0 && number >= config_.retry.max_attempts;
      bool past_horizon = now + delay.count() - job.created_at > config_.retry.horizon.count();
      update.last_error = result.message;
      if (out_of_attempts || past_horizon) {
        update.state = store::JobState::dead;
      } else {
        update.state = store::JobState::queued;
        update.due_at = now + delay.count();
      }
      break;
    }
  }
  return {std::move(attempt), std::move(update)};
}

void Runner::conclude(store::ClaimedJob &job, const store::Finished &done, int64_t now) {
  const store::JobUpdate &update = done.update;
  int number = done.attempt.number;
  const std::string &message = done.attempt.error;
  std::string what = "job " + std::to_string(job.id) + " (" + job.integration + "." + job.action + ")";
  if (update.state == store::JobState::succeeded) {
    if (runner_log().information()) runner_log().information(what + " succeeded on attempt " + std::to_string(number));
  } else if (update.state == store::JobState::queued) {
    int64_t wait_ms = std::max<int64_t>(update.due_at - now, 0);
    runner_log().warning(what + " attempt " + std::to_string(number) + " failed (" + message + "); retry in " +
                         (wait_ms < 10000 ? std::to_string(wait_ms) + " ms" : std::to_string(wait_ms / 1000) + " s"));
  } else {
    runner_log().error(what + (update.state == store::JobState::dead ? " is dead after " : " failed for good after ") +
                       std::to_string(number) + " attempt(s): " + message +
                       (done.attempt.outcome == "config" ? config_problem(engine_.config(), job.integration) : ""));
  }
  if (update.state == store::JobState::dead && event_of(job).value("type", "") != "hub.job.dead") {
    Json dead = {{"type", "hub.job.dead"},
                 // Per death: a job replayed that dies again raises it again. Its creation time tells
                 // it from a job numbered the same after retention removed the newest (SQLite reuses ids).
                 {"dedupe_key", "hub:job-dead:" + std::to_string(job.id) + ":" + std::to_string(job.created_at) + ":" +
                                    std::to_string(number)},
                 {"customer", job.event.value("customer", Json::object())},
                 {"job",
                  {{"id", job.id},
                   {"rule", job.rule},
                   {"integration", job.integration},
                   {"action", job.action},
                   {"attempts", number},
                   {"error", message}}},
                 {"original_event", {{"id", job.event_id}, {"type", job.event.value("type", "")}}}};
    try {
      engine_.emit({dead});
    } catch (const std::exception &e) {
      runner_log().error(what + ": storing hub.job.dead failed: " + e.what());
    }
  }
}

void Runner::left_to(const store::ClaimedJob &job, const store::Finished &done, const std::string &holder) {
  // Delivery is at least once: the holder's attempt sends the same request, with the same idempotency key.
  std::string who = holder.empty()  ? "another attempt of it was recorded meanwhile, and the job keeps what it left"
                    : holder == node_ ? "this node claimed it again, and that attempt decides the job"
                                      : "node " + holder + " holds it now, and its attempt decides the job";
  runner_log().warning("job " + std::to_string(job.id) + " (" + job.integration + "." + job.action + ") attempt " +
                       std::to_string(done.attempt.number) + " (" + done.attempt.outcome +
                       ") is on record, but its lease had ended: " + who + " (its requests carry the same "
                       "idempotency key, job_" + std::to_string(job.id) + ")");
}

}  // namespace cartwire::engine
