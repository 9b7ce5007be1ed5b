#include "admin/metered_store.hpp"

namespace cartwire::admin {

void MeteredStore::count(const std::vector<store::Accepted> &stored) {
  std::size_t fresh = 0, duplicates = 0, jobs = 0;
  for (auto &a : stored) {
    (a.duplicate ? duplicates : fresh) += 1;
    jobs += a.jobs;
  }
  metrics_.events(fresh, duplicates, jobs);
}

std::vector<store::Accepted> MeteredStore::accept(std::vector<store::NewEvent> &events, int64_t now_ms) {
  auto out = inner_->accept(events, now_ms);  // counted only once durable
  count(out);
  return out;
}

std::vector<store::Accepted> MeteredStore::commit_poll(const std::string &source, const std::string &node,
                                                       std::vector<store::NewEvent> &events, const store::Json &cursor,
                                                       int64_t next_at, int64_t now_ms) {
  auto out = inner_->commit_poll(source, node, events, cursor, next_at, now_ms);
  count(out);
  return out;
}

// A late record's job stays as another attempt leaves it: its attempt is counted, not the job's state.
store::LateRecords MeteredStore::finish(const store::AttemptRecord &attempt, const store::JobUpdate &update,
                                        int64_t now_ms) {
  store::LateRecords late = inner_->finish(attempt, update, now_ms);
  metrics_.attempt(attempt.outcome, late.count(attempt.job_id) ? "" : store::to_string(update.state),
                   attempt.duration_ms);
  return late;
}

store::LateRecords MeteredStore::finish_batch(std::vector<store::Finished> &done, int64_t now_ms) {
  store::LateRecords late = inner_->finish_batch(done, now_ms);
  for (const store::Finished &f : done)
    metrics_.attempt(f.attempt.outcome, late.count(f.attempt.job_id) ? "" : store::to_string(f.update.state),
                     f.attempt.duration_ms);
  return late;
}

bool MeteredStore::fail_interrupted(store::AttemptRecord attempt, const std::string &node, int64_t now_ms) {
  std::string outcome = attempt.outcome;
  int64_t duration = attempt.duration_ms;
  bool failed = inner_->fail_interrupted(std::move(attempt), node, now_ms);
  if (failed) metrics_.attempt(outcome, store::to_string(store::JobState::failed), duration);
  return failed;
}

bool MeteredStore::fail_claimed(store::AttemptRecord attempt, int attempts, int64_t now_ms) {
  std::string outcome = attempt.outcome;
  int64_t duration = attempt.duration_ms;
  bool failed = inner_->fail_claimed(std::move(attempt), attempts, now_ms);
  if (failed) metrics_.attempt(outcome, store::to_string(store::JobState::failed), duration);
  return failed;
}

bool MeteredStore::replay(int64_t job_id, int64_t now_ms) {
  bool done = inner_->replay(job_id, now_ms);
  if (done) metrics_.replayed(1);
  return done;
}

bool MeteredStore::replay_with(int64_t job_id, const store::Json &params, int64_t now_ms) {
  bool done = inner_->replay_with(job_id, params, now_ms);
  if (done) metrics_.replayed(1);
  return done;
}

std::vector<int64_t> MeteredStore::replay_matching(const store::Search &query, int64_t now_ms) {
  auto ids = inner_->replay_matching(query, now_ms);
  metrics_.replayed(ids.size());
  return ids;
}

}  // namespace cartwire::admin
