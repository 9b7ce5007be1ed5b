// The execution log: events, jobs and their attempts; replays, test events and dry runs.
#include <map>
#include <optional>

#include "admin/api.hpp"
#include "admin/query.hpp"
#include "admin/views.hpp"
#include "store/search_sql.hpp"

namespace cartwire::admin {
namespace {

int64_t job_id_of(const store::JobSummary &s) { return s.job.id; }
int64_t event_id_of(const store::EventRow &e) { return e.id; }

// One row more than the page tells whether there is a next page.
store::Search page_query(const Request &req, std::size_t &limit) {
  store::Search q = parse_search(req.query);
  limit = static_cast<std::size_t>(q.limit);
  q.limit += 1;
  return q;
}

Json event_of(const Json &body, const char *what) {
  Json event = body.contains("event") ? body["event"] : body;
  if (!event.is_object()) throw std::invalid_argument(std::string(what) + ": \"event\" must be a JSON object");
  return event;
}

// Which rule a replay sends by: "original", the parameters the job was made with (the default),
// or "current", those its rule gives the job's event in the running configuration.
bool by_current_rule(const Json &body) {
  if (!body.contains("rule") || body["rule"] == "original") return false;
  if (body["rule"] == "current") return true;
  throw std::invalid_argument("\"rule\" must be \"original\" (send the parameters the job was made with, the "
                              "default) or \"current\" (work them out again from the job's rule as it is in the "
                              "running configuration)");
}

// A replay with the current rule of one failed or dead job: empty, or why it was refused.
std::string replay_by_current_rule(engine::Engine &e, const store::JobRow &job, const std::optional<Json> &event,
                                   int64_t now_ms) {
  engine::Replanned r = event ? e.replan(job, *event) : engine::Replanned{nullptr, "its event is no longer stored"};
  if (!r.refused.empty()) return r.refused;
  if (!e.store().replay_with(job.id, r.params, now_ms))
    return "it is no longer failed or dead (replayed or taken meanwhile)";
  return {};
}

}  // namespace

void add_log_routes(Router &router, Context &c) {
  router.add("GET", "/api/events", [&c](Request &req) {
    std::size_t limit = 0;
    store::Search q = page_query(req, limit);
    auto rows = engine_of(c)->store().search_events(q);
    return Response::of(200, page_json(std::move(rows), limit, [](auto &r) { return event_row_json(r); }, &event_id_of));
  });

  router.add("GET", "/api/events/{id}", [&c](Request &req) {
    auto id = id_param(req, 0);
    auto e = engine_of(c);
    auto event = id ? e->store().event(*id) : std::nullopt;
    if (!event) return Response::error(404, "no event " + req.params[0]);
    store::Search q;
    q.event_id = *id;
    q.limit = store::kMaxSearchLimit;
    Json jobs = Json::array();
    for (auto &j : e->store().search_jobs(q)) jobs.push_back(job_json(j));
    return Response::of(200, {{"event", *event}, {"jobs", jobs}});
  });

  router.add("GET", "/api/jobs", [&c](Request &req) {
    std::size_t limit = 0;
    store::Search q = page_query(req, limit);
    auto rows = engine_of(c)->store().search_jobs(q);
    return Response::of(200, page_json(std::move(rows), limit, [](auto &r) { return job_json(r); }, &job_id_of));
  });

  router.add("GET", "/api/jobs/{id}", [&c](Request &req) {
    auto id = id_param(req, 0);
    auto e = engine_of(c);
    auto job = id ? e->store().job(*id) : std::nullopt;
    if (!job) return Response::error(404, "no job " + req.params[0]);
    Json attempts = Json::array();
    for (auto &a : e->store().attempts(*id)) attempts.push_back(attempt_json(a));
    Json replays = Json::array();
    for (auto &r : e->store().replays(*id)) replays.push_back(replay_json(r));
    auto event = e->store().event(job->event_id);
    return Response::of(200, {{"job", job_json(*job)},
                              {"event", event ? *event : Json(nullptr)},
                              {"attempts", attempts},
                              {"replays", replays}});
  });

  router.add("POST", "/api/jobs/{id}/replay", [&c](Request &req) {
    auto id = id_param(req, 0);
    Json body = req.json_body();
    for (auto &[key, _] : body.items())
      if (key != "rule")
        throw std::invalid_argument("unknown key '" + key +
                                    "': a replay takes only \"rule\", \"original\" or \"current\"");
    bool current = by_current_rule(body);
    auto e = engine_of(c);
    auto job = id ? e->store().job(*id) : std::nullopt;
    if (!job) return Response::error(404, "no job " + req.params[0]);
    auto not_replayable = [&] {
      return Response::error(409, "job " + req.params[0] + " is " + job->state + "; only failed and dead jobs are replayed");
    };
    if (job->state != "failed" && job->state != "dead") return not_replayable();
    if (current) {
      std::string refused = replay_by_current_rule(*e, *job, e->store().event(job->event_id), c.clock_ms());
      if (!refused.empty())
        return Response::error(409, "job " + req.params[0] + " is not replayed with the current rule: " + refused);
    } else if (!e->store().replay(*id, c.clock_ms())) {
      return not_replayable();
    }
    e->jobs_due();
    return Response::of(200, {{"replayed", Json::array({*id})}, {"rule", current ? "current" : "original"}});
  });

  router.add("POST", "/api/jobs/replay", [&c](Request &req) {
    Json body = req.json_body();
    // A filter anywhere else would be ignored, and every failed and dead job replayed.
    for (auto &[key, _] : body.items())
      if (key != "filter" && key != "rule")
        throw std::invalid_argument("unknown key '" + key + "': search filters go under \"filter\", e.g. " +
                                    "{\"filter\": {\"" + key + "\": ...}}");
    bool current = by_current_rule(body);
    if (!req.query.empty())
      throw std::invalid_argument("query parameter '" + req.query.begin()->first +
                                  "' is not read here: search filters go in the body under \"filter\"");
    // An empty body must not replay everything by mistake: all is asked for as {"filter": {}}.
    if (!body.contains("filter"))
      throw std::invalid_argument("\"filter\" is required: the search filters of the jobs to replay, e.g. "
                                  "{\"filter\": {\"integration\": \"school\"}}; {\"filter\": {}} replays every "
                                  "failed and dead job");
    Json filter = body["filter"];
    if (!filter.is_object()) throw std::invalid_argument("filter must be a JSON object of search filters");
    // Up to as many jobs as a replay takes without a limit.
    store::Search q = parse_search(filter, store::kMaxSearchLimit);
    if (!filter.contains("limit")) q.limit = store::kMaxSearchLimit;
    auto e = engine_of(c);
    std::vector<int64_t> ids;
    Json refused = Json::array();
    std::size_t taken = 0;  // jobs of the filter this replay went through, down to the id `lowest`
    int64_t lowest = 0;
    if (!current) {
      ids = e->store().replay_matching(q, c.clock_ms());
      taken = ids.size();
      if (!ids.empty()) lowest = ids.back();
    } else {
      // Each job by itself: its rule may refuse it, and the others go on.
      store::Search pick = q;
      pick.states = store::replayable_states(q);
      std::vector<store::JobSummary> rows;
      if (!pick.states.empty()) rows = e->store().search_jobs(pick);
      std::map<int64_t, std::optional<Json>> events;  // of the jobs, read once each
      for (auto &row : rows) {
        auto [event, fresh] = events.try_emplace(row.job.event_id);
        if (fresh) event->second = e->store().event(row.job.event_id);
        std::string why = replay_by_current_rule(*e, row.job, event->second, c.clock_ms());
        if (why.empty()) ids.push_back(row.job.id);
        else refused.push_back({{"id", row.job.id}, {"rule", row.job.rule}, {"reason", why}});
      }
      taken = rows.size();
      if (!rows.empty()) lowest = rows.back().job.id;
    }
    // Whether failed or dead jobs of the filter are left past the limit, for a next replay: only
    // a replay that reached its limit can have left some.
    store::Search rest = q;
    rest.limit = 1;
    rest.states = store::replayable_states(q);
    rest.before_id = lowest;
    bool more = static_cast<int>(taken) >= q.limit && !e->store().search_jobs(rest).empty();
    if (!ids.empty()) e->jobs_due();
    Json answer = {{"replayed", ids},
                   {"count", ids.size()},
                   {"refused", refused},
                   {"more", more},
                   {"rule", current ? "current" : "original"}};
    // Where the older ones begin: the same filter alone meets again the jobs a current rule refused.
    if (more) answer["before"] = std::to_string(lowest);  // text, as a page's `next`
    return Response::of(200, std::move(answer));
  });

  router.add("POST", "/api/events/test", [&c](Request &req) {
    Json event = event_of(req.json_body(), "test event");
    auto stored = engine_of(c)->accept_test(std::move(event));
    return Response::of(stored.accepted.duplicate ? 200 : 201, {{"event_id", stored.accepted.event_id},
                                                               {"duplicate", stored.accepted.duplicate},
                                                               {"jobs", stored.accepted.jobs},
                                                               {"event", stored.event}});
  });

  router.add("POST", "/api/dry-run", [&c](Request &req) {
    Json event = event_of(req.json_body(), "dry run");
    auto planned = engine_of(c)->dry_run(event);
    Json jobs = Json::array();
    for (auto &p : planned) jobs.push_back(planned_json(p));
    return Response::of(200, {{"event", event}, {"jobs", jobs}});
  });
}

}  // namespace cartwire::admin
