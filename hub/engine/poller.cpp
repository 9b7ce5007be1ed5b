#include "engine/poller.hpp"

#include <Poco/Logger.h>

#include <algorithm>
#include <random>
#include <utility>

#include "engine/lease_renewals.hpp"
#include "engine/runner.hpp"
#include "plugins/crash_note.hpp"

namespace cartwire::engine {
namespace {

Poco::Logger &poll_log() { return Poco::Logger::get("poller"); }

std::string seconds_text(std::chrono::milliseconds d) {
  if (d.count() < 10000) return std::to_string(d.count()) + "ms";
  return std::to_string(d.count() / 1000) + "s";
}

}  // namespace

bool PollsUnderWay::begin(const std::string &source) {
  std::lock_guard lock(mutex_);
  return sources_.insert(source).second;
}

void PollsUnderWay::end(const std::string &source) {
  std::lock_guard lock(mutex_);
  sources_.erase(source);
}

std::chrono::milliseconds Poller::interval(const config::InstanceConfig &source, const plugins::TriggerSpec &trigger) {
  if (source.every) return *source.every;
  return std::chrono::seconds(trigger.interval_seconds);
}

Poller::Poller(Engine &engine, const config::RunnerConfig &config, std::string node, PollsUnderWay &under_way,
               TakeBack take_back)
    : engine_(engine), config_(config), node_(std::move(node)), under_way_(under_way),
      take_back_(std::move(take_back)) {
  for (auto &[id, source] : engine_.config().sources) {
    plugins::Instance *instance = engine_.source(id);
    // Reported as unavailable by the engine; one this node left out after its poll stopped the last run, and
    // marked in the store, is looked at on its interval, for another node may end the mark.
    bool marked = !instance && take_back_ && plugins::crash_note::refused_and_marked(id, source.settings.dump());
    const plugins::Plugin *plugin = instance ? &instance->plugin() : marked ? engine_.registry().find(source.connector)
                                                                             : nullptr;
    const plugins::TriggerSpec *trigger = plugin ? plugin->manifest.trigger(source.trigger) : nullptr;
    if (!trigger || trigger->kind != "poll") continue;
    schedules_.push_back(
        {id, trigger->name, interval(source, *trigger), 0, settings_digest(source.settings), false, marked});
  }
}

Poller::~Poller() { stop(); }

void Poller::start() {
  if (schedules_.empty() || thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
    keeper_stop_ = false;
  }
  // All or nothing: the keeper first, which extends no lease until a poll is under way, so that when the
  // polling thread cannot be started (no thread left) the keeper ends again and nothing was polled.
  keeper_ = std::thread([this] { keep_lease(); });
  try {
    thread_ = std::thread([this] { loop(); });
  } catch (...) {
    stop();
    throw;
  }
  for (auto &s : schedules_)
    if (!s.marked)
      poll_log().information("source '" + s.source + "': polling " + s.trigger + " every " + seconds_text(s.every));
}

bool Poller::stop_starting() {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  cv_.notify_all();
  return in_poll_;
}

void Poller::stop() {
  stop_starting();
  if (thread_.joinable()) thread_.join();
  // The keeper extends the lease until the poll under way has ended.
  {
    std::lock_guard lock(mutex_);
    keeper_stop_ = true;
  }
  keeper_cv_.notify_all();
  if (keeper_.joinable()) keeper_.join();
}

void Poller::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto next = std::min_element(schedules_.begin(), schedules_.end(),
                                 [](const Schedule &a, const Schedule &b) { return a.next_at < b.next_at; });
    int64_t wait = next->next_at - engine_.now_ms();
    if (wait > 0) {
      cv_.wait_for(lock, std::chrono::milliseconds(wait));
      continue;
    }
    in_poll_ = true;
    lock.unlock();
    if (next->marked) look_at_mark(*next);
    else poll(*next);
    lock.lock();
    in_poll_ = false;
  }
}

void Poller::keep_lease() {
  LeaseRenewals renewals(engine_.store(), config_.lease);
  std::unique_lock lock(mutex_);
  while (!keeper_cv_.wait_for(lock, renewals.wait(), [&] { return keeper_stop_; })) {
    if (!renewals.due() || polling_.empty()) continue;
    std::string source = polling_;
    int64_t from = engine_.now_ms();
    lock.unlock();
    // A lease that ended and that another node took meanwhile (the store was
    // away) stays theirs: this poll's commit then fails, and says so.
    try {
      engine_.store().renew_poll(source, node_, from + config_.lease.count());
    } catch (const std::exception &e) {
      poll_log().error("source '" + source + "': extending the poll's lease failed: " + e.what());
    }
    lock.lock();
  }
}

void Poller::look_at_mark(Schedule &s) {
  int64_t now = engine_.now_ms();
  s.next_at = now + s.every.count();
  // Created again already, or about to be (Poll again asked of this node, or the mark's end seen before).
  if (!plugins::crash_note::refused_and_marked(s.source, engine_.config().sources.at(s.source).settings.dump()))
    return;
  std::optional<store::PollStatus> status;
  try {
    status = engine_.store().poll_status(s.source, now);
  } catch (const std::exception &e) {
    poll_log().error("source '" + s.source + "': cannot read whether its mark in the store was ended: " + e.what());
    return;
  }
  // This node's mark (this start's: left_out_ended_on cleared) is gone, ended on another node or at the start
  // of one whose mark had taken its place; while another node's mark holds, the source stays left out. Ended on
  // this node, its Poll again creates it.
  if (status && status->left_out.empty() && !status->left_out_ended_on.empty() && status->left_out_ended_on != node_)
    take_back_(s.source, status->left_out_ended_on);
}

void Poller::poll(Schedule &s) {
  store::Store &store = engine_.store();
  int64_t now = engine_.now_ms();
  // The store lets this node take its own lease again: a poll of the source that the previous
  // configuration's poller still runs (a reload) is waited for here.
  struct Turn {
    PollsUnderWay &under_way;
    const std::string &source;
    bool mine;
    Turn(PollsUnderWay &u, const std::string &s) : under_way(u), source(s), mine(u.begin(s)) {}
    ~Turn() {
      if (mine) under_way.end(source);
    }
  } turn(under_way_, s.source);
  if (!turn.mine) {
    s.next_at = now + config_.poll_interval.count();
    return;
  }
  store::PollClaim claim;
  try {
    claim = store.claim_poll(s.source, node_, now, config_.lease.count(), s.settings);
  } catch (const std::exception &e) {
    poll_log().error("source '" + s.source + "': cannot claim the poll in the store: " + e.what());
    s.next_at = now + s.every.count();
    return;
  }
  // Left out after its poll stopped a node (that node's crash note): looked at again each interval, for the
  // mark ends when that node starts again.
  if (!claim.left_out.empty()) {
    if (!std::exchange(s.left_out, true)) poll_log().error("source '" + s.source + "' is left out: " + claim.left_out);
    s.next_at = now + s.every.count();
    return;
  }
  if (std::exchange(s.left_out, false))
    poll_log().information("source '" + s.source + "' is no longer left out: it is polled again");
  if (!claim.claimed) {
    // Not due yet (an earlier run or another node polled recently), or another node is polling now.
    s.next_at = std::max(claim.next_at, now + 1);
    return;
  }

  // Under way until it is stored or its failure recorded: the lease is extended meanwhile.
  struct UnderWay {
    Poller &poller;
    UnderWay(Poller &p, const std::string &source) : poller(p) {
      std::lock_guard lock(poller.mutex_);
      poller.polling_ = source;
    }
    ~UnderWay() {
      std::lock_guard lock(poller.mutex_);
      poller.polling_.clear();
    }
  } under_way(*this, s.source);
  // A fatal signal in the hub's own code meanwhile (reading the events, storing them) is put down to this
  // source's poll, as one in its connector is, so that the next start does not run the same poll again.
  plugins::crash_note::Inside inside(s.source, "poll", s.trigger, 0, nullptr, plugins::crash_note::Code::hub);
  sdk::PollReply reply = engine_.source(s.source)->poll({s.trigger, claim.cursor});
  now = engine_.now_ms();
  if (!reply.result.is_ok()) return failed(s, reply.result, claim.failures, now);
  std::vector<store::NewEvent> batch;
  try {
    batch = engine_.prepare(s.source, std::move(reply.events), now);
  } catch (const std::invalid_argument &e) {
    return failed(s, sdk::Result::permanent(e.what()), claim.failures, now);
  } catch (const std::exception &e) {
    return failed(s, sdk::Result::retryable(std::string("looking up the poll's events failed: ") + e.what()),
                  claim.failures, now);
  }
  int64_t next_at = now + s.every.count();
  std::vector<store::Accepted> stored;
  try {
    stored = store.commit_poll(s.source, node_, batch, reply.cursor, next_at, now);
  } catch (const std::exception &e) {
    // Nothing was stored: the next poll starts from the same cursor.
    return failed(s, sdk::Result::retryable(std::string("storing the poll's events failed: ") + e.what()),
                  claim.failures, now);
  }
  s.next_at = next_at;
  if (claim.failures > 0)
    poll_log().information("source '" + s.source + "': polling works again after " + std::to_string(claim.failures) +
                           " failed poll(s)");
  if (!stored.empty()) engine_.accepted(s.source, stored);
}

void Poller::failed(Schedule &s, const sdk::Result &result, int failures, int64_t now) {
  // Back off from the interval, doubling per failure in a row, up to an hour (or the interval when longer).
  config::RetryConfig retry;
  retry.initial_delay = s.every;
  retry.max_delay = std::max<std::chrono::milliseconds>(s.every, std::chrono::hours(1));
  static thread_local std::mt19937 random{std::random_device{}()};
  double jitter = std::uniform_real_distribution<double>(0, 1)(random);
  auto delay = backoff(retry, failures + 1, result.retry_after, jitter);
  s.next_at = now + delay.count();
  std::string kind = result.outcome == sdk::Outcome::config      ? "a configuration problem (check the source's settings)"
                     : result.outcome == sdk::Outcome::retryable ? "retryable"
                                                                 : "permanent";
  std::string text = "source '" + s.source + "': poll failed, " + kind + ": " + result.message + "; next try in " +
                     seconds_text(delay) + " (" + std::to_string(failures + 1) + " failure(s) in a row)";
  // Recorded first, so that what the log says is already what the store (and the console) shows.
  try {
    engine_.store().fail_poll(s.source, node_, result.message, s.next_at, now);
  } catch (const std::exception &e) {
    poll_log().error("source '" + s.source + "': cannot record the failed poll in the store: " + e.what());
  }
  if (result.outcome == sdk::Outcome::retryable) poll_log().warning(text);
  else poll_log().error(text);
}

}  // namespace cartwire::engine
