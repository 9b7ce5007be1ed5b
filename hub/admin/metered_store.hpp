// A Store that counts what passes through it, so metrics need no hooks in the
// accept path or the runner: every event, job and attempt is written here.
#pragma once

#include <memory>

#include "admin/metrics.hpp"
#include "store/store.hpp"

namespace cartwire::admin {

class MeteredStore : public store::Store {
 public:
  MeteredStore(std::unique_ptr<store::Store> inner, Metrics &metrics) : inner_(std::move(inner)), metrics_(metrics) {}

  std::vector<store::Accepted> accept(std::vector<store::NewEvent> &events, int64_t now_ms) override;
  std::set<std::string> stored_keys(const std::vector<std::string> &dedupe_keys) override {
    return inner_->stored_keys(dedupe_keys);
  }
  store::LateRecords finish(const store::AttemptRecord &attempt, const store::JobUpdate &update,
                            int64_t now_ms) override;
  store::LateRecords finish_batch(std::vector<store::Finished> &done, int64_t now_ms) override;
  bool replay(int64_t job_id, int64_t now_ms) override;
  bool replay_with(int64_t job_id, const store::Json &params, int64_t now_ms) override;
  std::vector<int64_t> replay_matching(const store::Search &query, int64_t now_ms) override;

  std::vector<store::ClaimedJob> claim(const std::string &node, int64_t now_ms, int64_t lease_ms, int limit,
                                       const std::map<std::string, int> &concurrency = {},
                                       const std::map<std::string, int> &room = {},
                                       store::ClaimWatch *watch = nullptr) override {
    return inner_->claim(node, now_ms, lease_ms, limit, concurrency, room, watch);
  }
  int requeue_running(const std::string &node) override { return inner_->requeue_running(node); }
  bool fail_interrupted(store::AttemptRecord attempt, const std::string &node, int64_t now_ms) override;
  bool fail_claimed(store::AttemptRecord attempt, int attempts, int64_t now_ms) override;
  void release(const std::vector<int64_t> &job_ids, const std::string &node) override {
    inner_->release(job_ids, node);
  }
  void defer(const std::vector<std::pair<int64_t, int64_t>> &jobs, const std::string &node) override {
    inner_->defer(jobs, node);
  }
  void renew_leases(const std::vector<int64_t> &job_ids, const std::string &node, int64_t lease_until) override {
    inner_->renew_leases(job_ids, node, lease_until);
  }
  std::optional<int64_t> next_due() override { return inner_->next_due(); }
  void save_list(const std::string &integration, const std::string &name, const store::Json &items,
                 int64_t now_ms) override {
    inner_->save_list(integration, name, items, now_ms);
  }
  std::optional<store::CachedList> load_list(const std::string &integration, const std::string &name) override {
    return inner_->load_list(integration, name);
  }
  std::optional<store::PollStatus> poll_status(const std::string &source, int64_t now_ms) override {
    return inner_->poll_status(source, now_ms);
  }
  store::PollClaim claim_poll(const std::string &source, const std::string &node, int64_t now_ms, int64_t lease_ms,
                              const std::string &settings) override {
    return inner_->claim_poll(source, node, now_ms, lease_ms, settings);
  }
  void leave_out_poll(const std::string &source, const std::string &settings, const std::string &node,
                      const std::string &why, int64_t now_ms) override {
    inner_->leave_out_poll(source, settings, node, why, now_ms);
  }
  std::vector<std::string> end_left_out_polls(const std::string &node, const std::vector<std::string> &kept) override {
    return inner_->end_left_out_polls(node, kept);
  }
  std::optional<std::string> end_left_out_poll(const std::string &source, const std::string &node) override {
    return inner_->end_left_out_poll(source, node);
  }
  void renew_poll(const std::string &source, const std::string &node, int64_t lease_until) override {
    inner_->renew_poll(source, node, lease_until);
  }
  std::vector<store::Accepted> commit_poll(const std::string &source, const std::string &node,
                                           std::vector<store::NewEvent> &events, const store::Json &cursor,
                                           int64_t next_at, int64_t now_ms) override;
  void fail_poll(const std::string &source, const std::string &node, const std::string &error, int64_t next_at,
                 int64_t now_ms) override {
    inner_->fail_poll(source, node, error, next_at, now_ms);
  }
  std::optional<store::JobRow> job(int64_t id) override { return inner_->job(id); }
  std::optional<store::Json> event(int64_t id) override { return inner_->event(id); }
  std::vector<std::pair<std::string, std::string>> subscription_history(const std::string &source,
                                                                        const std::string &email,
                                                                        const std::string &subscription_id,
                                                                        int limit) override {
    return inner_->subscription_history(source, email, subscription_id, limit);
  }
  std::optional<store::Json> purchase(const std::string &source, const std::string &order_id,
                                      const std::string &item_ref) override {
    return inner_->purchase(source, order_id, item_ref);
  }
  std::vector<store::ReplayRecord> replays(int64_t job_id) override { return inner_->replays(job_id); }
  std::vector<store::AttemptRecord> attempts(int64_t job_id) override { return inner_->attempts(job_id); }
  int64_t count(const std::string &table) override { return inner_->count(table); }
  void ping() override { inner_->ping(); }
  void hold_node(const std::string &node) override { inner_->hold_node(node); }
  void mark_work_with(store::WorkMarks *marks) override { inner_->mark_work_with(marks); }
  void on_name_lost(std::function<void(const std::string &)> lost) override {
    inner_->on_name_lost(std::move(lost));
  }
  void on_leases_cut(std::function<void(const std::string &, int, const std::string &)> cut) override {
    inner_->on_leases_cut(std::move(cut));
  }
  std::chrono::steady_clock::time_point name_held_since() override { return inner_->name_held_since(); }
  int count_nodes() override { return inner_->count_nodes(); }
  void note_config(const std::string &node, const std::string &fingerprint) override {
    inner_->note_config(node, fingerprint);
  }
  std::map<std::string, std::string> node_configs() override { return inner_->node_configs(); }
  int prune(int64_t before_ms, int limit) override { return inner_->prune(before_ms, limit); }
  std::vector<store::JobSummary> search_jobs(const store::Search &query) override { return inner_->search_jobs(query); }
  std::vector<store::EventRow> search_events(const store::Search &query) override {
    return inner_->search_events(query);
  }
  std::map<std::string, int64_t> job_counts() override { return inner_->job_counts(); }
  store::Activity activity(int64_t since_ms, int64_t until_ms, int64_t bucket_ms) override {
    return inner_->activity(since_ms, until_ms, bucket_ms);
  }

 private:
  void count(const std::vector<store::Accepted> &stored);

  std::unique_ptr<store::Store> inner_;
  Metrics &metrics_;
};

}  // namespace cartwire::admin
