// What the console's overview and customer pages show: counts over time for
// the charts, and every event and job of one customer.
#include <regex>

#include "admin/api.hpp"
#include "admin/query.hpp"
#include "admin/views.hpp"
#include "store/search_sql.hpp"

namespace cartwire::admin {
namespace {

constexpr int64_t kDefaultBucketMs = 3600 * 1000;
constexpr int64_t kDefaultBuckets = 24;
constexpr int64_t kMaxBuckets = 1000;

/** "90", "90s", "15m", "1h" or "1d": a bucket width of one minute to 31 days. */
int64_t bucket_ms_of(const std::string &text) {
  static const std::regex shape(R"((\d{1,7})([smhd]?))");
  std::smatch m;
  if (std::regex_match(text, m, shape)) {
    int64_t unit = m[2] == "m" ? 60 : m[2] == "h" ? 3600 : m[2] == "d" ? 86400 : 1;
    int64_t seconds = std::stoll(m[1]) * unit;
    if (seconds >= 60 && seconds <= 31 * 86400) return seconds * 1000;
  }
  throw std::invalid_argument("bucket must be a width from 1m to 31d, e.g. 5m, 1h, 1d or seconds (got '" + text + "')");
}

Response stats(Context &c, const Request &req) {
  for (auto &[key, value] : req.query)
    if (key != "since" && key != "until" && key != "bucket")
      throw std::invalid_argument("unknown parameter '" + key + "' (parameters: since, until, bucket)");
  int64_t bucket = req.query.count("bucket") ? bucket_ms_of(req.query.at("bucket")) : kDefaultBucketMs;
  // By default the buckets end with the one holding now, aligned on the bucket width (whole hours, whole days UTC).
  int64_t until =
      req.query.count("until") ? time_param("until", req.query.at("until")) : (c.clock_ms() / bucket + 1) * bucket;
  int64_t since =
      req.query.count("since") ? time_param("since", req.query.at("since")) : until - kDefaultBuckets * bucket;
  if (since >= until) throw std::invalid_argument("since must be before until");
  if ((until - since + bucket - 1) / bucket > kMaxBuckets)
    throw std::invalid_argument("at most " + std::to_string(kMaxBuckets) + " buckets: widen bucket or narrow since..until");

  store::Activity a = engine_of(c)->store().activity(since, until, bucket);
  static const char *states[] = {"queued", "running", "succeeded", "failed", "dead"};
  Json totals = {{"events", 0}, {"jobs", Json::object()}};
  for (auto *s : states) totals["jobs"][s] = 0;
  Json buckets = Json::array();
  for (auto &b : a.buckets) {
    Json jobs = Json::object();
    for (auto *s : states) {
      int64_t n = b.jobs.count(s) ? b.jobs.at(s) : 0;
      jobs[s] = n;
      totals["jobs"][s] = totals["jobs"][s].get<int64_t>() + n;
    }
    totals["events"] = totals["events"].get<int64_t>() + b.events;
    buckets.push_back({{"start", engine::rfc3339(b.start)}, {"events", b.events}, {"jobs", jobs}});
  }
  Json failures = Json::array();
  for (auto &[integration, by_state] : a.failures) {
    int64_t failed = by_state.count("failed") ? by_state.at("failed") : 0;
    int64_t dead = by_state.count("dead") ? by_state.at("dead") : 0;
    failures.push_back({{"integration", integration}, {"failed", failed}, {"dead", dead}});
  }
  return Response::of(200, {{"since", engine::rfc3339(since)},
                            {"until", engine::rfc3339(until)},
                            {"bucket_seconds", bucket / 1000},
                            {"buckets", buckets},
                            {"totals", totals},
                            {"failures_by_integration", failures}});
}

int64_t timeline_event_id(const store::EventRow &e) { return e.id; }

Response timeline(Context &c, const Request &req) {
  store::Search q = parse_search(req.query);
  if (q.email.empty()) throw std::invalid_argument("email is required: the customer's email address");
  auto limit = static_cast<std::size_t>(q.limit);
  q.limit += 1;
  auto e = engine_of(c);
  auto rows = e->store().search_events(q);
  Json out = page_json(std::move(rows), limit, [](auto &r) { return event_row_json(r); }, &timeline_event_id);
  for (auto &item : out["items"]) {
    store::Search jobs_of;
    jobs_of.event_id = item["id"].get<int64_t>();
    jobs_of.limit = store::kMaxSearchLimit;
    Json jobs = Json::array();
    for (auto &j : e->store().search_jobs(jobs_of)) jobs.push_back(job_json(j));
    item["job_list"] = jobs;
    auto body = e->store().event(jobs_of.event_id);
    item["customer"] = body && body->contains("customer") ? (*body)["customer"] : Json(nullptr);
  }
  out["email"] = store::ascii_lower(q.email);
  return Response::of(200, out);
}

}  // namespace

void add_insight_routes(Router &router, Context &c) {
  router.add("GET", "/api/stats", [&c](Request &req) { return stats(c, req); });
  router.add("GET", "/api/timeline", [&c](Request &req) { return timeline(c, req); });
}

}  // namespace cartwire::admin
