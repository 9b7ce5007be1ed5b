#include "admin/metrics.hpp"

#include <sstream>

namespace cartwire::admin {
namespace {

void header(std::ostringstream &out, const char *name, const char *type, const char *help) {
  out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
}

// Whole milliseconds as seconds, every digit kept: a stream's default 6
// significant digits would round a sum past 1000 s (and rate() over it).
std::string seconds(uint64_t ms) {
  std::string frac = std::to_string(1000 + ms % 1000).substr(1);
  return std::to_string(ms / 1000) + "." + frac;
}

}  // namespace

void Metrics::events(std::size_t accepted, std::size_t duplicates, std::size_t jobs) {
  events_accepted_ += accepted;
  events_duplicate_ += duplicates;
  jobs_created_ += jobs;
}

void Metrics::attempt(const std::string &outcome, const std::string &state, int64_t duration_ms) {
  if (outcome == "ok") ++ok_;
  else if (outcome == "retryable") ++retryable_;
  else if (outcome == "permanent") ++permanent_;
  else ++config_;
  if (state == "succeeded") ++succeeded_;
  else if (state == "failed") ++failed_;
  else if (state == "dead") ++dead_;
  else if (!state.empty()) ++retried_;
  double seconds = static_cast<double>(duration_ms) / 1000.0;
  for (std::size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) ++buckets_[i];
  ++attempts_;
  duration_ms_sum_ += static_cast<uint64_t>(duration_ms < 0 ? 0 : duration_ms);
}

void Metrics::replayed(std::size_t jobs) { jobs_replayed_ += jobs; }

std::string Metrics::render(const std::map<std::string, int64_t> &by_state, bool runner, bool poller) const {
  std::ostringstream out;
  header(out, "cartwire_events_accepted_total", "counter", "Events stored since start (re-deliveries excluded).");
  out << "cartwire_events_accepted_total " << events_accepted_ << "\n";
  header(out, "cartwire_events_duplicate_total", "counter", "Re-deliveries answered without storing anything.");
  out << "cartwire_events_duplicate_total " << events_duplicate_ << "\n";
  header(out, "cartwire_jobs_created_total", "counter", "Jobs created by rules since start.");
  out << "cartwire_jobs_created_total " << jobs_created_ << "\n";
  header(out, "cartwire_jobs_replayed_total", "counter", "Failed or dead jobs put back in the queue by a replay.");
  out << "cartwire_jobs_replayed_total " << jobs_replayed_ << "\n";
  header(out, "cartwire_jobs_total", "counter", "Job outcomes after each attempt since start (retry: queued again; none after an attempt recorded late).");
  out << "cartwire_jobs_total{state=\"succeeded\"} " << succeeded_ << "\n"
      << "cartwire_jobs_total{state=\"failed\"} " << failed_ << "\n"
      << "cartwire_jobs_total{state=\"dead\"} " << dead_ << "\n"
      << "cartwire_jobs_total{state=\"retry\"} " << retried_ << "\n";
  header(out, "cartwire_attempts_total", "counter", "Attempts by connector outcome since start.");
  out << "cartwire_attempts_total{outcome=\"ok\"} " << ok_ << "\n"
      << "cartwire_attempts_total{outcome=\"retryable\"} " << retryable_ << "\n"
      << "cartwire_attempts_total{outcome=\"permanent\"} " << permanent_ << "\n"
      << "cartwire_attempts_total{outcome=\"config\"} " << config_ << "\n";
  header(out, "cartwire_attempt_duration_seconds", "histogram", "Duration of job attempts.");
  for (std::size_t i = 0; i < kBuckets.size(); ++i)
    out << "cartwire_attempt_duration_seconds_bucket{le=\"" << kBuckets[i] << "\"} " << buckets_[i] << "\n";
  out << "cartwire_attempt_duration_seconds_bucket{le=\"+Inf\"} " << attempts_ << "\n"
      << "cartwire_attempt_duration_seconds_sum " << seconds(duration_ms_sum_) << "\n"
      << "cartwire_attempt_duration_seconds_count " << attempts_ << "\n";
  header(out, "cartwire_queue_depth", "gauge", "Jobs waiting to run (due now or waiting for a retry).");
  auto queued = by_state.find("queued");
  out << "cartwire_queue_depth " << (queued == by_state.end() ? 0 : queued->second) << "\n";
  header(out, "cartwire_jobs", "gauge", "Stored jobs per state.");
  for (const char *state : {"queued", "running", "succeeded", "failed", "dead"}) {
    auto it = by_state.find(state);
    out << "cartwire_jobs{state=\"" << state << "\"} " << (it == by_state.end() ? 0 : it->second) << "\n";
  }
  header(out, "cartwire_runner_running", "gauge",
         "1 while jobs run; 0 after a reload that could not start the runner, until one does.");
  out << "cartwire_runner_running " << (runner ? 1 : 0) << "\n";
  header(out, "cartwire_poller_running", "gauge",
         "1 while sources with a poll trigger are polled; 0 after a reload that could not start the poller, until "
         "one does.");
  out << "cartwire_poller_running " << (poller ? 1 : 0) << "\n";
  return out.str();
}

}  // namespace cartwire::admin
