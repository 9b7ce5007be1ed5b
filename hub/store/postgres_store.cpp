// The shared store: PostgreSQL through libpq, for several hub nodes on one
// database. Each node holds four connections, each behind its own mutex:
// - writes, through the group commit (as the SQLite store's one connection);
// - claims, each in a short transaction of its own;
// - the accept path's lookups (a refund's purchase, a subscription's
//   history) and other small reads by key;
// - the console's searches, so that a long one holds up nothing else.
// Nodes coordinate through the database only (advisory lock keys in
// postgres_module.hpp):
// - a claim holds one lock while it chooses and leases, so that two nodes
//   never lease the same job and concurrency limits count every node's jobs,
//   and it leases a job only if it is still queued or its lease still ended;
// - an accept holds a lock on each dedupe key it stores, and on the other
//   keys of the same fact an event names that sort before its own (see
//   key_locks), so that a cart delivering one event to two nodes at once, or a
//   webhook and an import storing one refund under two keys, store it once,
//   and on each ordering key it gives a job, so that a key's jobs are
//   numbered in the order their accepts commit; a transaction takes all of
//   them at its start (for every accept of a group commit), in the order of
//   the locks' keys, so that two nodes receiving the same events in another
//   order do not each wait for a lock the other holds;
// - leases (node name and an end time) say who runs a job; a job whose lease
//   has ended is claimed by another node, and a claim cuts short to seconds
//   the leases held under a name that no session holds (its node was
//   killed); only the record of an attempt under the lease holding the job
//   moves it on (a lease is named by its node and when it began);
// - each node holds a lock on its name for as long as it runs, so that two
//   nodes cannot share one; a new session (the server restarted) takes it
//   again before anything else, and a claim on a new session waits for that,
//   so that a node that finds another holding it now (which took it while
//   this node was cut off) leases and records nothing more; one that finds
//   its own session from before holding it (a network cut the server has not
//   noticed) ends that session and takes it, and so does a node started
//   again that finds its previous process's session holding it, when that
//   process ran on the same machine and runs no more (the name's row in
//   `nodes` names the process and the session holding it); a claim leases
//   only while the session holding the name lives, and a node that takes a
//   name puts back what is leased under it under the claim lock, after any
//   claim under that name still under way;
// - a session stalled inside a transaction is ended by the server after a
//   minute (its locks with it), a claim waits at most 10 s for the claim
//   lock, and TCP keepalives find a peer that is gone.
#include <libpq-fe.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "store/group_commit.hpp"
#include "store/migrations.hpp"
#include "store/postgres_module.hpp"
#include "store/rows.hpp"
#include "store/search_sql.hpp"
#include "store/store.hpp"

namespace cartwire::store {
namespace {


/** One parameter, sent as text (null when empty). */
struct Param {
  Param(int64_t v) : value(std::to_string(v)) {}
  Param(int v) : value(std::to_string(v)) {}
  Param(const std::string &v) : value(v) {}
  Param(const char *v) : value(std::string(v)) {}
  Param(const std::optional<std::string> &v) : value(v) {}
  Param(const std::optional<int64_t> &v) {
    if (v) value = std::to_string(*v);
  }
  std::optional<std::string> value;
};

class Result {
 public:
  explicit Result(PGresult *r) : r_(r) {}
  ~Result() { PQclear(r_); }
  Result(Result &&o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  Result(const Result &) = delete;
  Result &operator=(const Result &) = delete;

  int rows() const { return PQntuples(r_); }
  bool null(int row, int col) const { return PQgetisnull(r_, row, col); }
  std::string text(int row, int col) const { return std::string(PQgetvalue(r_, row, col), PQgetlength(r_, row, col)); }
  int64_t number(int row, int col) const { return null(row, col) ? 0 : std::strtoll(PQgetvalue(r_, row, col), nullptr, 10); }
  /** Rows an INSERT, UPDATE or DELETE changed. */
  int64_t changed() const { return std::strtoll(PQcmdTuples(r_), nullptr, 10); }
  bool ok() const {
    ExecStatusType status = PQresultStatus(r_);
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
  }
  const char *error() const { return r_ ? PQresultErrorMessage(r_) : "out of memory"; }
  /** A field of the error (PG_DIAG_SQLSTATE, ...); empty when it has none. */
  std::string error_field(int code) const {
    const char *field = r_ ? PQresultErrorField(r_, code) : nullptr;
    return field ? field : "";
  }

 private:
  PGresult *r_;
};

// One row of a Result, as the shared row readers (rows.hpp) read it.
struct ResultRow {
  const Result &r;
  int row;
  std::string text(int column) const { return r.text(row, column); }
  int64_t number(int column) const { return r.number(row, column); }
};

// libpq's message on one line: its lines joined, the last newline dropped.
std::string trimmed(const char *message) {
  std::string s;
  for (const char *c = message ? message : ""; *c; ++c) {
    bool space = *c == '\n' || *c == '\t' || *c == ' ';
    if (!space) s += *c;
    else if (!s.empty() && s.back() != ' ') s += ' ';
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// libpq quotes the part of a connection string it cannot read, which may be
// the password: the quoted parts of its message are left out.
std::string unquoted(const std::string &message) {
  std::string out;
  bool quoted = false;
  for (char c : message) {
    if (c == '"') {
      if (!quoted) out += "\"...\"";
      quoted = !quoted;
    } else if (!quoted) {
      out += c;
    }
  }
  return out;
}

// Every session ends a transaction left open for a minute (a node frozen in
// the middle of one), which releases its locks. The server ends the session
// of a node it no longer hears from after a minute too, as the node gives up
// on the server (its keepalives): a node cut off from the database finds its
// name free when it is back, not held by its own old session for hours (the
// system's keepalive default).
const std::vector<std::string> kSessionSetup = {"SET idle_in_transaction_session_timeout = '60s'",
                                                "SET tcp_keepalives_idle = 30", "SET tcp_keepalives_interval = 10",
                                                "SET tcp_keepalives_count = 3"};

// When a session (a row of pg_stat_activity, "a") began, in µs since 1970: with its backend's pid, it
// tells that session from any other.
const std::string kSessionStart = "(extract(epoch FROM a.backend_start) * 1000000)::bigint";

// Takes the claim lock ($1: kClaimLock) until the transaction ends: claims, and the putting back of a
// name's jobs, take turns.
const std::string kTakeClaimLock = "SELECT pg_advisory_xact_lock($1, " + lock_key() + ")";

// A process as the row of the name it holds (nodes) gives it, for a node started again to tell
// its previous process's session, left on the server by a network cut, from another node's.
struct Process {
  // The kernel's boot (a random id drawn at each boot) and PID namespace, which no other machine or
  // container shares; empty when unknown, which matches no other.
  std::string machine;
  int pid = 0;
  int64_t start = 0;  // in clock ticks since the boot: with the pid, it tells the process from any other
};

// From /proc/<pid>/stat: its state and start; nothing when it cannot be read.
std::optional<std::pair<char, int64_t>> proc_stat(const std::string &pid) {
  std::ifstream in("/proc/" + pid + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  auto name_end = line.rfind(')');  // the command name, in parentheses, may hold spaces
  if (name_end == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(name_end + 1));
  char state = 0;
  fields >> state;
  std::string skipped;
  for (int field = 4; field < 22; ++field) fields >> skipped;  // from the parent's pid on
  int64_t start = 0;  // field 22
  if (!(fields >> start)) return std::nullopt;
  return std::make_pair(state, start);
}

const Process &this_process() {
  static const Process self = [] {
    Process p;
    std::string boot;
    std::getline(std::ifstream("/proc/sys/kernel/random/boot_id"), boot);
    char ns[64];
    ssize_t n = ::readlink("/proc/self/ns/pid", ns, sizeof ns);
    if (!boot.empty() && n > 0) p.machine = boot + " " + std::string(ns, static_cast<std::size_t>(n));
    p.pid = static_cast<int>(::getpid());
    if (auto stat = proc_stat("self")) p.start = stat->second;
    return p;
  }();
  return self;
}

// Whether `p`, a process of this machine, still runs. One that exists but cannot be read (another
// user's, behind hidepid) is taken to run.
bool still_runs(const Process &p) {
  if (::kill(p.pid, 0) != 0 && errno == ESRCH) return false;
  auto stat = proc_stat(std::to_string(p.pid));
  if (!stat) return true;
  return stat->second == p.start && stat->first != 'Z' && stat->first != 'X';  // not a later process, nor a dead one
}

// Whether a row of pg_locks, "l", is the lock on the node name `name` (an SQL text expression) that a
// session of this database holds: a node is live while its session holds it (hold_node). $1: kNodeLock.
std::string holds_name(const std::string &name) {
  return "l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = "
         "current_database()) AND l.classid = $1::int4::oid AND l.objsubid = 2 AND l.objid = " + lock_key(name) +
         "::oid";
}

// The names of the nodes running on this hub's schema. $1: kNodeLock.
const std::string kLiveNodesFrom = "FROM nodes n JOIN pg_locks l ON " + holds_name("n.name");
const std::string kLiveNodes = "SELECT n.name " + kLiveNodesFrom;

// Ends at $2 the leases that end later of the jobs leased under a name that no session holds (its node
// was killed, its machine is gone), whether or not `nodes` has a row of it: read from the running jobs,
// which are few; gives how many under each name. $1: kNodeLock.
const std::string kCutOrphanLeases =
    "WITH cut AS (UPDATE jobs SET lease_until = $2 WHERE state = 'running' AND lease_until > $2 AND NOT EXISTS "
    "(SELECT 1 FROM pg_locks l WHERE " + holds_name("jobs.lease_owner") + ") RETURNING lease_owner) "
    "SELECT lease_owner, COUNT(*) FROM cut GROUP BY lease_owner ORDER BY lease_owner";

// How often a node's claims look for jobs leased under names no session holds, and a node asks again
// for a poll that another node holds.
constexpr std::chrono::seconds kOrphansEvery{2};
// What is left of the lease of a job or a poll held under a name that no session holds: the time for a
// supervisor to start that node again after a crash (config/cartwire.service: RestartSec=2), which then
// fails the job whose attempt crashed it (its crash note), still leased to it, rather than another node
// running it and crashing too.
constexpr std::chrono::seconds kOrphanLease{10};

// Held until the transaction ends, on keys ($2) of kinds ($1, each key's):
// dedupe and ordering keys. Taken in the order of the locks' own keys (kind,
// hash), on every node alike; a key named twice is taken once.
const std::string kTakeKeyLocks =
    "SELECT COUNT(pg_advisory_xact_lock(kind, key)) FROM (SELECT DISTINCT l.kind, " + lock_key("l.what") +
    " AS key FROM unnest($1::int4[], $2::text[]) AS l(kind, what) ORDER BY 1, 2) AS sorted";

// `ids` (numbers) as a PostgreSQL array literal, for `= ANY($n::bigint[])`.
template <typename Ids>
std::string id_array(const Ids &ids) {
  std::string out = "{";
  for (const auto &id : ids) out += (out.size() > 1 ? "," : "") + std::to_string(id);
  return out + "}";
}

// `items` as a PostgreSQL array literal of text.
std::string text_array(const std::vector<std::string> &items) {
  std::string out = "{";
  for (const std::string &item : items) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : item) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

// The locks storing `events` takes: each one's dedupe key and its jobs' ordering keys, and the alternatives
// of an event (NewEvent::alternatives) that sort before its own key. Two events of one fact name each other's
// key, so the one with the later key takes the other's lock: whichever node or process stores its event
// second finds the first stored. (Taking every alternative would take 59 more for each refund a spreadsheet
// dated to the minute: for a batch of them, more than the server's lock table holds.)
std::vector<KeyLock> key_locks(const std::vector<NewEvent> &events) {
  std::vector<KeyLock> out;
  for (const NewEvent &e : events) {
    const std::string &key = e.event.value("dedupe_key", "");
    out.push_back({kDedupeLock, key});
    for (const std::string &other : e.alternatives)
      if (other < key) out.push_back({kDedupeLock, other});
    for (const NewJob &job : e.jobs)
      if (!job.ordering_key.empty()) out.push_back({kOrderingLock, job.ordering_key});
  }
  return out;
}

std::vector<std::string> with(std::vector<std::string> setup, const std::string &more) {
  setup.push_back(more);
  return setup;
}

// '?' placeholders (as the shared SQL text writes them) as PostgreSQL's $1, $2, ...
std::string numbered(const std::string &sql) {
  std::string out;
  int n = 0;
  bool quoted = false;
  for (char c : sql) {
    if (c == '\'') quoted = !quoted;
    if (c == '?' && !quoted) out += "$" + std::to_string(++n);
    else out += c;
  }
  return out;
}

// A libpq connection. Statements run with their parameters as text; those
// run often are prepared once per connection. A connection found broken (the
// server restarted) is reset before its next statement; a session the server
// ended while it sat idle shows only when it is used, so a statement that is
// safe to send twice (BEGIN, and on a connection that only reads, any
// statement outside a transaction) is then sent again, once, on a new
// connection. Unless the connection string says otherwise, connecting gives
// up after 10 s (libpq would wait for as long as the network does) and the
// server lists the connection as "cartwire". A connection refused (refuse())
// sends nothing more.
class Connection {
 public:
  /**
   * `setup`: statements run on every new session, the first and each after a
   * reset. `reads`: every statement run on it outside a transaction only reads.
   */
  Connection(const std::string &conninfo, std::vector<std::string> setup, bool reads = false)
      : setup_(std::move(setup)), reads_(reads) {
    // Later values win: the connection string's own, expanded from "dbname".
    const char *keys[] = {"connect_timeout", "keepalives_idle", "keepalives_interval", "keepalives_count",
                          "fallback_application_name", "dbname", nullptr};
    const char *values[] = {"10", "30", "10", "3", "cartwire", conninfo.c_str(), nullptr};
    conn_ = PQconnectdbParams(keys, values, 1);
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string error = conn_ ? unquoted(trimmed(PQerrorMessage(conn_))) : "out of memory";
      PQfinish(conn_);
      throw std::runtime_error("cannot connect to PostgreSQL: " + error);
    }
    PQsetNoticeProcessor(conn_, [](void *, const char *) {}, nullptr);  // notices are not errors: kept out of stderr
    set_up();
  }

  /**
   * Called on each new session after the first, once its setup has run,
   * before the statement that made it; what it throws, that statement throws.
   */
  void on_new_session(std::function<void()> then) { on_new_session_ = std::move(then); }
  /** How many sessions were made after the first (each a reset). */
  int64_t sessions() const { return sessions_; }
  /** From now on every statement throws NodeInUse(`why`), and nothing is sent. */
  void refuse(const std::string &why) { refused_ = why; }

  /** A statement that does nothing, sent again once on a new connection if the server had ended the session. */
  void ping() {
    resent_once([&] { return run("SELECT 1", {}, false); });
  }
  ~Connection() { PQfinish(conn_); }
  Connection(const Connection &) = delete;
  Connection &operator=(const Connection &) = delete;

  Result exec(const std::string &sql, std::initializer_list<Param> params = {}, bool prepare = true) {
    return exec(sql, std::vector<Param>(params), prepare);
  }

  // Transaction control: a connection lost inside a transaction is reset only after it ends.
  void begin() {
    resent_once([&] { return run("BEGIN", {}, false); });
    in_transaction_ = true;
  }
  void commit() {
    in_transaction_ = false;
    exec("COMMIT", {}, false);
  }
  void rollback() noexcept {
    in_transaction_ = false;
    if (PQstatus(conn_) != CONNECTION_OK) return;  // the server ended it with the connection
    try {
      exec("ROLLBACK", {}, false);
    } catch (...) {
    }
  }

  Result exec(const std::string &sql, const std::vector<Param> &params, bool prepare) {
    if (reads_ && !in_transaction_) return resent_once([&] { return run(sql, params, prepare); });
    return run(sql, params, prepare);
  }

  /** A statement whose text varies (searches): not prepared. */
  Result query(const SqlQuery &q) {
    std::vector<Param> params;
    for (auto &p : q.params) params.push_back(p.is_text ? Param(p.text) : Param(p.number));
    return exec(numbered(q.sql), params, false);
  }

 private:
  // `statement`, one that is safe to send twice, sent again on a new
  // connection if the server had ended the session it went to (a restart, a
  // failover while the connection sat idle): nothing of it was done there.
  template <typename Statement>
  Result resent_once(const Statement &statement) {
    bool was_up = PQstatus(conn_) == CONNECTION_OK;
    try {
      return statement();
    } catch (const std::exception &) {
      if (!was_up || PQstatus(conn_) == CONNECTION_OK) throw;  // a new connection failed, or the statement did
      return statement();
    }
  }

  Result run(const std::string &sql, const std::vector<Param> &params, bool prepare) {
    if (!refused_.empty()) throw NodeInUse(refused_);
    if (PQstatus(conn_) != CONNECTION_OK) {
      if (in_transaction_) throw Unreachable("the connection to PostgreSQL was lost during a transaction");
      PQreset(conn_);
      prepared_.clear();
      if (PQstatus(conn_) != CONNECTION_OK)
        throw Unreachable("the connection to PostgreSQL is lost: " + unquoted(trimmed(PQerrorMessage(conn_))));
      auto [old_pid, old_start] = std::pair{session_pid_, session_start_};
      set_up();
      end_session(old_pid, old_start);
      ++sessions_;
      if (on_new_session_) on_new_session_();
    }
    std::vector<const char *> values;
    for (auto &p : params) values.push_back(p.value ? p.value->c_str() : nullptr);
    int n = static_cast<int>(values.size());
    PGresult *r;
    if (prepare) {
      auto it = prepared_.find(sql);
      if (it == prepared_.end()) {
        std::string name = "s" + std::to_string(prepared_.size() + 1);
        Result made(PQprepare(conn_, name.c_str(), sql.c_str(), n, nullptr));
        check(made, sql);
        it = prepared_.emplace(sql, name).first;
      }
      r = PQexecPrepared(conn_, it->second.c_str(), n, values.data(), nullptr, nullptr, 0);
    } else {
      r = PQexecParams(conn_, sql.c_str(), n, nullptr, values.data(), nullptr, nullptr, 0);
    }
    Result result(r);
    check(result, sql);
    return result;
  }

  void set_up() {
    for (const std::string &sql : setup_) run(sql, {}, false);
    Result me = run("SELECT a.pid, " + kSessionStart + " FROM pg_stat_activity a WHERE a.pid = pg_backend_pid()", {},
                    false);
    session_pid_ = me.rows() ? static_cast<int>(me.number(0, 0)) : 0;
    session_start_ = me.rows() ? me.number(0, 1) : 0;
  }

  // The session this connection had before a reset, when the server still runs it: a network cut
  // the server has not noticed leaves it there, until its keepalives give up (about a minute), with
  // what it holds: the locks of a transaction under way (a claim's lock, which every node's claims
  // wait for; a group of accepts' dedupe keys). Nothing uses it any more: its transaction, which this
  // connection saw fail, is rolled back with it. Where the server refuses (another role's session),
  // it ends as before, when the server gives up on it.
  void end_session(int pid, int64_t start) {
    if (!pid) return;
    try {
      run("SELECT pg_terminate_backend(a.pid, 10000) FROM pg_stat_activity a WHERE a.pid = $1 AND " + kSessionStart +
              " = $2",
          {Param(pid), Param(start)}, false);
    } catch (const std::runtime_error &) {
    }
  }

  void check(const Result &r, const std::string &sql) {
    if (r.ok()) return;
    std::string error = trimmed(r.error()) + " (in \"" + sql.substr(0, 60) + (sql.size() > 60 ? "...\")" : "\")");
    if (PQstatus(conn_) != CONNECTION_OK) throw Unreachable("the connection to PostgreSQL is lost: " + error);
    // out_of_memory, with the hint that names the setting of the lock table's size.
    if (r.error_field(PG_DIAG_SQLSTATE) == "53200" &&
        r.error_field(PG_DIAG_MESSAGE_HINT).find("max_locks_per_transaction") != std::string::npos)
      throw LockTableFull(error);
    throw std::runtime_error(error);
  }

  PGconn *conn_ = nullptr;
  std::vector<std::string> setup_;
  std::function<void()> on_new_session_;
  std::unordered_map<std::string, std::string> prepared_;
  bool reads_;
  bool in_transaction_ = false;
  int64_t sessions_ = 0;
  int session_pid_ = 0;        // this connection's session: its backend's pid
  int64_t session_start_ = 0;  // and when it began (kSessionStart)
  std::string refused_;
};

class PostgresStore : public Store {
 public:
  PostgresStore(const std::string &conninfo, bool migrate)
      : write_(conninfo, kSessionSetup),
        // A claim's transaction is a few statements: one idle for seconds is a node frozen or cut off
        // mid-claim, whose session holds the lock every node's claims wait for; the server ends it.
        claim_(conninfo, with(with(kSessionSetup, "SET lock_timeout = '10s'"),
                              "SET idle_in_transaction_session_timeout = '5s'")),
        lookup_(conninfo, kSessionSetup, /*reads=*/true),
        read_(conninfo, kSessionSetup, /*reads=*/true) {
    if (migrate) this->migrate();
    else check_schema();
  }

  void mark_work_with(WorkMarks *marks) override { group_.mark_with(marks); }

  void hold_node(const std::string &node) override {
    std::lock_guard lock(write_mutex_);
    node_ = node;
    // A node started again (systemd after a crash) may find its name held by its previous process's
    // session, which the server keeps after a network cut until its keepalives give up: it ends that
    // session, and only that one, and takes the name.
    if (!took_name(take_name()) && !(ended_stale_holder() && took_name(take_name())))
      throw NodeInUse("another hub node runs as '" + node +
                               "' on this database: give each node its own runner.node");
    // A new session (the server restarted, or ended this one) takes the name again before anything else.
    write_.on_new_session([this] { take_name_again(); });
    write_.exec("INSERT INTO nodes(name, started_at) VALUES($1, $2) "
                "ON CONFLICT (name) DO UPDATE SET started_at = EXCLUDED.started_at, config = NULL",
                {node, static_cast<int64_t>(std::time(nullptr)) * 1000});
  }

  void on_name_lost(std::function<void(const std::string &)> lost) override {
    std::lock_guard lock(write_mutex_);
    on_name_lost_ = std::move(lost);
  }

  void on_leases_cut(std::function<void(const std::string &, int, const std::string &)> cut) override {
    std::scoped_lock lock(write_mutex_, claim_mutex_);
    on_leases_cut_ = std::move(cut);
  }

  std::chrono::steady_clock::time_point name_held_since() override { return name_held_since_; }

  int count_nodes() override {
    {
      // This node's name lock lives on the write connection: one the database dropped is made
      // again here, taking the lock again, rather than at the node's next write.
      std::lock_guard lock(write_mutex_);
      write_.ping();
    }
    static const std::string count = "SELECT COUNT(*) FROM (" + kLiveNodes + ") AS live";
    std::lock_guard lock(lookup_mutex_);
    return static_cast<int>(lookup_.exec(count, {kNodeLock}).number(0, 0));
  }

  void note_config(const std::string &node, const std::string &fingerprint) override {
    std::lock_guard lock(write_mutex_);
    write_.exec("UPDATE nodes SET config = $1 WHERE name = $2", {fingerprint, node});
  }

  std::map<std::string, std::string> node_configs() override {
    static const std::string configs = "SELECT n.name, COALESCE(n.config, '') " + kLiveNodesFrom;
    std::lock_guard lock(lookup_mutex_);
    Result r = lookup_.exec(configs, {kNodeLock});
    std::map<std::string, std::string> out;
    for (int row = 0; row < r.rows(); ++row) out[r.text(row, 0)] = r.text(row, 1);
    return out;
  }

  std::vector<Accepted> accept(std::vector<NewEvent> &events, int64_t now_ms) override {
    std::vector<Accepted> out;
    group_.write([&] { out = insert_events(events, now_ms); }, key_locks(events));
    return out;
  }

  std::set<std::string> stored_keys(const std::vector<std::string> &dedupe_keys) override {
    std::lock_guard lock(lookup_mutex_);
    std::set<std::string> out;
    // One statement: a search of the dedupe_key index per key.
    Result r = lookup_.exec("SELECT e.dedupe_key FROM unnest($1::text[]) AS k(key) JOIN events AS e "
                            "ON e.dedupe_key = k.key",
                            {text_array(dedupe_keys)});
    for (int row = 0; row < r.rows(); ++row) out.insert(r.text(row, 0));
    return out;
  }

  std::vector<ClaimedJob> claim(const std::string &node, int64_t now_ms, int64_t lease_ms, int limit,
                                const std::map<std::string, int> &concurrency = {},
                                const std::map<std::string, int> &room = {}, ClaimWatch *watch = nullptr) override {
    // A transaction of its own, never inside a group of accepts: the claim
    // lock it takes (held until it commits) is then never waited for by an
    // accept, nor taken in another order than a dedupe key's lock.
    std::vector<ClaimedJob> out;
    std::lock_guard lock(claim_mutex_);
    if (lost_) throw NodeInUse(lost_why_);
    std::vector<std::pair<std::string, int>> cut;  // the leases cut short, by name
    std::optional<Result> rs;                      // the rows chosen, read into jobs once leased
    std::set<int64_t> leased;
    claim_.begin();
    try {
      // A new session for claims means the server ended this node's sessions (a restart, a failover),
      // the one holding its name too: the write connection takes the name again before any job is
      // leased under it, or finds that another node took it meanwhile (NodeInUse).
      if (claim_.sessions() != name_checked_) {
        {
          std::lock_guard write_lock(write_mutex_);
          write_.ping();
        }
        name_checked_ = claim_.sessions();
      }
      // Jobs are leased under the name only while the session holding it lives, which the claim lock's
      // statement looks up on the side: a session an administrator ended (only it) is made again, taking
      // the name back, before the next claim, rather than at the node's next write or count.
      static const std::string take_claim_lock_named =
          "SELECT pg_advisory_xact_lock($1, " + lock_key() + "), EXISTS (SELECT 1 FROM pg_locks WHERE "
          "locktype = 'advisory' AND granted AND pid = $2 AND classid = $3::int4::oid AND objsubid = 2 AND "
          "objid = " + lock_key("$4::text") + "::oid)";
      if (int pid = name_pid_; !pid) {
        claim_.exec(kTakeClaimLock, {kClaimLock});
      } else if (claim_.exec(take_claim_lock_named, {kClaimLock, pid, kNodeLock, node}).text(0, 1) != "t") {
        claim_.rollback();
        std::lock_guard write_lock(write_mutex_);
        write_.ping();
        return out;
      } else {
        cut = cut_orphan_leases(now_ms);
      }
      std::map<std::string, int> running;
      for (auto &[integration, max] : concurrency) {
        if (max <= 0) continue;
        running[integration] = static_cast<int>(
            claim_
                .exec("SELECT COUNT(*) FROM jobs WHERE integration = $1 AND state = 'running' AND lease_until >= $2",
                      {integration, now_ms})
                .number(0, 0));
      }
      // The limits take the jobs by their integration alone, and those taken are leased in one statement:
      // their params and events are read only once the leases are committed (below).
      ClaimLimits limits(concurrency, room, std::move(running));
      rs.emplace(claim_.query(claim_sql(now_ms, limit, limits.excluded())));
      std::vector<int64_t> chosen;
      for (int row = 0; row < rs->rows(); ++row) {
        int64_t id = rs->number(row, 0);
        read_or_leave_out(watch, id, static_cast<int>(rs->number(row, 6)), [&] {
          if (limits.take(claimed_integration(ResultRow{*rs, row}))) chosen.push_back(id);
        });
      }
      if (!chosen.empty()) {
        // A job whose ended lease its node still recorded an attempt for in the meantime is left alone. The
        // rows are locked in the order of their ids, and one whose lock another transaction holds (a group
        // commit recording a late attempt of it, putting it back, failing it) is left to the next claim:
        // the claim never waits for a row, so that it cannot deadlock with a transaction taking rows in
        // another order, nor hold up the other nodes' claims behind its claim lock meanwhile.
        Result r = claim_.exec("UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = $2, updated_at = $3 "
                               "WHERE id IN (SELECT id FROM jobs WHERE id = ANY($4::bigint[]) AND (state = 'queued' "
                               "OR (state = 'running' AND lease_until < $3)) ORDER BY id FOR UPDATE SKIP LOCKED) "
                               "RETURNING id",
                               {node, now_ms + lease_ms, now_ms, id_array(chosen)});
        for (int row = 0; row < r.rows(); ++row) leased.insert(r.number(row, 0));
      }
      claim_.commit();
    } catch (...) {
      claim_.rollback();
      throw;
    }
    if (on_leases_cut_)
      for (auto &[name, jobs] : cut) on_leases_cut_(name, jobs, "");
    // Each row is read under the watch of its job, leased already: a crash in the hub's own code as it reads
    // one leaves that job held under this node's lease, which the other nodes cut short only after
    // kOrphanLease, and this node started again meanwhile fails it (its crash note), rather than another
    // node claiming it at once and crashing in turn. A row that throws is put back in the queue, due as
    // it was, and the claim goes on with the others.
    std::vector<int64_t> unread;
    for (int row = 0; row < rs->rows(); ++row) {
      int64_t id = rs->number(row, 0);
      if (!leased.count(id)) continue;
      int attempts = static_cast<int>(rs->number(row, 6));
      Claiming claiming(watch, id, attempts);
      if (!read_or_leave_out(watch, id, attempts, [&] { out.push_back(claimed_job(ResultRow{*rs, row}, now_ms)); }))
        unread.push_back(id);
    }
    if (!unread.empty()) {
      try {
        claim_.exec("UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL "
                    "WHERE id = ANY($1::bigint[]) AND state = 'running' AND lease_owner = $2 AND updated_at = $3",
                    {id_array(unread), node, now_ms});
      } catch (...) {
        // Their leases end as they would after a crash, and a claim takes them then.
      }
    }
    return out;
  }

  LateRecords finish(const AttemptRecord &a, const JobUpdate &u, int64_t now_ms) override {
    LateRecords late;
    group_.write([&] { record_attempt(a, u, now_ms, late); });
    return late;
  }

  LateRecords finish_batch(std::vector<Finished> &done, int64_t now_ms) override {
    LateRecords late;
    std::vector<int> numbers;
    group_.write([&] {
      for (const Finished &f : done) numbers.push_back(record_attempt(f.attempt, f.update, now_ms, late));
    });
    for (std::size_t i = 0; i < done.size(); ++i) done[i].attempt.number = numbers[i];
    return late;
  }

  int requeue_running(const std::string &node) override {
    // Under the claim lock: a claim under the name that is under way (a node that held it until its session
    // holding it ended, after the claim looked it up) commits first, and the jobs it leased are put back too.
    int requeued = 0;
    transaction([&] {
      write_.exec(kTakeClaimLock, {kClaimLock});
      requeued = static_cast<int>(write_
                                      .exec("UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL "
                                            "WHERE state = 'running' AND lease_owner = $1",
                                            {node})
                                      .changed());
    });
    return requeued;
  }

  bool fail_interrupted(AttemptRecord attempt, const std::string &node, int64_t now_ms) override {
    bool held = false;
    group_.write([&] {
      Result r = write_.exec("SELECT attempts, due_at, updated_at FROM jobs WHERE id = $1 AND state = 'running' "
                             "AND lease_owner = $2 FOR UPDATE",
                             {attempt.job_id, node});
      if (!r.rows()) return;
      held = true;
      attempt.number = static_cast<int>(r.number(0, 0)) + 1;
      attempt.due_at = r.number(0, 1);
      attempt.node = node;  // under its lease
      attempt.leased_at = r.number(0, 2);
      LateRecords late;
      record_attempt(attempt, {JobState::failed, 0, attempt.error}, now_ms, late);
    });
    return held;
  }

  bool fail_claimed(AttemptRecord attempt, int attempts, int64_t now_ms) override {
    bool failed = false;
    group_.write([&] {
      // Under the row's lock: a claim that leases it meanwhile finds it failed, and leaves it. The crashed
      // claim's own lease (its node's) was committed before the row was read.
      Result r = write_.exec("UPDATE jobs SET state = 'failed', last_error = $1, lease_owner = NULL, lease_until = NULL, "
                             "updated_at = $2 WHERE id = $3 AND attempts = $4 AND (state = 'queued' OR "
                             "(state = 'running' AND (lease_until < $2 OR lease_owner = $5))) RETURNING due_at",
                             {attempt.error, now_ms, attempt.job_id, attempts, attempt.node});
      if (!r.rows()) return;
      failed = true;
      write_.exec("WITH counted AS (UPDATE jobs SET attempts = attempts + 1 WHERE id = $1::bigint RETURNING attempts) "
                  "INSERT INTO attempts(job_id, number, due_at, started_at, duration_ms, outcome, error, exchanges, "
                  "node) SELECT $1, attempts, $2::bigint, $3::bigint, $4::bigint, $5::text, $6::text, '[]', $7::text "
                  "FROM counted",
                  {attempt.job_id, r.number(0, 0), attempt.started_at, attempt.duration_ms, attempt.outcome,
                   attempt.error, attempt.node});
    });
    return failed;
  }

  void release(const std::vector<int64_t> &job_ids, const std::string &node) override {
    group_.write([&] {
      for (int64_t id : job_ids) release_job(id, node, std::nullopt);  // due as it was
    });
  }

  void defer(const std::vector<std::pair<int64_t, int64_t>> &jobs, const std::string &node) override {
    group_.write([&] {
      for (auto &[id, due_at] : jobs) release_job(id, node, due_at);
    });
  }

  void renew_leases(const std::vector<int64_t> &job_ids, const std::string &node, int64_t lease_until) override {
    group_.write([&] {
      for (int64_t id : job_ids)
        write_.exec("UPDATE jobs SET lease_until = $1 WHERE id = $2 AND state = 'running' AND lease_owner = $3",
                    {lease_until, id, node});
    });
  }

  std::optional<int64_t> next_due() override {
    std::lock_guard lock(lookup_mutex_);
    Result r = lookup_.exec("SELECT MIN(due_at) FROM jobs WHERE state = 'queued'");
    if (r.null(0, 0)) return std::nullopt;
    return r.number(0, 0);
  }

  void save_list(const std::string &integration, const std::string &name, const Json &items, int64_t now_ms) override {
    std::lock_guard lock(write_mutex_);
    write_.exec("INSERT INTO resource_lists(integration, name, items, refreshed_at) VALUES($1, $2, $3, $4) "
                "ON CONFLICT(integration, name) DO UPDATE SET items = excluded.items, "
                "refreshed_at = excluded.refreshed_at",
                {integration, name, items.dump(), now_ms});
  }

  std::optional<CachedList> load_list(const std::string &integration, const std::string &name) override {
    std::lock_guard lock(lookup_mutex_);
    Result r = lookup_.exec("SELECT items, refreshed_at FROM resource_lists WHERE integration = $1 AND name = $2",
                          {integration, name});
    if (!r.rows()) return std::nullopt;
    CachedList out;
    out.items = Json::parse(r.text(0, 0), nullptr, false);
    if (!out.items.is_array()) out.items = Json::array();
    out.refreshed_at = r.number(0, 1);
    return out;
  }

  std::optional<PollStatus> poll_status(const std::string &source, int64_t now_ms) override {
    std::lock_guard lock(lookup_mutex_);
    Result r = lookup_.exec(std::string("SELECT ") + kPollStatusColumns + " FROM poll_state WHERE source = $1", {source});
    if (!r.rows()) return std::nullopt;
    return poll_status_row(ResultRow{r, 0}, now_ms);
  }

  PollClaim claim_poll(const std::string &source, const std::string &node, int64_t now_ms, int64_t lease_ms,
                       const std::string &settings) override {
    PollClaim claim;
    std::string cut;  // the name whose lease was cut short
    transaction([&] {
      cut.clear();
      write_.exec("INSERT INTO poll_state(source, cursor, next_at, failures, updated_at) VALUES($1, 'null', $2, 0, $2) "
                  "ON CONFLICT(source) DO NOTHING",
                  {source, now_ms});
      // With whether a session holds the name of the node holding the lease, if one does.
      static const std::string read = "SELECT cursor, next_at, failures, COALESCE(lease_owner, ''), "
                                      "COALESCE(lease_until, 0), CASE WHEN lease_owner IS NULL THEN TRUE ELSE "
                                      "EXISTS (SELECT 1 FROM pg_locks l WHERE " + holds_name("lease_owner") +
                                      ") END, COALESCE(left_out, ''), COALESCE(left_out_settings, '') "
                                      "FROM poll_state WHERE source = $2 FOR UPDATE";
      Result r = write_.exec(read, {kNodeLock, source});
      int64_t next_at = r.number(0, 1), lease_until = r.number(0, 4);
      std::string holder = r.text(0, 3);
      // Left out with these settings after its poll stopped a node (leave_out_poll): no node polls it.
      if (!r.text(0, 6).empty() && !settings.empty() && r.text(0, 7) == settings) {
        claim.left_out = r.text(0, 6);
        return;
      }
      // A lease under a name that no session holds (its node was killed mid-poll) is cut short as the jobs
      // leased under it are (cut_orphan_leases); while another node polls, a node (a store holding a name)
      // asks again every kOrphansEvery rather than when the lease ends.
      if (int64_t until = now_ms + std::chrono::milliseconds(kOrphanLease).count();
          !holder.empty() && holder != node && lease_until > until && r.text(0, 5) != "t" && takes_orphans()) {
        write_.exec("UPDATE poll_state SET lease_until = $1 WHERE source = $2", {until, source});
        lease_until = until;
        cut = holder;
      }
      bool held = !holder.empty() && holder != node && lease_until > now_ms;
      if (held || next_at > now_ms) {
        int64_t again = name_pid_ ? now_ms + std::chrono::milliseconds(kOrphansEvery).count() : lease_until;
        claim.next_at = held ? std::max(next_at, std::min(lease_until, again)) : next_at;
        return;
      }
      write_.exec("UPDATE poll_state SET lease_owner = $1, lease_until = $2, updated_at = $3 WHERE source = $4",
                  {node, now_ms + lease_ms, now_ms, source});
      claim.claimed = true;
      claim.cursor = Json::parse(r.text(0, 0), nullptr, false);
      if (claim.cursor.is_discarded()) claim.cursor = nullptr;
      claim.failures = static_cast<int>(r.number(0, 2));
    });
    if (!cut.empty() && on_leases_cut_) on_leases_cut_(cut, 0, source);
    return claim;
  }

  void leave_out_poll(const std::string &source, const std::string &settings, const std::string &node,
                      const std::string &why, int64_t now_ms) override {
    transaction([&] {
      write_.exec("INSERT INTO poll_state(source, cursor, next_at, failures, updated_at, left_out, left_out_settings, "
                  "left_out_by) VALUES($1, 'null', $2, 0, $2, $3, $4, $5) ON CONFLICT(source) DO UPDATE SET "
                  "left_out = excluded.left_out, left_out_settings = excluded.left_out_settings, "
                  "left_out_by = excluded.left_out_by, left_out_ended_on = NULL, updated_at = excluded.updated_at",
                  {source, now_ms, why, settings, node});
      write_.exec("UPDATE poll_state SET lease_owner = NULL, lease_until = NULL WHERE source = $1 AND lease_owner = $2",
                  {source, node});
    });
  }

  std::vector<std::string> end_left_out_polls(const std::string &node, const std::vector<std::string> &kept) override {
    std::lock_guard lock(write_mutex_);
    Result r = write_.exec("UPDATE poll_state SET left_out = NULL, left_out_settings = NULL, left_out_ended_on = $1 "
                           "WHERE left_out_by = $1 AND left_out IS NOT NULL AND source <> ALL($2::text[]) "
                           "RETURNING source",
                           {node, text_array(kept)});
    std::vector<std::string> sources;
    for (int row = 0; row < r.rows(); ++row) sources.push_back(r.text(row, 0));
    std::sort(sources.begin(), sources.end());
    return sources;
  }

  std::optional<std::string> end_left_out_poll(const std::string &source, const std::string &node) override {
    std::lock_guard lock(write_mutex_);
    // left_out_by, the node that recorded the mark, stays as it was.
    Result r = write_.exec("UPDATE poll_state SET left_out = NULL, left_out_settings = NULL, left_out_ended_on = $2 "
                           "WHERE source = $1 AND left_out IS NOT NULL RETURNING COALESCE(left_out_by, '')",
                           {source, node});
    if (!r.rows()) return std::nullopt;
    return r.text(0, 0);
  }

  void renew_poll(const std::string &source, const std::string &node, int64_t lease_until) override {
    std::lock_guard lock(write_mutex_);
    write_.exec("UPDATE poll_state SET lease_until = $1 WHERE source = $2 AND lease_owner = $3",
                {lease_until, source, node});
  }

  std::vector<Accepted> commit_poll(const std::string &source, const std::string &node, std::vector<NewEvent> &events,
                                    const Json &cursor, int64_t next_at, int64_t now_ms) override {
    std::vector<Accepted> out;
    transaction([&] {
      Result r = write_.exec("UPDATE poll_state SET cursor = $1, next_at = $2, failures = 0, last_error = NULL, "
                             "lease_owner = NULL, lease_until = NULL, polled_at = $3, updated_at = $3 "
                             "WHERE source = $4 AND lease_owner = $5",
                             {cursor.dump(), next_at, now_ms, source, node});
      if (r.changed() != 1) throw std::runtime_error("the poll of source '" + source + "' is no longer leased to " + node);
      tx_.lock(key_locks(events));
      out = insert_events(events, now_ms);
    });
    return out;
  }

  void fail_poll(const std::string &source, const std::string &node, const std::string &error, int64_t next_at,
                 int64_t now_ms) override {
    std::lock_guard lock(write_mutex_);
    write_.exec("UPDATE poll_state SET failures = failures + 1, last_error = $1, next_at = $2, lease_owner = NULL, "
                "lease_until = NULL, polled_at = $3, updated_at = $3 WHERE source = $4 AND lease_owner = $5",
                {error, next_at, now_ms, source, node});
  }

  std::optional<JobRow> job(int64_t id) override {
    std::lock_guard lock(lookup_mutex_);
    Result r = lookup_.exec("SELECT id, event_id, rule, integration, action, state, COALESCE(last_error, ''), attempts, "
                          "due_at, params FROM jobs WHERE id = $1",
                          {id});
    if (!r.rows()) return std::nullopt;
    return job_row(ResultRow{r, 0});
  }

  std::optional<Json> event(int64_t id) override {
    std::lock_guard lock(lookup_mutex_);
    Result r = lookup_.exec("SELECT e.body, COALESCE(p.body, '') FROM events e LEFT JOIN payloads p ON p.id = e.payload_id "
                          "WHERE e.id = $1",
                          {id});
    if (!r.rows()) return std::nullopt;
    Json e = with_payload(r.text(0, 0), r.text(0, 1));
    if (e.is_object()) e["id"] = id;
    return e;
  }

  std::vector<std::pair<std::string, std::string>> subscription_history(const std::string &source,
                                                                        const std::string &email,
                                                                        const std::string &subscription_id,
                                                                        int limit) override {
    std::lock_guard lock(lookup_mutex_);
    Result r = lookup_.exec("SELECT type, dedupe_key FROM events WHERE email = $1 AND source = $2 AND type IN "
                          "('subscription.charge_failed', 'subscription.charged', 'subscription.recovered', "
                          "'subscription.restarted', 'subscription.delinquent') "
                          "AND (body::jsonb #>> '{subscription,id}') = $3 ORDER BY id DESC LIMIT $4",
                          {ascii_lower(email), source, subscription_id, limit});
    std::vector<std::pair<std::string, std::string>> out;
    for (int row = 0; row < r.rows(); ++row) out.emplace_back(r.text(row, 0), r.text(row, 1));
    return out;
  }

  std::optional<Json> purchase(const std::string &source, const std::string &order_id,
                               const std::string &item_ref) override {
    std::lock_guard lock(lookup_mutex_);
    Result r = lookup_.exec("SELECT id, body FROM events WHERE order_id = $1 AND item_ref = $2 AND type = $3 "
                          "AND source = $4 ORDER BY id LIMIT 1",
                          {order_id, item_ref, "product.purchased", source});
    if (!r.rows()) return std::nullopt;
    Json e = Json::parse(r.text(0, 1), nullptr, false);
    if (e.is_object()) e["id"] = r.number(0, 0);
    return e;
  }

  std::vector<AttemptRecord> attempts(int64_t job_id) override {
    std::lock_guard lock(read_mutex_);
    Result r = read_.exec("SELECT job_id, number, started_at, duration_ms, outcome, COALESCE(error, ''), exchanges, "
                          "COALESCE(due_at, 0), COALESCE(node, '') FROM attempts WHERE job_id = $1 ORDER BY number",
                          {job_id});
    std::vector<AttemptRecord> out;
    for (int row = 0; row < r.rows(); ++row) {
      out.push_back(attempt_row(ResultRow{r, row}));
    }
    return out;
  }

  int64_t count(const std::string &table) override {
    static const std::vector<std::string> known = {"events", "jobs", "attempts"};
    if (std::find(known.begin(), known.end(), table) == known.end()) return -1;
    std::lock_guard lock(read_mutex_);
    return read_.exec("SELECT COUNT(*) FROM " + table).number(0, 0);
  }

  void ping() override {
    std::lock_guard lock(lookup_mutex_);
    lookup_.exec("SELECT 1 FROM schema_migrations LIMIT 1");
  }

  std::vector<JobSummary> search_jobs(const Search &query) override {
    SqlQuery q = job_search_sql(query, Dialect::postgresql);
    std::lock_guard lock(read_mutex_);
    Result r = read_.query(q);
    std::vector<JobSummary> out;
    for (int row = 0; row < r.rows(); ++row) {
      out.push_back(job_summary(ResultRow{r, row}));
    }
    return out;
  }

  std::vector<EventRow> search_events(const Search &query) override {
    SqlQuery q = event_search_sql(query, Dialect::postgresql);
    std::lock_guard lock(read_mutex_);
    Result r = read_.query(q);
    std::vector<EventRow> out;
    for (int row = 0; row < r.rows(); ++row) {
      out.push_back(event_row(ResultRow{r, row}));
    }
    return out;
  }

  bool replay(int64_t job_id, int64_t now_ms) override {
    bool done = false;
    transaction([&] { done = !requeue({job_id}, now_ms).empty(); });
    return done;
  }

  bool replay_with(int64_t job_id, const Json &params, int64_t now_ms) override {
    bool done = false;
    std::string text = params.dump();
    transaction([&] { done = !requeue({job_id}, now_ms, &text).empty(); });
    return done;
  }

  std::vector<ReplayRecord> replays(int64_t job_id) override {
    std::lock_guard lock(lookup_mutex_);
    Result r = lookup_.exec("SELECT at, rule, after_attempt, COALESCE(params, 'null') FROM replays WHERE job_id = $1 "
                            "ORDER BY id",
                            {job_id});
    std::vector<ReplayRecord> out;
    for (int row = 0; row < r.rows(); ++row)
      out.push_back({r.number(row, 0), r.text(row, 1), static_cast<int>(r.number(row, 2)),
                     Json::parse(r.text(row, 3), nullptr, false)});
    return out;
  }

  std::vector<int64_t> replay_matching(const Search &query, int64_t now_ms) override {
    SqlQuery q = replayable_jobs_sql(query, Dialect::postgresql);
    std::vector<int64_t> ids;
    transaction([&] {
      Result r = write_.query(q);
      std::vector<int64_t> matching;
      for (int row = 0; row < r.rows(); ++row) matching.push_back(r.number(row, 0));
      ids = requeue(matching, now_ms);  // less any another node replayed or took meanwhile
    });
    return ids;
  }

  int prune(int64_t before_ms, int limit) override {
    int removed = 0;
    transaction([&] {
      // Rows a replay is changing are left for the next sweep; one this takes is replayed by no one meanwhile.
      SqlQuery q = prunable_jobs_sql(before_ms, limit);
      q.sql += " FOR UPDATE SKIP LOCKED";
      Result r = write_.query(q);
      std::vector<int64_t> prunable;
      for (int row = 0; row < r.rows(); ++row) prunable.push_back(r.number(row, 0));
      std::string ids = id_array(prunable);
      write_.exec("DELETE FROM attempts WHERE job_id = ANY($1::bigint[])", {ids});
      write_.exec("DELETE FROM replays WHERE job_id = ANY($1::bigint[])", {ids});
      removed = static_cast<int>(write_.exec("DELETE FROM jobs WHERE id = ANY($1::bigint[])", {ids}).changed());
    });
    return removed;
  }

  std::map<std::string, int64_t> job_counts() override {
    std::lock_guard lock(read_mutex_);
    Result r = read_.exec("SELECT state, COUNT(*) FROM jobs GROUP BY state");
    std::map<std::string, int64_t> out;
    for (int row = 0; row < r.rows(); ++row) out[r.text(row, 0)] = r.number(row, 1);
    return out;
  }

  Activity activity(int64_t since_ms, int64_t until_ms, int64_t bucket_ms) override {
    if (bucket_ms <= 0 || until_ms <= since_ms) throw std::invalid_argument("activity: empty range or bucket");
    Activity out;
    for (int64_t start = since_ms; start < until_ms; start += bucket_ms) out.buckets.push_back({start, 0, {}});
    std::lock_guard lock(read_mutex_);
    Result events = read_.exec("SELECT (received_at - $1) / $2, COUNT(*) FROM events "
                               "WHERE received_at >= $1 AND received_at < $3 GROUP BY 1",
                               {since_ms, bucket_ms, until_ms});
    for (int row = 0; row < events.rows(); ++row)
      out.buckets.at(static_cast<std::size_t>(events.number(row, 0))).events = events.number(row, 1);
    Result jobs = read_.exec("SELECT (created_at - $1) / $2, state, COUNT(*) FROM jobs "
                             "WHERE created_at >= $1 AND created_at < $3 GROUP BY 1, 2",
                             {since_ms, bucket_ms, until_ms});
    for (int row = 0; row < jobs.rows(); ++row)
      out.buckets.at(static_cast<std::size_t>(jobs.number(row, 0))).jobs[jobs.text(row, 1)] = jobs.number(row, 2);
    Result failures = read_.exec("SELECT integration, state, COUNT(*) FROM jobs WHERE created_at >= $1 "
                                 "AND created_at < $2 AND state IN ('failed', 'dead') GROUP BY 1, 2",
                                 {since_ms, until_ms});
    for (int row = 0; row < failures.rows(); ++row)
      out.failures[failures.text(row, 0)][failures.text(row, 1)] = failures.number(row, 2);
    return out;
  }

 private:
  // The accept path's writes on the write connection, inside the caller's
  // transaction, which holds the events' key locks (key_locks): another node
  // storing the same key waits for it to end, then finds the key stored.
  class Writes : public AcceptWrites {
   public:
    explicit Writes(Connection &c) : c_(c) {}
    std::optional<int64_t> stored_event(const std::string &dedupe_key) override {
      Result r = c_.exec("SELECT id FROM events WHERE dedupe_key = $1", {dedupe_key});
      if (!r.rows()) return std::nullopt;
      return r.number(0, 0);
    }
    // One search of the dedupe_key index per key: the keys are few, and MIN over a join is no scan of the ids.
    std::optional<int64_t> stored_event(const std::vector<std::string> &dedupe_keys) override {
      Result r = c_.exec("SELECT MIN(e.id) FROM unnest($1::text[]) AS k(key) JOIN events AS e ON e.dedupe_key = k.key",
                         {text_array(dedupe_keys)});
      if (!r.rows() || r.null(0, 0)) return std::nullopt;
      return r.number(0, 0);
    }
    int64_t insert_payload(const std::string &text) override {
      return c_.exec("INSERT INTO payloads(body) VALUES($1) RETURNING id", {text}).number(0, 0);
    }
    int64_t insert_event(const EventColumns &e) override {
      return c_
          .exec("INSERT INTO events(source, type, dedupe_key, occurred_at, received_at, mode, email, order_id, "
                "item_ref, body, payload_id) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                {e.source, e.type, e.dedupe_key, e.occurred_at, e.received_at, e.mode, e.email, e.order_id,
                 e.item_ref, e.body, e.payload_id})
          .number(0, 0);
    }
    int64_t insert_job(int64_t event_id, const NewJob &job, const std::string &params, int64_t now_ms) override {
      std::optional<std::string> ordering, owner;
      std::optional<int64_t> lease_until;
      // The key's lock is held until commit: its next job, accepted by any node, gets a larger id (claims go by id).
      if (!job.ordering_key.empty()) ordering = job.ordering_key;
      if (!job.lease_owner.empty()) {
        owner = job.lease_owner;
        lease_until = job.lease_until;
      }
      return c_
          .exec("INSERT INTO jobs(event_id, rule, integration, action, params, state, attempts, due_at, "
                "ordering_key, created_at, updated_at, lease_owner, lease_until) "
                "VALUES($1, $2, $3, $4, $5, $6, 0, $7, $8, $7, $7, $9, $10) RETURNING id",
                {event_id, job.rule, job.integration, job.action, params, owner ? "running" : "queued", now_ms,
                 ordering, owner, lease_until})
          .number(0, 0);
    }

   private:
    Connection &c_;
  };

  // The group commit's statements, on the write connection.
  class Transaction : public GroupTransaction {
   public:
    explicit Transaction(Connection &c) : c_(c) {}
    void begin() override { c_.begin(); }
    void lock(const std::vector<KeyLock> &locks) override {
      if (locks.empty()) return;  // a poll that found nothing new
      std::vector<std::string> kinds, keys;
      for (const KeyLock &l : locks) {
        kinds.push_back(std::to_string(l.kind));
        keys.push_back(l.key);
      }
      c_.exec(kTakeKeyLocks, {text_array(kinds), text_array(keys)});
    }
    void savepoint() override { c_.exec("SAVEPOINT grouped_write", {}, false); }
    void rollback_to_savepoint() override { c_.exec("ROLLBACK TO SAVEPOINT grouped_write", {}, false); }
    void release_savepoint() override { c_.exec("RELEASE SAVEPOINT grouped_write", {}, false); }
    void commit() override { c_.commit(); }
    void rollback() noexcept override { c_.rollback(); }

   private:
    Connection &c_;
  };

  std::vector<Accepted> insert_events(std::vector<NewEvent> &events, int64_t now_ms) {
    Writes writes(write_);
    return store::insert_events(writes, events, now_ms);
  }

  // `work` in a transaction of its own on the write connection.
  void transaction(const std::function<void()> &work) {
    std::lock_guard lock(write_mutex_);
    tx_.begin();
    try {
      work();
      tx_.commit();
    } catch (...) {
      tx_.rollback();
      throw;
    }
  }

  void release_job(int64_t id, const std::string &node, std::optional<int64_t> due_at) {
    write_.exec("UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL, "
                "due_at = COALESCE($1, due_at) WHERE id = $2 AND state = 'running' AND lease_owner = $3",
                {due_at, id, node});
  }

  // Failed and dead jobs back in the queue, due now, each replay added to its
  // job's history; with `params`, the jobs' parameters become these and the
  // history keeps those they had. Inside the caller's transaction: the job's
  // row stays locked until it commits, and a node replaying it meanwhile
  // finds it queued. Returns the ids of the jobs it replayed.
  std::vector<int64_t> requeue(const std::vector<int64_t> &ids, int64_t now_ms, const std::string *params = nullptr) {
    std::vector<int64_t> replayed;
    std::string rule = params ? "current" : "original";
    for (int64_t id : ids) {
      Result job = write_.exec("SELECT attempts, params FROM jobs WHERE id = $1 AND state IN ('failed', 'dead') "
                               "FOR UPDATE",
                               {id});
      if (!job.rows()) continue;
      std::optional<std::string> replaced;  // for the current rule: the parameters it had
      if (params) replaced = job.text(0, 1);
      write_.exec("INSERT INTO replays(job_id, at, rule, after_attempt, params) VALUES($1, $2, $3, $4, $5)",
                  {id, now_ms, rule, job.number(0, 0), replaced});
      if (params)
        write_.exec("UPDATE jobs SET params = $1 WHERE id = $2", {*params, id});
      write_.exec("UPDATE jobs SET state = 'queued', due_at = $1, lease_owner = NULL, lease_until = NULL, "
                  "updated_at = $1 WHERE id = $2",
                  {now_ms, id});
      replayed.push_back(id);
    }
    return replayed;
  }

  // An attempt and its job's new state, inside the caller's transaction;
  // adds the job to `late` when the attempt's lease no longer holds it. The
  // runner records again a batch whose commit failed, and a commit can
  // succeed with its answer lost on the way back: an attempt already on
  // record is not added twice, nor told late. A running job's updated_at is
  // when its lease began (a claim, or an accept that leased it; a renewal
  // leaves it), which with its owner names the lease. An attempt's number is
  // the next of its job's, counted on the job's row, which its lock keeps
  // from two nodes recording at once: an attempt under an ended lease and the
  // one under the claim that took the job then are numbered apart.
  int record_attempt(const AttemptRecord &a, const JobUpdate &u, int64_t now_ms, LateRecords &late) {
    Result inserted = write_
                     .exec("WITH counted AS (UPDATE jobs SET attempts = GREATEST(attempts + 1, $2::integer) WHERE "
                           "id = $1::bigint AND NOT EXISTS (SELECT 1 FROM attempts WHERE job_id = $1 AND started_at = "
                           "$4::bigint AND node = $9::text) RETURNING attempts) "
                           "INSERT INTO attempts(job_id, number, due_at, started_at, duration_ms, outcome, error, "
                           "exchanges, node) SELECT $1, attempts, $3::bigint, $4, $5::bigint, $6::text, $7::text, "
                           "$8::text, $9 FROM counted RETURNING number",
                           {a.job_id, a.number, a.due_at, a.started_at, a.duration_ms, a.outcome, a.error,
                            a.exchanges.dump(), a.node});
    bool again = inserted.rows() == 0;
    int number = again ? a.number : static_cast<int>(inserted.number(0, 0));
    if (write_
            .exec("UPDATE jobs SET state = $1, due_at = $2, last_error = $3, lease_owner = NULL, "
                  "lease_until = NULL, updated_at = $4 WHERE id = $5 AND state = 'running' AND lease_owner = $6 "
                  "AND updated_at = $7",
                  {to_string(u.state), u.due_at, u.last_error, now_ms, a.job_id, a.node, a.leased_at})
            .changed() == 1 ||
        again)
      return number;
    Result holder = write_.exec("SELECT CASE WHEN state = 'running' THEN COALESCE(lease_owner, '') ELSE '' END "
                                "FROM jobs WHERE id = $1",
                                {a.job_id});
    late[a.job_id] = holder.rows() ? holder.text(0, 0) : "";
    return number;
  }

  // The leases of the jobs leased under names that no session holds any more end kOrphanLease from now
  // (`now_ms`), for a claim to take them then and run them again (at least once: a killed node's attempt
  // may have reached the remote), rather than when their leases would have ended. The server ends a
  // killed node's sessions, and frees its name, at once; a node cut off by the network, when its
  // keepalives give up: back, it finds its jobs moved on and records its attempts late. Inside a claim's
  // transaction, which holds the claim lock: a claim under the name still under way (it looked the name
  // up before the session holding it ended) has committed, and its jobs' leases are cut short too. At
  // most every kOrphansEvery, and not until kRejoinTime after this node took its name on its session:
  // after a restart of the database every node takes its name again as it connects again, and until the
  // others have, their names are free while their attempts run. Under claim_mutex_. Returns how many
  // leases it cut short under each name.
  std::vector<std::pair<std::string, int>> cut_orphan_leases(int64_t now_ms) {
    std::vector<std::pair<std::string, int>> cut;
    auto now = std::chrono::steady_clock::now();
    if (now < next_orphans_look_ || !takes_orphans()) return cut;
    next_orphans_look_ = now + kOrphansEvery;
    Result r = claim_.exec(kCutOrphanLeases, {kNodeLock, now_ms + std::chrono::milliseconds(kOrphanLease).count()});
    for (int row = 0; row < r.rows(); ++row) cut.emplace_back(r.text(row, 0), static_cast<int>(r.number(row, 1)));
    return cut;
  }

  // Whether this node cuts short what is leased under names no session holds: it holds a name, and has
  // for kRejoinTime on its session (cut_orphan_leases).
  bool takes_orphans() const {
    return name_pid_ && std::chrono::steady_clock::now() - name_held_since_.load() >= kRejoinTime;
  }

  // Commands that only read (check, an import's dry run) use the schema as it
  // is: migrating a shared database is for the nodes that serve.
  void check_schema() {
    std::lock_guard lock(write_mutex_);
    int current = 0;
    if (write_.exec("SELECT to_regclass('schema_migrations') IS NOT NULL", {}, false).text(0, 0) == "t")
      current = static_cast<int>(write_.exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").number(0, 0));
    int expected = static_cast<int>(postgresql_migrations().size());
    if (current != expected)
      throw std::runtime_error("the database's schema is at version " + std::to_string(current) +
                               " and this cartwire's at " + std::to_string(expected) +
                               ": `cartwire serve` migrates it (nothing was changed)");
  }

  // Nodes of an earlier cartwire would run on with a schema they do not
  // know (version 4 renamed the json connector's dedupe keys: such a node
  // would store the redeliveries of events stored before again), so the
  // schema is not migrated under them. Their names and locks came with
  // version 3; a node that died holds no lock.
  void refuse_while_nodes_run(int current) {
    if (current < 3) return;
    Result r = write_.exec(kLiveNodes + " ORDER BY n.name", {kNodeLock});
    if (!r.rows()) return;
    std::string names;
    for (int row = 0; row < r.rows(); ++row) names += (row ? ", '" : "'") + r.text(row, 0) + "'";
    throw std::runtime_error("the database's schema is at version " + std::to_string(current) +
                             " and this cartwire's at " + std::to_string(postgresql_migrations().size()) +
                             ", and " + std::to_string(r.rows()) + " node(s) of an earlier cartwire run on it (" +
                             names + "): stop every node, then start the new version (nothing was changed)");
  }

  // Nodes starting together migrate one at a time; the others then find nothing to do.
  void migrate() {
    std::lock_guard lock(write_mutex_);
    write_.exec("SELECT pg_advisory_lock($1, " + lock_key() + ")", {kMigrationLock});
    try {
      write_.exec("CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
      int current = static_cast<int>(write_.exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").number(0, 0));
      const auto &all = postgresql_migrations();
      if (current > static_cast<int>(all.size()))
        throw std::runtime_error("the database schema (version " + std::to_string(current) +
                                 ") is newer than this cartwire (" + std::to_string(all.size()) +
                                 "); upgrade cartwire or use another database");
      if (current > 0 && current < static_cast<int>(all.size())) refuse_while_nodes_run(current);
      for (int v = current + 1; v <= static_cast<int>(all.size()); ++v) {
        tx_.begin();
        try {
          for (const auto &statement : all[v - 1]) write_.exec(statement, {}, false);
          write_.exec("INSERT INTO schema_migrations(version, applied_at) VALUES($1, $2)",
                      {v, static_cast<int64_t>(std::time(nullptr)) * 1000});
          tx_.commit();
        } catch (...) {
          tx_.rollback();
          throw;
        }
      }
    } catch (...) {
      write_.exec("SELECT pg_advisory_unlock($1, " + lock_key() + ")", {kMigrationLock});
      throw;
    }
    write_.exec("SELECT pg_advisory_unlock($1, " + lock_key() + ")", {kMigrationLock});
  }

  // Takes this node's name on the write connection's session, and notes in its row that this process
  // holds it on this session: one statement, so that the row names whichever session holds the
  // name. A row: whether the name was taken, this session's backend pid and start.
  Result take_name() {
    static const std::string take =
        "WITH took AS (SELECT pg_try_advisory_lock(" + std::to_string(kNodeLock) + ", " + lock_key("$1::text") +
        ") AS ok), session AS (SELECT a.pid, " + kSessionStart +
        " AS start FROM pg_stat_activity a WHERE a.pid = pg_backend_pid()), noted AS (INSERT INTO nodes(name, "
        "started_at, machine, pid, pid_start, session_pid, session_start) SELECT $1::text, $2::bigint, $3::text, "
        "$4::integer, $5::bigint, s.pid, s.start FROM took, session s WHERE took.ok ON CONFLICT (name) DO UPDATE SET "
        "machine = EXCLUDED.machine, pid = EXCLUDED.pid, pid_start = EXCLUDED.pid_start, session_pid = "
        "EXCLUDED.session_pid, session_start = EXCLUDED.session_start RETURNING 1) "
        "SELECT took.ok, s.pid, s.start, (SELECT COUNT(*) FROM noted) FROM took, session s";
    const Process &me = this_process();
    return write_.exec(take, {node_, static_cast<int64_t>(std::time(nullptr)) * 1000, me.machine, me.pid, me.start},
                       false);
  }

  // Ends the session holding this node's name when it is a stale one of this node's: the session
  // this store took it on before (its backend's pid and start remembered), or one that a previous
  // process of this node took it on, as the name's row says, when that process ran on this machine
  // and runs no more. Never another process's that may run: another machine's (or container's), one
  // that runs here, or one the row does not name (a cartwire before it named them). Whether it did.
  bool ended_stale_holder() {
    static const std::string holder =
        "SELECT a.pid, " + kSessionStart + ", COALESCE(n.machine, ''), COALESCE(n.pid, 0), COALESCE(n.pid_start, 0) "
        "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid LEFT JOIN nodes n ON n.name = $2 AND "
        "n.session_pid = a.pid AND n.session_start = " + kSessionStart + " WHERE l.locktype = 'advisory' AND "
        "l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND "
        "l.classid = $1::int4::oid AND l.objsubid = 2 AND l.objid = " + lock_key("$2::text") + "::oid";
    static const std::string end_session =
        "SELECT pg_terminate_backend(a.pid, 10000) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::int4::oid AND l.objsubid = 2 "
        "AND l.objid = " + lock_key("$2::text") + "::oid AND a.pid = $3 AND " + kSessionStart + " = $4";
    Result r = write_.exec(holder, {kNodeLock, node_});
    if (!r.rows()) return false;  // none holds it now: taking it again settles it
    int pid = static_cast<int>(r.number(0, 0));
    int64_t session_start = r.number(0, 1);
    const Process &me = this_process();
    Process held{r.text(0, 2), static_cast<int>(r.number(0, 3)), r.number(0, 4)};
    bool remembered = pid == name_pid_ && session_start == name_session_start_;
    bool previous = !me.machine.empty() && held.machine == me.machine && held.pid > 0 &&
                    (held.pid != me.pid || held.start != me.start) && !still_runs(held);
    if (!remembered && !previous) return false;
    Result ended = write_.exec(end_session, {kNodeLock, node_, pid, session_start});
    return ended.rows() && ended.text(0, 0) == "t";
  }

  // A row of take_name(): whether the name was taken, and if so, the session that holds it now.
  bool took_name(const Result &r) {
    if (r.text(0, 0) != "t") return false;
    name_pid_ = static_cast<int>(r.number(0, 1));
    name_session_start_ = r.number(0, 2);
    name_held_since_ = std::chrono::steady_clock::now();
    return true;
  }

  // This node's name taken again on a new session of the write connection, before its first
  // statement. Its session from before may still hold it: the server keeps a session whose node it
  // no longer hears from until its keepalives give up, and a network cut healed before that. That
  // session is ended (ended_stale_holder), and the name taken on this one. When
  // another node holds the name now, the write connection refuses everything from then on and claims
  // are refused too (NodeInUse), and on_name_lost_ is told, once.
  void take_name_again() {
    if (took_name(take_name())) return;
    if (ended_stale_holder() && took_name(take_name())) return;
    lost_why_ = "another hub node runs as '" + node_ + "' on this database: it took the name while this " +
                "node's connection to the database was lost (a restart or failover of the database)";
    write_.refuse(lost_why_);
    lost_ = true;
    if (auto then = std::exchange(on_name_lost_, nullptr)) then(lost_why_);
    throw NodeInUse(lost_why_);
  }

  std::mutex write_mutex_, claim_mutex_, lookup_mutex_, read_mutex_;
  Connection write_, claim_, lookup_, read_;
  // This node's name (hold_node); under write_mutex_.
  std::string node_;
  std::function<void(const std::string &)> on_name_lost_;
  // Set under write_mutex_ and claim_mutex_, before the first claim; called by claims (on_leases_cut).
  std::function<void(const std::string &, int, const std::string &)> on_leases_cut_;
  std::atomic<std::chrono::steady_clock::time_point> name_held_since_{};
  // The backend of the session holding the name (0: none taken yet), and when it started (µs since
  // 1970); set under write_mutex_, the pid read by claims too.
  std::atomic<int> name_pid_{0};
  int64_t name_session_start_ = 0;
  std::string lost_why_;  // set before lost_, and never again
  std::atomic<bool> lost_{false};
  int64_t name_checked_ = 0;  // the claim connection's sessions() when the name was last made sure of; under claim_mutex_
  std::chrono::steady_clock::time_point next_orphans_look_{};  // cut_orphan_leases(); under claim_mutex_
  Transaction tx_{write_};
  GroupCommit group_{tx_, write_mutex_};
};

Store *open(const std::string &conninfo, bool migrate) { return new PostgresStore(conninfo, migrate); }

std::map<std::string, std::string> parse(const std::string &conninfo) {
  char *error = nullptr;
  PQconninfoOption *options = PQconninfoParse(conninfo.c_str(), &error);
  if (!options) {
    std::string reason = error ? trimmed(error) : "out of memory";
    PQfreemem(error);
    throw std::invalid_argument(unquoted(reason));
  }
  std::map<std::string, std::string> out;
  for (PQconninfoOption *o = options; o->keyword; ++o)
    if (o->val && *o->val) out[o->keyword] = o->val;
  PQconninfoFree(options);
  return out;
}

}  // namespace
}  // namespace cartwire::store

extern "C" __attribute__((visibility("default"))) const cartwire::store::PostgresModule cartwire_postgresql_module = {
    cartwire::store::open, cartwire::store::parse};
