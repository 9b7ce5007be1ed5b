#include "store/search_sql.hpp"

#include <algorithm>
#include <functional>

namespace cartwire::store {
namespace {

class Where {
 public:
  explicit Where(Dialect dialect = Dialect::sqlite) : dialect_(dialect) {}

  void text(const std::string &clause, const std::string &value) {
    if (value.empty()) return;
    add(clause);
    params_.push_back({true, value, 0});
  }
  void number(const std::string &clause, int64_t value) {
    if (value == 0) return;
    add(clause);
    params_.push_back({false, {}, value});
  }
  // A trailing '*' turns an exact match into a prefix match, case-sensitive
  // as an exact one, and served by the column's index: PostgreSQL's LIKE
  // (a text_pattern_ops index), SQLite's byte range (its LIKE ignores case and
  // so cannot use a plain index).
  void maybe_prefix(const std::string &column, const std::string &value) {
    if (value.empty()) return;
    if (value.back() != '*') return text(column + " = ?", value);
    std::string prefix = value.substr(0, value.size() - 1);
    if (dialect_ == Dialect::sqlite) {
      if (prefix.empty()) return;  // "*" alone: everything
      std::string after = prefix;  // the first text past every one that starts with the prefix
      while (!after.empty() && static_cast<unsigned char>(after.back()) == 0xFF) after.pop_back();
      text(column + " >= ?", prefix);
      if (after.empty()) return;  // only 0xFF bytes: nothing sorts past them
      after.back() = static_cast<char>(static_cast<unsigned char>(after.back()) + 1);
      text(column + " < ?", after);
      return;
    }
    std::string pattern;
    for (char c : prefix) {
      if (c == '%' || c == '_' || c == '\\') pattern += '\\';
      pattern += c;
    }
    text(column + " LIKE ? ESCAPE '\\'", pattern + "%");
  }
  void any_of(const std::string &column, const std::vector<std::string> &values) {
    if (values.empty()) return;
    std::string marks;
    for (auto &v : values) {
      marks += marks.empty() ? "?" : ",?";
      params_.push_back({true, v, 0});
    }
    add(column + " IN (" + marks + ")");
  }
  void raw(const std::string &clause) { add(clause); }

  bool empty() const { return clauses_.empty(); }
  std::string sql() const { return clauses_.empty() ? "" : " WHERE " + clauses_; }
  std::vector<SqlParam> &params() { return params_; }

 private:
  void add(const std::string &clause) { clauses_ += (clauses_.empty() ? "" : " AND ") + clause; }
  Dialect dialect_;
  std::string clauses_;
  std::vector<SqlParam> params_;
};

int64_t clamp_limit(int limit) { return std::clamp(limit, 1, kMaxSearchLimit); }

// The index a search reads first for `drive` (not Drive::integration): of events, or, for a job
// search's time range, of jobs.
const char *drive_index(Drive drive, bool events) {
  switch (drive) {
    case Drive::email: return "events_email";
    case Drive::order: return "events_order";
    case Drive::item: return "events_item";
    case Drive::type: return "events_type";
    case Drive::time: return events ? "events_received" : "jobs_created";
    case Drive::integration: break;
  }
  return "";
}

// The search's filter on the columns of `drive`'s index, unqualified: the rows the search reads from it.
void drive_filter(const Search &q, Drive drive, bool events, Where &w) {
  auto received = [&] {
    w.number("received_at >= ?", q.since_ms);
    w.number("received_at < ?", q.until_ms);
  };
  switch (drive) {
    case Drive::email:
      w.text("email = ?", ascii_lower(q.email));
      if (events && !w.empty()) received();  // events_email is (email, received_at)
      break;
    case Drive::order: w.text("order_id = ?", q.order_id); break;
    case Drive::item: w.maybe_prefix("item_ref", q.item_ref); break;
    case Drive::type:
      w.text("type = ?", q.type);
      if (events && !w.empty()) received();  // events_type is (type, received_at)
      break;
    case Drive::time:
      if (events) {
        received();
      } else {
        w.number("created_at >= ?", q.since_ms);
        w.number("created_at < ?", q.until_ms);
      }
      break;
    case Drive::integration: break;
  }
}

// The tables of a job search, joined in the order `drive` reads them on SQLite: an event filter's
// events, then each one's jobs (jobs_event); a time range's jobs, then each one's event; else the jobs
// (the planner reads the integration's).
std::string job_tables(Dialect dialect, Drive drive) {
  if (dialect != Dialect::sqlite || drive == Drive::integration) return "jobs j JOIN events e ON e.id = j.event_id";
  if (drive == Drive::time) return "jobs j INDEXED BY jobs_created CROSS JOIN events e ON e.id = j.event_id";
  return std::string("events e INDEXED BY ") + drive_index(drive, false) +
         " CROSS JOIN jobs j INDEXED BY jobs_event ON j.event_id = e.id";
}

// Filters shared by job searches and replays: the job's own columns and its event's.
void job_filters(const Search &q, Where &w) {
  w.text("e.email = ?", ascii_lower(q.email));
  w.text("e.order_id = ?", q.order_id);
  w.maybe_prefix("e.item_ref", q.item_ref);
  w.text("e.type = ?", q.type);
  w.text("e.source = ?", q.source);
  w.text("e.mode = ?", q.mode);
  w.text("j.integration = ?", q.integration);
  w.text("j.action = ?", q.action);
  w.text("j.rule = ?", q.rule);
  w.number("j.event_id = ?", q.event_id);
  w.number("j.created_at >= ?", q.since_ms);
  w.number("j.created_at < ?", q.until_ms);
  w.number("j.id < ?", q.before_id);
}

SqlQuery finish(std::string head, Where &w, const std::string &tail, int limit) {
  SqlQuery out;
  out.sql = std::move(head) + w.sql() + tail + " LIMIT ?";
  out.params = std::move(w.params());
  out.params.push_back({false, {}, clamp_limit(limit)});
  return out;
}

// The query's states, each once (the admin API takes a list).
std::vector<std::string> distinct_states(const Search &q) {
  std::vector<std::string> states = q.states;
  std::sort(states.begin(), states.end());
  states.erase(std::unique(states.begin(), states.end()), states.end());
  return states;
}

// A search in several states as one search per state, their pages merged newest first by their
// first column (the id they are ordered by); `distinct` keeps once a row two of them find (an
// event with jobs in two of the states). Both databases read an integration's jobs in one state
// by their state (SQLite from jobs_integration_state, PostgreSQL from jobs_state_id by its
// statistics), but in any of several they read the integration's jobs newest first, every one
// of them when none was in the states.
SqlQuery each_state(const Search &q, const std::vector<std::string> &states,
                    const std::function<SqlQuery(const Search &)> &one, bool distinct) {
  SqlQuery out;
  for (std::size_t i = 0; i < states.size(); ++i) {
    Search single = q;
    single.states = {states[i]};
    SqlQuery part = one(single);
    if (i > 0) out.sql += distinct ? " UNION " : " UNION ALL ";
    out.sql += "SELECT * FROM (" + part.sql + ") AS s" + std::to_string(i);
    for (auto &p : part.params) out.params.push_back(std::move(p));
  }
  out.sql += " ORDER BY 1 DESC LIMIT ?";
  out.params.push_back({false, {}, clamp_limit(q.limit)});
  return out;
}

}  // namespace

std::string ascii_lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

Drive choose_drive(const Search &q, bool events, const std::function<int64_t(const SqlQuery &)> &count) {
  if (q.integration.empty() || (!events && q.event_id != 0)) return Drive::integration;
  for (Drive drive : {Drive::email, Drive::order, Drive::item, Drive::type, Drive::time}) {
    Where w;
    drive_filter(q, drive, events, w);
    if (w.empty()) continue;
    std::string table = events || drive != Drive::time ? "events" : "jobs";
    SqlQuery probe;
    probe.sql = "SELECT COUNT(*) FROM (SELECT 1 FROM " + table + " INDEXED BY " + drive_index(drive, events) + w.sql() +
                " LIMIT ?)";
    probe.params = std::move(w.params());
    probe.params.push_back({false, {}, kDriveRows});
    if (count(probe) < kDriveRows) return drive;
  }
  return Drive::integration;
}

SqlQuery job_search_sql(const Search &q, Dialect dialect, Drive drive) {
  if (std::vector<std::string> states = distinct_states(q); states.size() > 1)
    return each_state(
        q, states, [&](const Search &single) { return job_search_sql(single, dialect, drive); }, false);
  Where w(dialect);
  job_filters(q, w);
  w.any_of("j.state", q.states);
  return finish(
      "SELECT j.id, j.event_id, j.rule, j.integration, j.action, j.state, COALESCE(j.last_error, ''), j.attempts, "
      "j.due_at, j.params, j.created_at, j.updated_at, e.type, e.source, e.mode, e.email, e.order_id, e.item_ref "
      "FROM " + job_tables(dialect, drive),
      w, " ORDER BY j.id DESC", q.limit);
}

namespace {

const char kEventColumns[] =
    "e.id, e.source, e.type, e.dedupe_key, e.occurred_at, e.received_at, e.mode, e.email, e.order_id, e.item_ref, "
    "(SELECT COUNT(*) FROM jobs c WHERE c.event_id = e.id)";

// An integration's events, newest first, read from its jobs newest first (jobs_integration_id): as
// many jobs as the page needs when most events have one, the integration's jobs alone when few do.
// Read from the events instead, SQLite went through every event when few matched (0.9 s at a million).
// SQLite numbers an event's jobs as it stores the event, in one writer's order, so that the jobs of
// a newer event are numbered after an older event's: their order is their events'. Each event is
// read at its newest matching job.
SqlQuery integration_events_sql(const Search &q) {
  Where w(Dialect::sqlite);
  w.text("j.integration = ?", q.integration);
  w.text("j.action = ?", q.action);
  w.text("j.rule = ?", q.rule);
  w.any_of("j.state", q.states);
  w.text("e.type = ?", q.type);
  w.text("e.source = ?", q.source);
  w.text("e.mode = ?", q.mode);
  w.number("e.received_at >= ?", q.since_ms);
  w.number("e.id < ?", q.before_id);
  // A page after the first starts below the first job of the events it is after.
  w.number("j.id < COALESCE((SELECT b.id FROM jobs b WHERE b.event_id >= ? ORDER BY b.event_id, b.id LIMIT 1), "
           "9223372036854775807)",
           q.before_id);
  Where later(Dialect::sqlite);
  later.raw("k.event_id = j.event_id AND k.id > j.id AND k.integration = j.integration");
  if (!q.action.empty()) later.raw("k.action = j.action");
  if (!q.rule.empty()) later.raw("k.rule = j.rule");
  later.any_of("k.state", q.states);
  // The event's jobs (SQLite would read the integration's newer jobs for each job, all of them when few match).
  w.raw("NOT EXISTS (SELECT 1 FROM jobs k INDEXED BY jobs_event" + later.sql() + ")");
  for (auto &p : later.params()) w.params().push_back(p);
  return finish(std::string("SELECT ") + kEventColumns + " FROM jobs j CROSS JOIN events e ON e.id = j.event_id", w,
                " ORDER BY j.id DESC", q.limit);
}

}  // namespace

SqlQuery event_search_sql(const Search &q, Dialect dialect, Drive drive) {
  if (dialect != Dialect::sqlite) drive = Drive::integration;
  // An email, an order, an item or an end of the time range names few events, read by their own indexes.
  bool from_jobs = dialect == Dialect::sqlite && drive == Drive::integration && !q.integration.empty() &&
                   q.email.empty() && q.order_id.empty() && q.item_ref.empty() && q.until_ms == 0;
  // SQLite's other searches read events newest first, or those of the drive's index, as many for each
  // state as for all.
  std::vector<std::string> states = distinct_states(q);
  if (states.size() > 1 && (from_jobs || dialect != Dialect::sqlite))
    return each_state(
        q, states, [&](const Search &single) { return event_search_sql(single, dialect, drive); }, true);
  if (from_jobs) return integration_events_sql(q);
  Where w(dialect);
  w.text("e.email = ?", ascii_lower(q.email));
  w.text("e.order_id = ?", q.order_id);
  w.maybe_prefix("e.item_ref", q.item_ref);
  w.text("e.type = ?", q.type);
  w.text("e.source = ?", q.source);
  w.text("e.mode = ?", q.mode);
  w.number("e.received_at >= ?", q.since_ms);
  w.number("e.received_at < ?", q.until_ms);
  w.number("e.id < ?", q.before_id);
  // Job-side filters select events that have at least one such job.
  if (!q.integration.empty() || !q.action.empty() || !q.rule.empty() || !q.states.empty()) {
    Where jobs;
    jobs.raw("j.event_id = e.id");
    jobs.text("j.integration = ?", q.integration);
    jobs.text("j.action = ?", q.action);
    jobs.text("j.rule = ?", q.rule);
    jobs.any_of("j.state", q.states);
    // SQLite would read the integration's jobs (jobs_integration_id) for each event, not the event's.
    w.raw(std::string("EXISTS (SELECT 1 FROM jobs j") + (dialect == Dialect::sqlite ? " INDEXED BY jobs_event" : "") +
          jobs.sql() + ")");
    // The sub-select's parameters come after the ones added so far, as its text does.
    for (auto &p : jobs.params()) w.params().push_back(p);
  }
  std::string events = "events e";
  if (drive != Drive::integration) events += std::string(" INDEXED BY ") + drive_index(drive, true);
  return finish(std::string("SELECT ") + kEventColumns + " FROM " + events, w, " ORDER BY e.id DESC", q.limit);
}

std::vector<std::string> replayable_states(const Search &q) {
  std::vector<std::string> states;
  for (const char *s : {"failed", "dead"})
    if (q.states.empty() || std::find(q.states.begin(), q.states.end(), s) != q.states.end()) states.push_back(s);
  return states;
}

SqlQuery replayable_jobs_sql(const Search &q, Dialect dialect, Drive drive) {
  std::vector<std::string> states = replayable_states(q);
  if (states.size() > 1)
    return each_state(
        q, states, [&](const Search &single) { return replayable_jobs_sql(single, dialect, drive); }, false);
  Where w(dialect);
  job_filters(q, w);
  if (states.empty()) w.raw("1 = 0");
  else w.any_of("j.state", states);
  return finish("SELECT j.id FROM " + job_tables(dialect, drive), w, " ORDER BY j.id DESC", q.limit);
}

SqlQuery prunable_jobs_sql(int64_t before_ms, int limit, const std::string &jobs) {
  // The state list is the jobs_finished index's, word for word, so that the index serves it.
  return {"SELECT id FROM " + jobs + " WHERE state IN ('succeeded', 'failed', 'dead') AND updated_at < ? LIMIT ?",
          {{false, {}, before_ms}, {false, {}, limit}}};
}

SqlQuery claim_sql(int64_t now_ms, int limit, const std::vector<std::string> &excluded) {
  // A job waits while an earlier job with its ordering key is unfinished,
  // so that e.g. an enrolment runs before the expiry that follows it.
  // Due jobs are read in (due_at, id) order straight from jobs_due, and
  // expired leases from jobs_state_id, so a claim reads a few rows however
  // long the queue is; event bodies are read for the chosen jobs only.
  std::string marks;
  for (std::size_t i = 0; i < excluded.size(); ++i) marks += i ? ",?" : "?";
  std::string eligible =
      "(j.ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM jobs p WHERE p.ordering_key = j.ordering_key "
      "AND p.id < j.id AND p.state IN ('queued','running')))" +
      (marks.empty() ? std::string() : " AND j.integration NOT IN (" + marks + ")");
  SqlQuery q;
  q.sql = "SELECT j.id, j.event_id, j.rule, j.integration, j.action, j.params, j.attempts, j.created_at, "
          "j.due_at, e.body, COALESCE(p.body, '') FROM jobs j JOIN events e ON e.id = j.event_id "
          "LEFT JOIN payloads p ON p.id = e.payload_id WHERE j.id IN ("
          "SELECT id FROM (SELECT j.id FROM jobs j WHERE j.state = 'queued' AND j.due_at <= ? AND " +
          eligible +
          " ORDER BY j.due_at, j.id LIMIT ?) AS due UNION ALL "
          "SELECT id FROM (SELECT j.id FROM jobs j WHERE j.state = 'running' AND j.lease_until < ? AND " +
          eligible + " LIMIT ?) AS expired) ORDER BY j.due_at, j.id LIMIT ?";
  auto candidates = [&] {
    for (auto &integration : excluded) q.params.push_back({true, integration, 0});
    q.params.push_back({false, {}, limit});
  };
  q.params.push_back({false, {}, now_ms});
  candidates();
  q.params.push_back({false, {}, now_ms});
  candidates();
  q.params.push_back({false, {}, limit});
  return q;
}

}  // namespace cartwire::store
