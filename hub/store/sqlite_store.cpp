// The embedded store: one SQLite file in WAL mode, accessed through Poco::Data.
// SQLite allows one writer at a time, so one session behind a mutex serves
// every thread; statements are short and the accept path batches its writes.
// The statements of the hot paths (accept, claim, record an attempt) are
// prepared once and reused through SQLite's own API on the same connection.
#include <Poco/Data/RecordSet.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/group_commit.hpp"
#include "store/migrations.hpp"
#include "store/rows.hpp"
#include "store/search_sql.hpp"
#include "store/store.hpp"

using namespace Poco::Data::Keywords;

namespace cartwire::store {
namespace {

// Whether a statement failed because what it wrote did not reach the disk:
// the disk is full (SQLITE_FULL) or a write to it failed (SQLITE_IOERR, which
// is also what a write past the process's file size limit gives).
bool not_written(int rc) {
  rc &= 0xff;
  return rc == SQLITE_FULL || rc == SQLITE_IOERR;
}

// What a write that did not reach the disk says: the file, SQLite's reason and what to do. (The
// system's errno is not told: SQLite reads it after other calls may have changed it.)
WriteFailed cannot_write(sqlite3 *db, int rc) {
  const char *file = sqlite3_db_filename(db, "main");
  return WriteFailed(std::string("cannot write to ") + (file && *file ? file : "the database") + ": " +
                     sqlite3_errstr(rc) + "; " +
                     ((rc & 0xff) == SQLITE_FULL ? "free space on its disk"
                                                 : "check its disk (free space, the file size limit, errors)") +
                     ": the hub writes again once it can, without a restart");
}

// Throws, saying what to do, when the file at `path` cannot be this hub's
// database: a folder, a file this user may not open or write, or one that is
// not a SQLite database. Poco::Data, which opens it next, waits a minute for
// a file it cannot open and then names no reason.
void check_usable(const std::string &path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error))
    throw std::runtime_error("it is a folder, not a database file; point storage.path at a file (cartwire creates it)");
  sqlite3 *db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, "SELECT COUNT(*) FROM sqlite_master", nullptr, nullptr, nullptr);
  std::string why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (int system = db ? sqlite3_system_errno(db) : 0; rc != SQLITE_OK && system)
    why += std::string(" (") + std::strerror(system) + ")";
  bool read_only = rc == SQLITE_OK && sqlite3_db_readonly(db, "main") == 1;
  sqlite3_close(db);
  if (read_only)
    throw std::runtime_error("this user may read it but not write it; let the user that runs cartwire write to it "
                             "and to its folder");
  switch (rc & 0xff) {
    case SQLITE_OK:
      return;
    case SQLITE_NOTADB:
      throw std::runtime_error("it is not a SQLite database (" + why +
                               "); point storage.path at the hub's database, or at a new file");
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      throw std::runtime_error("it cannot be opened (" + why +
                               "); let the user that runs cartwire read and write it and its folder");
    default:
      throw std::runtime_error(why);
  }
}

// Keys as the JSON array that json_each() reads. A key that is not UTF-8 is never stored (an event is
// stored as JSON), so its bytes replaced it matches nothing, as it should.
std::string key_list(const std::vector<std::string> &keys) {
  return Json(keys).dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The current row of a RecordSet, as the shared row readers (rows.hpp) read it.
struct RecordRow {
  Poco::Data::RecordSet &rs;
  std::string text(int column) const { return rs[static_cast<std::size_t>(column)].convert<std::string>(); }
  int64_t number(int column) const { return rs[static_cast<std::size_t>(column)].convert<Poco::Int64>(); }
};

// A statement prepared once and run many times. Poco::Data prepares and
// finalizes a statement on every call, which costs more than the work of the
// small inserts and updates on the accept and delivery paths.
class Prepared {
 public:
  Prepared(sqlite3 *db, const char *sql) : db_(db) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("preparing \"") + sql + "\" failed: " + sqlite3_errmsg(db));
  }
  ~Prepared() { sqlite3_finalize(stmt_); }
  Prepared(const Prepared &) = delete;
  Prepared &operator=(const Prepared &) = delete;

  /** Binds the arguments in order and runs the statement; the first column of its first row, if it has one. */
  template <typename... Args>
  std::optional<int64_t> run(const Args &...args) {
    int index = 0;
    (bind(++index, args), ...);
    int rc = sqlite3_step(stmt_);
    std::optional<int64_t> first;
    if (rc == SQLITE_ROW) first = sqlite3_column_int64(stmt_, 0);
    bool failed = rc != SQLITE_ROW && rc != SQLITE_DONE;
    int code = failed ? sqlite3_extended_errcode(db_) : SQLITE_OK;
    std::optional<WriteFailed> unwritten;
    if (failed && not_written(code)) unwritten = cannot_write(db_, code);
    std::string error = failed ? sqlite3_errmsg(db_) : std::string();
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    if (unwritten) throw *unwritten;
    if (failed) throw std::runtime_error(error);
    return first;
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) throw std::runtime_error(std::string("binding a parameter failed: ") + sqlite3_errmsg(db_));
  }
  void bind(int i, int64_t v) { check(sqlite3_bind_int64(stmt_, i, v)); }
  void bind(int i, int v) { check(sqlite3_bind_int(stmt_, i, v)); }
  void bind(int i, const std::string &v) {
    check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC));
  }
  void bind(int i, const std::optional<std::string> &v) {
    if (v) bind(i, *v);
    else check(sqlite3_bind_null(stmt_, i));
  }
  void bind(int i, const std::optional<int64_t> &v) {
    if (v) bind(i, *v);
    else check(sqlite3_bind_null(stmt_, i));
  }

  sqlite3 *db_;
  sqlite3_stmt *stmt_ = nullptr;
};

// A statement whose text varies (a claim's), prepared for one run and read a
// row at a time through SQLite's own API, as the shared row readers (rows.hpp)
// read a row: each row's values are read as the caller reaches it. The query's
// texts are bound as they are: it must outlive the statement.
class Stepped {
 public:
  Stepped(sqlite3 *db, const SqlQuery &q) : db_(db) {
    if (sqlite3_prepare_v2(db, q.sql.c_str(), static_cast<int>(q.sql.size()), &stmt_, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("preparing a query failed: ") + sqlite3_errmsg(db));
    int index = 0;
    for (const SqlParam &p : q.params) {
      int rc = p.is_text ? sqlite3_bind_text(stmt_, ++index, p.text.data(), static_cast<int>(p.text.size()),
                                             SQLITE_STATIC)
                         : sqlite3_bind_int64(stmt_, ++index, p.number);
      if (rc != SQLITE_OK) throw std::runtime_error(std::string("binding a parameter failed: ") + sqlite3_errmsg(db));
    }
  }
  ~Stepped() { sqlite3_finalize(stmt_); }
  Stepped(const Stepped &) = delete;
  Stepped &operator=(const Stepped &) = delete;

  /** Moves to the next row; false after the last. */
  bool next() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    int code = sqlite3_extended_errcode(db_);
    if (not_written(code)) throw cannot_write(db_, code);
    throw std::runtime_error(sqlite3_errmsg(db_));
  }
  std::string text(int column) const {
    const unsigned char *value = sqlite3_column_text(stmt_, column);
    return value ? std::string(reinterpret_cast<const char *>(value),
                               static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
                 : std::string();
  }
  int64_t number(int column) const { return sqlite3_column_int64(stmt_, column); }

 private:
  sqlite3 *db_;
  sqlite3_stmt *stmt_ = nullptr;
};

// The statements of the accept, claim and attempt paths.
struct HotStatements {
  explicit HotStatements(sqlite3 *db)
      : insert_event(db,
                     "INSERT INTO events(source, type, dedupe_key, occurred_at, received_at, mode, email, order_id, "
                     "item_ref, body, payload_id) VALUES(?,?,?,?,?,?,?,?,?,?,?) RETURNING id"),
        insert_payload(db, "INSERT INTO payloads(body) VALUES(?) RETURNING id"),
        event_by_key(db, "SELECT id FROM events WHERE dedupe_key = ?"),
        // One search of the dedupe_key index per key of the JSON array bound.
        event_by_keys(db,
                      "SELECT e.id FROM json_each(?) AS k JOIN events AS e ON e.dedupe_key = k.value "
                      "ORDER BY e.id LIMIT 1"),
        insert_job(db,
                   "INSERT INTO jobs(event_id, rule, integration, action, params, state, attempts, due_at, "
                   "ordering_key, created_at, updated_at, lease_owner, lease_until) VALUES(?,?,?,?,?,?,0,?,?,?,?,?,?) "
                   "RETURNING id"),
        lease_job(db, "UPDATE jobs SET state = 'running', lease_owner = ?, lease_until = ?, updated_at = ? WHERE id = ?"),
        release_job(db,
                    "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL, "
                    "due_at = CASE WHEN ? > 0 THEN ? ELSE due_at END "
                    "WHERE id = ? AND state = 'running' AND lease_owner = ?"),
        renew_lease(db, "UPDATE jobs SET lease_until = ? WHERE id = ? AND state = 'running' AND lease_owner = ?"),
        // An attempt's number is the next of its job's: an attempt under an ended lease and the one
        // under the claim that took the job then are numbered apart.
        count_attempt(db, "UPDATE jobs SET attempts = MAX(attempts + 1, ?) WHERE id = ? RETURNING attempts"),
        insert_attempt(db,
                       "INSERT INTO attempts(job_id, number, due_at, started_at, duration_ms, outcome, error, exchanges, "
                       "node) VALUES(?,?,?,?,?,?,?,?,?)"),
        // Only under the lease the attempt ran under: see record_attempt.
        update_job(db,
                   "UPDATE jobs SET state = ?, due_at = ?, last_error = ?, lease_owner = NULL, "
                   "lease_until = NULL, updated_at = ? WHERE id = ? AND state = 'running' AND lease_owner = ? "
                   "AND updated_at = ? RETURNING id"),
        savepoint(db, "SAVEPOINT grouped_write"),
        rollback_to(db, "ROLLBACK TO grouped_write"),
        release(db, "RELEASE grouped_write") {}

  Prepared insert_event, insert_payload, event_by_key, event_by_keys, insert_job, lease_job, release_job,
      renew_lease, count_attempt, insert_attempt, update_job, savepoint, rollback_to, release;
};

// WAL checkpoints on a connection of their own. SQLite's automatic checkpoint
// runs inside the commit that takes the log past 1000 pages, so every writer
// of that group waited for the copy into the database file and its fsync.
// Here the commit only signals this thread, whose passive checkpoint runs
// alongside the writers.
class Checkpointer {
 public:
  static constexpr int kPages = 1000;

  Checkpointer(const std::string &path, sqlite3 *writer) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      std::string error = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw std::runtime_error("opening " + path + " for checkpoints failed: " + error);
    }
    sqlite3_busy_timeout(db_, 5000);
    try {
      thread_ = std::thread([this] { run(); });
    } catch (const std::system_error &e) {
      sqlite3_close(db_);
      throw ThreadNotStarted(e.code());
    }
    sqlite3_wal_hook(writer, &Checkpointer::committed, this);  // replaces the automatic checkpoint
  }
  ~Checkpointer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
    sqlite3_close(db_);
  }
  Checkpointer(const Checkpointer &) = delete;
  Checkpointer &operator=(const Checkpointer &) = delete;

 private:
  static int committed(void *self, sqlite3 *, const char *, int pages) {
    if (pages >= kPages) {
      auto *c = static_cast<Checkpointer *>(self);
      {
        std::lock_guard lock(c->mutex_);
        c->due_ = true;
      }
      c->cv_.notify_one();
    }
    return SQLITE_OK;
  }

  void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      cv_.wait(lock, [&] { return stopping_ || due_; });
      if (stopping_) return;
      due_ = false;
      lock.unlock();
      sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      lock.lock();
    }
  }

  sqlite3 *db_ = nullptr;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool due_ = false, stopping_ = false;
  std::thread thread_;
};

class SqliteStore : public Store {
 public:
  SqliteStore(const std::string &path, const std::string &synchronous, const std::string &node) : path_(path) {
    Poco::Data::SQLite::Connector::registerConnector();
    std::filesystem::path p(path);
    if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
    if (!node.empty()) hold_node(node);  // before the schema is touched: another hub may run on it
    if (path != ":memory:") check_usable(path);
    session_ = std::make_unique<Poco::Data::Session>("SQLite", path);
    if (struct stat st{}; path != ":memory:" && ::stat(path.c_str(), &st) == 0) file_ = {st.st_dev, st.st_ino};
    std::string journal;
    *session_ << "PRAGMA journal_mode=WAL", into(journal), now;
    *session_ << ("PRAGMA synchronous=" + std::string(synchronous == "normal" ? "NORMAL" : "FULL")), now;
    *session_ << "PRAGMA foreign_keys=ON", now;
    *session_ << "PRAGMA busy_timeout=5000", now;
    // Room for a whole group commit of accepts: a smaller page cache spills
    // dirty pages to the log in the middle of the transaction.
    *session_ << "PRAGMA cache_size=-16384", now;
    // Each writer of a group commit runs under its own savepoint, whose
    // journal of the pages it changes would otherwise be a temporary file:
    // one pwrite per page per savepoint on the accept path.
    *session_ << "PRAGMA temp_store=MEMORY", now;
    migrate();
    // Planner statistics, sampled so that this is quick at any size: without
    // them SQLite may pick the state index for "failed jobs of this email" and
    // read every failed job (seconds at a million jobs) instead of the email's.
    *session_ << "PRAGMA analysis_limit=400", now;
    *session_ << "ANALYZE", now;
    sqlite3 *db = Poco::Data::SQLite::Utility::dbHandle(*session_);
    hot_ = std::make_unique<HotStatements>(db);
    if (journal == "wal") checkpointer_ = std::make_unique<Checkpointer>(path, db);
  }

  ~SqliteStore() override {
    if (checkpointer_) sqlite3_wal_hook(Poco::Data::SQLite::Utility::dbHandle(*session_), nullptr, nullptr);
    if (node_lock_ >= 0) ::close(node_lock_);
  }

  void mark_work_with(WorkMarks *marks) override { group_.mark_with(marks); }

  // One SQLite file serves one hub: a second one on it would take turns with
  // the first for the write lock and answer webhooks 503 meanwhile. A lock on
  // a file beside the database says who holds it, for as long as this store is
  // open; the system frees it when the process ends, even by kill -9.
  void hold_node(const std::string &node) override {
    if (path_.empty() || path_ == ":memory:" || node_lock_ >= 0) return;
    // One lock file for every path that names the database (a symbolic link, a relative path).
    std::string lock_path = std::filesystem::weakly_canonical(path_).string() + ".lock";
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot open " + lock_path + ": " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      char held[200] = {};
      ssize_t n = ::pread(fd, held, sizeof held - 1, 0);
      ::close(fd);
      std::string holder(held, n > 0 ? static_cast<std::size_t>(n) : 0);
      while (!holder.empty() && holder.back() == '\n') holder.pop_back();
      throw NodeInUse("another hub" + (holder.empty() ? "" : " (" + holder + ")") + " runs on " + path_ +
                               ": one SQLite file serves one hub; stop it, give this one its own storage.path, "
                               "or let several hubs share a PostgreSQL database (storage.driver: postgresql)");
    }
    node_lock_ = fd;
    // For the message a second hub gets (another descriptor: closing it keeps the lock).
    std::ofstream(lock_path, std::ios::trunc) << "node " << node << ", pid " << ::getpid() << "\n";
  }

  std::vector<Accepted> accept(std::vector<NewEvent> &events, int64_t now_ms) override {
    std::vector<Accepted> out;
    write_grouped([&] { out = insert_events(events, now_ms); });
    return out;
  }

  PollClaim claim_poll(const std::string &source, const std::string &node, int64_t now_ms, int64_t lease_ms,
                       const std::string &settings) override {
    std::lock_guard lock(mutex_);
    auto &s = *session_;
    Poco::Int64 now_at = now_ms, until = now_ms + lease_ms;
    std::string src = source, owner = node;
    PollClaim claim;
    begin_writing();
    try {
      s << "INSERT INTO poll_state(source, cursor, next_at, failures, updated_at) VALUES(?, 'null', ?, 0, ?) "
           "ON CONFLICT(source) DO NOTHING",
          use(src), use(now_at), use(now_at), now;
      std::string cursor, holder, left_out, left_out_settings;
      Poco::Int64 next_at = 0, lease_until = 0;
      int failures = 0;
      s << "SELECT cursor, next_at, failures, COALESCE(lease_owner, ''), COALESCE(lease_until, 0), "
           "COALESCE(left_out, ''), COALESCE(left_out_settings, '') FROM poll_state WHERE source = ?",
          use(src), into(cursor), into(next_at), into(failures), into(holder), into(lease_until), into(left_out),
          into(left_out_settings), now;
      bool held = !holder.empty() && holder != node && lease_until > now_ms;
      if (!left_out.empty() && !settings.empty() && left_out_settings == settings) {
        claim.left_out = left_out;
      } else if (held || next_at > now_ms) {
        claim.next_at = held ? std::max(lease_until, next_at) : next_at;
      } else {
        s << "UPDATE poll_state SET lease_owner = ?, lease_until = ?, updated_at = ? WHERE source = ?",
            use(owner), use(until), use(now_at), use(src), now;
        claim.claimed = true;
        claim.cursor = Json::parse(cursor, nullptr, false);
        if (claim.cursor.is_discarded()) claim.cursor = nullptr;
        claim.failures = failures;
      }
      s.commit();
    } catch (...) {
      roll_back_and_rethrow();
    }
    return claim;
  }

  void leave_out_poll(const std::string &source, const std::string &settings, const std::string &node,
                      const std::string &why, int64_t now_ms) override {
    std::lock_guard lock(mutex_);
    auto &s = *session_;
    Poco::Int64 now_at = now_ms;
    std::string src = source, digest = settings, owner = node, reason = why;
    begin_writing();
    try {
      s << "INSERT INTO poll_state(source, cursor, next_at, failures, updated_at, left_out, left_out_settings, "
           "left_out_by) VALUES(?, 'null', ?, 0, ?, ?, ?, ?) ON CONFLICT(source) DO UPDATE SET "
           "left_out = excluded.left_out, left_out_settings = excluded.left_out_settings, "
           "left_out_by = excluded.left_out_by, left_out_ended_on = NULL, updated_at = excluded.updated_at",
          use(src), use(now_at), use(now_at), use(reason), use(digest), use(owner), now;
      s << "UPDATE poll_state SET lease_owner = NULL, lease_until = NULL WHERE source = ? AND lease_owner = ?",
          use(src), use(owner), now;
      s.commit();
    } catch (...) {
      roll_back_and_rethrow();
    }
  }

  std::vector<std::string> end_left_out_polls(const std::string &node, const std::vector<std::string> &kept) override {
    // One node at a time holds the file: every mark is that of a run before this start, whatever its name.
    std::lock_guard lock(mutex_);
    std::vector<std::string> sources;
    std::string keep = key_list(kept), on = node;
    auto &s = *session_;
    begin_writing();
    try {
      s << "UPDATE poll_state SET left_out = NULL, left_out_settings = NULL, left_out_ended_on = ? "
           "WHERE left_out IS NOT NULL AND source NOT IN (SELECT value FROM json_each(?)) RETURNING source",
          use(on), use(keep), into(sources), now;
      s.commit();
    } catch (...) {
      roll_back_and_rethrow();
    }
    std::sort(sources.begin(), sources.end());
    return sources;
  }

  std::optional<std::string> end_left_out_poll(const std::string &source, const std::string &node) override {
    std::lock_guard lock(mutex_);
    std::string src = source, on = node;
    std::vector<std::string> by;  // the node that recorded the mark: left_out_by stays as it was
    auto &s = *session_;
    begin_writing();
    try {
      s << "UPDATE poll_state SET left_out = NULL, left_out_settings = NULL, left_out_ended_on = ? "
           "WHERE source = ? AND left_out IS NOT NULL RETURNING COALESCE(left_out_by, '')",
          use(on), use(src), into(by), now;
      s.commit();
    } catch (...) {
      roll_back_and_rethrow();
    }
    if (by.empty()) return std::nullopt;
    return by.front();
  }

  std::optional<PollStatus> poll_status(const std::string &source, int64_t now_ms) override {
    std::lock_guard lock(mutex_);
    Poco::Data::Statement select(*session_);
    std::string src = source;
    select << std::string("SELECT ") + kPollStatusColumns + " FROM poll_state WHERE source = ?", use(src), now;
    Poco::Data::RecordSet rs(select);
    if (!rs.moveFirst()) return std::nullopt;
    return poll_status_row(RecordRow{rs}, now_ms);
  }

  void renew_poll(const std::string &source, const std::string &node, int64_t lease_until) override {
    std::lock_guard lock(mutex_);
    std::string src = source, owner = node;
    Poco::Int64 until = lease_until;
    try {
      *session_ << "UPDATE poll_state SET lease_until = ? WHERE source = ? AND lease_owner = ?", use(until), use(src),
          use(owner), now;
    } catch (const Poco::Exception &) {
      rethrow_unwritten(sqlite3_extended_errcode(handle()));
    }
  }

  std::vector<Accepted> commit_poll(const std::string &source, const std::string &node, std::vector<NewEvent> &events,
                                    const Json &cursor, int64_t next_at, int64_t now_ms) override {
    std::lock_guard lock(mutex_);
    check_file();
    auto &s = *session_;
    std::string src = source, owner = node, text = cursor.dump();
    Poco::Int64 next = next_at, now_at = now_ms;
    begin_writing();
    try {
      s << "UPDATE poll_state SET cursor = ?, next_at = ?, failures = 0, last_error = NULL, lease_owner = NULL, "
           "lease_until = NULL, polled_at = ?, updated_at = ? WHERE source = ? AND lease_owner = ?",
          use(text), use(next), use(now_at), use(now_at), use(src), use(owner), now;
      int changed = 0;
      s << "SELECT changes()", into(changed), now;
      if (changed != 1) throw std::runtime_error("the poll of source '" + source + "' is no longer leased to " + node);
      std::vector<Accepted> out = insert_events(events, now_ms);
      s.commit();
      return out;
    } catch (...) {
      roll_back_and_rethrow();
    }
  }

  void fail_poll(const std::string &source, const std::string &node, const std::string &error, int64_t next_at,
                 int64_t now_ms) override {
    std::lock_guard lock(mutex_);
    std::string src = source, owner = node, message = error;
    Poco::Int64 next = next_at, now_at = now_ms;
    try {
      *session_ << "UPDATE poll_state SET failures = failures + 1, last_error = ?, next_at = ?, lease_owner = NULL, "
                   "lease_until = NULL, polled_at = ?, updated_at = ? WHERE source = ? AND lease_owner = ?",
          use(message), use(next), use(now_at), use(now_at), use(src), use(owner), now;
    } catch (const Poco::Exception &) {
      rethrow_unwritten(sqlite3_extended_errcode(handle()));
    }
  }


  std::set<std::string> stored_keys(const std::vector<std::string> &dedupe_keys) override {
    std::lock_guard lock(mutex_);
    // One statement: a search of the dedupe_key index per key.
    std::string keys = key_list(dedupe_keys);
    std::vector<std::string> found;
    *session_ << "SELECT e.dedupe_key FROM json_each(?) AS k JOIN events AS e ON e.dedupe_key = k.value", use(keys),
        into(found), now;
    return {found.begin(), found.end()};
  }

  std::vector<ClaimedJob> claim(const std::string &node, int64_t now_ms, int64_t lease_ms, int limit,
                                const std::map<std::string, int> &concurrency = {},
                                const std::map<std::string, int> &room = {}, ClaimWatch *watch = nullptr) override {
    // Claims go through the group commit too: a lease taken is on disk before
    // the job runs, and concurrent claims share one commit.
    std::vector<ClaimedJob> out;
    write_grouped([&] {
      auto &s = *session_;
      std::map<std::string, int> running;
      for (auto &[integration, max] : concurrency) {
        if (max <= 0) continue;
        std::string id = integration;
        int n = 0;
        s << "SELECT COUNT(*) FROM jobs WHERE integration = ? AND state = 'running' AND lease_until >= ?", use(id),
            use(now_ms), into(n), now;
        running[integration] = n;
      }
      ClaimLimits limits(concurrency, room, std::move(running));
      // A row's texts are read under the watch of its job (its id and attempts are read first); every row is
      // read before the first lease is written, which the statement reading them would otherwise see. A row
      // that throws is left out, not leased: the job stays as it was.
      {
        SqlQuery q = claim_sql(now_ms, limit, limits.excluded());
        Stepped rows(handle(), q);
        while (rows.next()) {
          int64_t id = rows.number(0);
          int attempts = static_cast<int>(rows.number(6));
          Claiming claiming(watch, id, attempts);
          read_or_leave_out(watch, id, attempts, [&] {
            if (limits.take(claimed_integration(rows))) out.push_back(claimed_job(rows, now_ms));
          });
        }
      }
      int64_t lease_until = now_ms + lease_ms;
      for (const ClaimedJob &j : out) {
        Claiming claiming(watch, j.id, j.attempts);
        hot_->lease_job.run(node, lease_until, now_ms, j.id);
      }
    });
    return out;
  }

  LateRecords finish(const AttemptRecord &a, const JobUpdate &u, int64_t now_ms) override {
    LateRecords late;
    write_grouped([&] { record_attempt(a, u, now_ms, late); });
    return late;
  }

  LateRecords finish_batch(std::vector<Finished> &done, int64_t now_ms) override {
    LateRecords late;
    std::vector<int> numbers;
    write_grouped([&] {
      for (const Finished &f : done) numbers.push_back(record_attempt(f.attempt, f.update, now_ms, late));
    });
    for (std::size_t i = 0; i < done.size(); ++i) done[i].attempt.number = numbers[i];
    return late;
  }

  int requeue_running(const std::string &node) override {
    std::lock_guard lock(mutex_);
    std::string owner = node;
    *session_ << "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL "
                 "WHERE state = 'running' AND lease_owner = ?",
        use(owner), now;
    int changed = 0;
    *session_ << "SELECT changes()", into(changed), now;
    return changed;
  }

  bool fail_interrupted(AttemptRecord attempt, const std::string &node, int64_t now_ms) override {
    bool held = false;
    write_grouped([&] {
      std::vector<int> attempts;
      std::vector<Poco::Int64> due, leased;
      std::string owner = node;
      *session_ << "SELECT attempts, due_at, updated_at FROM jobs WHERE id = ? AND state = 'running' "
                   "AND lease_owner = ?",
          use(attempt.job_id), use(owner), into(attempts), into(due), into(leased), now;
      if (attempts.empty()) return;
      held = true;
      attempt.number = attempts.front() + 1;
      attempt.due_at = due.front();
      attempt.node = node;  // under its lease
      attempt.leased_at = leased.front();
      LateRecords late;
      record_attempt(attempt, {JobState::failed, 0, attempt.error}, now_ms, late);
    });
    return held;
  }

  bool fail_claimed(AttemptRecord attempt, int attempts, int64_t now_ms) override {
    bool failed = false;
    write_grouped([&] {
      std::vector<Poco::Int64> due;
      std::string owner = attempt.node;
      *session_ << "SELECT due_at FROM jobs WHERE id = ? AND attempts = ? AND (state = 'queued' OR "
                   "(state = 'running' AND (lease_until < ? OR lease_owner = ?)))",
          use(attempt.job_id), use(attempts), use(now_ms), use(owner), into(due), now;
      if (due.empty()) return;
      failed = true;
      std::string error = attempt.error;
      *session_ << "UPDATE jobs SET state = 'failed', last_error = ?, lease_owner = NULL, lease_until = NULL, "
                   "updated_at = ? WHERE id = ?",
          use(error), use(now_ms), use(attempt.job_id), now;
      int64_t number = hot_->count_attempt.run(attempts + 1, attempt.job_id).value_or(attempts + 1);
      hot_->insert_attempt.run(attempt.job_id, number, static_cast<int64_t>(due.front()), attempt.started_at,
                               attempt.duration_ms, attempt.outcome, attempt.error, std::string("[]"), attempt.node);
    });
    return failed;
  }

  void release(const std::vector<int64_t> &job_ids, const std::string &node) override {
    write_grouped([&] {
      for (int64_t id : job_ids) hot_->release_job.run(int64_t{0}, int64_t{0}, id, node);  // due as it was
    });
  }

  void defer(const std::vector<std::pair<int64_t, int64_t>> &jobs, const std::string &node) override {
    write_grouped([&] {
      for (auto &[id, due_at] : jobs) hot_->release_job.run(due_at, due_at, id, node);
    });
  }

  void renew_leases(const std::vector<int64_t> &job_ids, const std::string &node, int64_t lease_until) override {
    write_grouped([&] {
      for (int64_t id : job_ids) hot_->renew_lease.run(lease_until, id, node);
    });
  }

  std::optional<int64_t> next_due() override {
    std::lock_guard lock(mutex_);
    Poco::Nullable<Poco::Int64> due;
    *session_ << "SELECT MIN(due_at) FROM jobs WHERE state = 'queued'", into(due), now;
    if (due.isNull()) return std::nullopt;
    return due.value();
  }

  void save_list(const std::string &integration, const std::string &name, const Json &items, int64_t now_ms) override {
    std::lock_guard lock(mutex_);
    std::string i = integration, n = name, text = items.dump();
    *session_ << "INSERT INTO resource_lists(integration, name, items, refreshed_at) VALUES(?,?,?,?) "
                 "ON CONFLICT(integration, name) DO UPDATE SET items = excluded.items, refreshed_at = excluded.refreshed_at",
        use(i), use(n), use(text), use(now_ms), now;
  }

  std::optional<CachedList> load_list(const std::string &integration, const std::string &name) override {
    std::lock_guard lock(mutex_);
    std::string i = integration, n = name;
    std::vector<std::string> items;
    std::vector<Poco::Int64> at;
    *session_ << "SELECT items, refreshed_at FROM resource_lists WHERE integration = ? AND name = ?", use(i), use(n),
        into(items), into(at), now;
    if (items.empty()) return std::nullopt;
    CachedList out;
    out.items = Json::parse(items.front(), nullptr, false);
    if (!out.items.is_array()) out.items = Json::array();
    out.refreshed_at = at.front();
    return out;
  }

  std::optional<JobRow> job(int64_t id) override {
    std::lock_guard lock(mutex_);
    Poco::Data::Statement select(*session_);
    select << "SELECT id, event_id, rule, integration, action, state, COALESCE(last_error, ''), attempts, due_at, "
              "params FROM jobs WHERE id = ?",
        use(id), now;
    Poco::Data::RecordSet rs(select);
    if (!rs.moveFirst()) return std::nullopt;
    return job_row(RecordRow{rs});
  }

  std::optional<Json> event(int64_t id) override {
    std::lock_guard lock(mutex_);
    std::vector<std::string> body, payload;
    *session_ << "SELECT e.body, COALESCE(p.body, '') FROM events e LEFT JOIN payloads p ON p.id = e.payload_id "
                 "WHERE e.id = ?",
        use(id), into(body), into(payload), now;
    if (body.empty()) return std::nullopt;
    Json e = with_payload(body.front(), payload.front());
    if (e.is_object()) e["id"] = id;
    return e;
  }

  std::vector<std::pair<std::string, std::string>> subscription_history(const std::string &source,
                                                                        const std::string &email,
                                                                        const std::string &subscription_id,
                                                                        int limit) override {
    std::lock_guard lock(mutex_);
    std::vector<std::string> types, keys;
    std::string src = source, mail = ascii_lower(email), id = subscription_id;
    *session_ << "SELECT type, dedupe_key FROM events WHERE email = ? AND source = ? AND type IN "
                 "('subscription.charge_failed', 'subscription.charged', 'subscription.recovered', "
                 "'subscription.restarted', 'subscription.delinquent') "
                 "AND json_extract(body, '$.subscription.id') = ? ORDER BY id DESC LIMIT ?",
        use(mail), use(src), use(id), use(limit), into(types), into(keys), now;
    std::vector<std::pair<std::string, std::string>> out;
    for (std::size_t i = 0; i < types.size(); ++i) out.emplace_back(types[i], keys[i]);
    return out;
  }

  std::optional<Json> purchase(const std::string &source, const std::string &order_id,
                               const std::string &item_ref) override {
    std::lock_guard lock(mutex_);
    std::vector<int64_t> id;
    std::vector<std::string> body;
    std::string type = "product.purchased", src = source, order = order_id, item = item_ref;
    *session_ << "SELECT id, body FROM events WHERE order_id = ? AND item_ref = ? AND type = ? AND source = ? "
                 "ORDER BY id LIMIT 1",
        use(order), use(item), use(type), use(src), into(id), into(body), now;
    if (body.empty()) return std::nullopt;
    Json e = Json::parse(body.front(), nullptr, false);
    if (e.is_object()) e["id"] = id.front();
    return e;
  }

  std::vector<AttemptRecord> attempts(int64_t job_id) override {
    std::lock_guard lock(mutex_);
    Poco::Data::Statement select(*session_);
    select << "SELECT job_id, number, started_at, duration_ms, outcome, COALESCE(error, ''), exchanges, "
              "COALESCE(due_at, 0), COALESCE(node, '') "
              "FROM attempts WHERE job_id = ? ORDER BY number",
        use(job_id), now;
    Poco::Data::RecordSet rs(select);
    std::vector<AttemptRecord> out;
    for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
      out.push_back(attempt_row(RecordRow{rs}));
    }
    return out;
  }

  int64_t count(const std::string &table) override {
    static const std::vector<std::string> known = {"events", "jobs", "attempts"};
    if (std::find(known.begin(), known.end(), table) == known.end()) return -1;
    std::lock_guard lock(mutex_);
    Poco::Int64 n = 0;
    *session_ << ("SELECT COUNT(*) FROM " + table), into(n), now;
    return n;
  }

  void ping() override {
    std::lock_guard lock(mutex_);
    check_file();
    int one = 0;
    *session_ << "SELECT 1 FROM schema_migrations LIMIT 1", into(one), now;
    if (cannot_write_) probe_write();
  }

  std::vector<JobSummary> search_jobs(const Search &query) override {
    std::lock_guard lock(mutex_);
    SqlQuery q = job_search_sql(query, Dialect::sqlite, drive(query, false));
    Poco::Data::Statement select(*session_);
    run(select, q);
    Poco::Data::RecordSet rs(select);
    std::vector<JobSummary> out;
    for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
      out.push_back(job_summary(RecordRow{rs}));
    }
    return out;
  }

  std::vector<EventRow> search_events(const Search &query) override {
    std::lock_guard lock(mutex_);
    SqlQuery q = event_search_sql(query, Dialect::sqlite, drive(query, true));
    Poco::Data::Statement select(*session_);
    run(select, q);
    Poco::Data::RecordSet rs(select);
    std::vector<EventRow> out;
    for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
      out.push_back(event_row(RecordRow{rs}));
    }
    return out;
  }

  bool replay(int64_t job_id, int64_t now_ms) override { return replay_one(job_id, now_ms, nullptr); }

  bool replay_with(int64_t job_id, const Json &params, int64_t now_ms) override {
    std::string text = params.dump();
    return replay_one(job_id, now_ms, &text);
  }

  std::vector<ReplayRecord> replays(int64_t job_id) override {
    std::lock_guard lock(mutex_);
    Poco::Data::Statement select(*session_);
    select << "SELECT at, rule, after_attempt, COALESCE(params, 'null') FROM replays WHERE job_id = ? ORDER BY id",
        use(job_id), now;
    Poco::Data::RecordSet rs(select);
    std::vector<ReplayRecord> out;
    for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
      RecordRow r{rs};
      out.push_back({r.number(0), r.text(1), static_cast<int>(r.number(2)), Json::parse(r.text(3), nullptr, false)});
    }
    return out;
  }

  std::vector<int64_t> replay_matching(const Search &query, int64_t now_ms) override {
    std::lock_guard lock(mutex_);
    SqlQuery q = replayable_jobs_sql(query, Dialect::sqlite, drive(query, false));
    auto &s = *session_;
    std::vector<int64_t> ids;
    begin_writing();
    try {
      Poco::Data::Statement select(s);
      run(select, q);
      Poco::Data::RecordSet rs(select);
      for (bool more = rs.moveFirst(); more; more = rs.moveNext()) ids.push_back(rs[0].convert<Poco::Int64>());
      requeue(ids, now_ms);
      s.commit();
    } catch (...) {
      s.rollback();
      throw;
    }
    return ids;
  }

  int prune(int64_t before_ms, int limit) override {
    int removed = 0;
    write_grouped([&] {
      SqlQuery q = prunable_jobs_sql(before_ms, limit, "jobs INDEXED BY jobs_finished");
      Poco::Data::Statement select(*session_);
      run(select, q);
      Poco::Data::RecordSet rs(select);
      std::vector<int64_t> ids;
      for (bool more = rs.moveFirst(); more; more = rs.moveNext()) ids.push_back(rs[0].convert<Poco::Int64>());
      for (int64_t id : ids) {
        *session_ << "DELETE FROM attempts WHERE job_id = ?", use(id), now;
        *session_ << "DELETE FROM replays WHERE job_id = ?", use(id), now;
        *session_ << "DELETE FROM jobs WHERE id = ?", use(id), now;
      }
      removed = static_cast<int>(ids.size());
    });
    return removed;
  }

  std::map<std::string, int64_t> job_counts() override {
    std::lock_guard lock(mutex_);
    std::vector<std::string> states;
    std::vector<Poco::Int64> counts;
    *session_ << "SELECT state, COUNT(*) FROM jobs GROUP BY state", into(states), into(counts), now;
    std::map<std::string, int64_t> out;
    for (std::size_t i = 0; i < states.size(); ++i) out[states[i]] = counts[i];
    return out;
  }

  Activity activity(int64_t since_ms, int64_t until_ms, int64_t bucket_ms) override {
    if (bucket_ms <= 0 || until_ms <= since_ms) throw std::invalid_argument("activity: empty range or bucket");
    Activity out;
    for (int64_t start = since_ms; start < until_ms; start += bucket_ms) out.buckets.push_back({start, 0, {}});
    Poco::Int64 since = since_ms, until = until_ms, width = bucket_ms;
    std::lock_guard lock(mutex_);
    std::vector<Poco::Int64> buckets, counts;
    *session_ << "SELECT (received_at - ?) / ?, COUNT(*) FROM events WHERE received_at >= ? AND received_at < ? "
                 "GROUP BY 1",
        use(since), use(width), use(since), use(until), into(buckets), into(counts), now;
    for (std::size_t i = 0; i < buckets.size(); ++i) out.buckets.at(static_cast<std::size_t>(buckets[i])).events = counts[i];
    buckets.clear();
    counts.clear();
    std::vector<std::string> states, integrations;
    *session_ << "SELECT (created_at - ?) / ?, state, COUNT(*) FROM jobs WHERE created_at >= ? AND created_at < ? "
                 "GROUP BY 1, 2",
        use(since), use(width), use(since), use(until), into(buckets), into(states), into(counts), now;
    for (std::size_t i = 0; i < buckets.size(); ++i)
      out.buckets.at(static_cast<std::size_t>(buckets[i])).jobs[states[i]] = counts[i];
    states.clear();
    counts.clear();
    *session_ << "SELECT integration, state, COUNT(*) FROM jobs WHERE created_at >= ? AND created_at < ? "
                 "AND state IN ('failed', 'dead') GROUP BY 1, 2",
        use(since), use(until), into(integrations), into(states), into(counts), now;
    for (std::size_t i = 0; i < integrations.size(); ++i) out.failures[integrations[i]][states[i]] = counts[i];
    return out;
  }

 private:
  // The accept path's writes, on the hot statements, inside the caller's transaction.
  class Writes : public AcceptWrites {
   public:
    explicit Writes(HotStatements &hot) : hot_(hot) {}
    std::optional<int64_t> stored_event(const std::string &dedupe_key) override {
      return hot_.event_by_key.run(dedupe_key);
    }
    std::optional<int64_t> stored_event(const std::vector<std::string> &dedupe_keys) override {
      return hot_.event_by_keys.run(key_list(dedupe_keys));
    }
    int64_t insert_payload(const std::string &text) override { return *hot_.insert_payload.run(text); }
    int64_t insert_event(const EventColumns &e) override {
      return *hot_.insert_event.run(e.source, e.type, e.dedupe_key, e.occurred_at, e.received_at, e.mode, e.email,
                                    e.order_id, e.item_ref, e.body, e.payload_id);
    }
    int64_t insert_job(int64_t event_id, const NewJob &job, const std::string &params, int64_t now_ms) override {
      std::optional<std::string> ordering, owner;
      std::optional<int64_t> lease_until;
      if (!job.ordering_key.empty()) ordering = job.ordering_key;
      if (!job.lease_owner.empty()) {
        owner = job.lease_owner;
        lease_until = job.lease_until;
      }
      return *hot_.insert_job.run(event_id, job.rule, job.integration, job.action, params,
                                  std::string(owner ? "running" : "queued"), now_ms, ordering, now_ms, now_ms, owner,
                                  lease_until);
    }

   private:
    HotStatements &hot_;
  };

  std::vector<Accepted> insert_events(std::vector<NewEvent> &events, int64_t now_ms) {
    Writes writes(*hot_);
    return store::insert_events(writes, events, now_ms);
  }

  // What a search reads first (choose_drive), its counts made on this connection; with the lock held.
  Drive drive(const Search &query, bool events) {
    return choose_drive(query, events, [&](const SqlQuery &probe) {
      Stepped count(handle(), probe);
      return count.next() ? count.number(0) : int64_t{0};
    });
  }

  // Binds the query's parameters in order; they live in `q` until execution.
  static void run(Poco::Data::Statement &statement, SqlQuery &q) {
    statement << q.sql;
    for (auto &p : q.params) {
      if (p.is_text) statement, use(p.text);
      else statement, use(p.number);
    }
    statement.execute();
  }

  // One failed or dead job back in the queue, in a write transaction of its own; false when it is in another state.
  bool replay_one(int64_t job_id, int64_t now_ms, const std::string *params) {
    std::lock_guard lock(mutex_);
    begin_writing();
    try {
      bool done = requeue({job_id}, now_ms, params) > 0;
      session_->commit();
      return done;
    } catch (...) {
      session_->rollback();
      throw;
    }
  }

  // Failed and dead jobs back in the queue, due now, each replay added to its
  // job's history; with `params`, the jobs' parameters become these and the
  // history keeps those they had. Inside the caller's write transaction.
  int requeue(const std::vector<int64_t> &ids, int64_t now_ms, const std::string *params = nullptr) {
    int changed = 0;
    std::string rule = params ? "current" : "original";
    for (int64_t id : ids) {
      int64_t job_id = id, due = now_ms;
      *session_ << "INSERT INTO replays(job_id, at, rule, after_attempt, params) SELECT id, ?, ?, attempts, "
                   "CASE WHEN ? = 'current' THEN params END FROM jobs WHERE id = ? AND state IN ('failed', 'dead')",
          use(due), use(rule), use(rule), use(job_id), now;
      int n = 0;
      *session_ << "SELECT changes()", into(n), now;
      if (!n) continue;
      if (params) {
        std::string text = *params;
        *session_ << "UPDATE jobs SET params = ? WHERE id = ?", use(text), use(job_id), now;
      }
      *session_ << "UPDATE jobs SET state = 'queued', due_at = ?, lease_owner = NULL, lease_until = NULL, "
                   "updated_at = ? WHERE id = ?",
          use(due), use(due), use(job_id), now;
      ++changed;
    }
    return changed;
  }

  void migrate() {
    auto &s = *session_;
    s << "CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
        now;
    int current = 0;
    s << "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", into(current), now;
    const auto &all = migrations();
    if (current > static_cast<int>(all.size()))
      throw std::runtime_error("the database schema (version " + std::to_string(current) +
                               ") is newer than this cartwire (" + std::to_string(all.size()) +
                               "); upgrade cartwire or use another storage.path");
    for (int v = current + 1; v <= static_cast<int>(all.size()); ++v) {
      begin_writing();
      try {
        for (const auto &stmt : all[v - 1]) s << stmt, now;
        Poco::Int64 at = static_cast<Poco::Int64>(std::time(nullptr)) * 1000;
        s << "INSERT INTO schema_migrations(version, applied_at) VALUES(?, ?)", use(v), use(at), now;
        s.commit();
      } catch (...) {
        s.rollback();
        throw;
      }
    }
  }

  // An attempt and its job's new state, inside the caller's transaction;
  // adds the job to `late` when the attempt's lease no longer holds it. One
  // node, but its lease on a job can still end during an attempt (the process
  // paused, or its renewals failed while the disk was full), and its claims
  // then take the job again. A running job's updated_at is when its lease
  // began (a claim, or an accept that leased it; a renewal leaves it), which
  // with its owner names the lease. An attempt's number is the next of its
  // job's (count_attempt); returns it.
  int record_attempt(const AttemptRecord &a, const JobUpdate &u, int64_t now_ms, LateRecords &late) {
    std::string exchanges = a.exchanges.dump();
    int number = static_cast<int>(hot_->count_attempt.run(a.number, a.job_id).value_or(a.number));
    hot_->insert_attempt.run(a.job_id, number, a.due_at, a.started_at, a.duration_ms, a.outcome, a.error, exchanges,
                             a.node);
    if (hot_->update_job.run(std::string(to_string(u.state)), u.due_at, u.last_error, now_ms, a.job_id, a.node,
                             a.leased_at))
      return number;
    std::vector<std::string> holder;
    int64_t id = a.job_id;
    *session_ << "SELECT CASE WHEN state = 'running' THEN COALESCE(lease_owner, '') ELSE '' END FROM jobs WHERE id = ?",
        use(id), into(holder), now;
    late[a.job_id] = holder.empty() ? "" : holder.front();
    return number;
  }

  // The group commit's statements, on this store's one connection.
  class Transaction : public GroupTransaction {
   public:
    explicit Transaction(SqliteStore &store) : store_(store) {}
    void begin() override {
      store_.check_file();
      changes_ = sqlite3_total_changes64(store_.handle());
      store_.begin_writing();
    }
    void savepoint() override { store_.hot_->savepoint.run(); }
    void rollback_to_savepoint() override { store_.hot_->rollback_to.run(); }
    void release_savepoint() override { store_.hot_->release.run(); }
    void commit() override {
      sqlite3 *db = store_.handle();
      try {
        store_.session_->commit();
      } catch (const Poco::Exception &) {
        if (int rc = sqlite3_extended_errcode(db); not_written(rc)) throw cannot_write(db, rc);
        throw;
      }
      // A commit that wrote something: the disk takes writes (again).
      if (sqlite3_total_changes64(db) != changes_) store_.cannot_write_ = false;
    }
    void rollback() noexcept override {
      try {
        if (!sqlite3_get_autocommit(store_.handle())) store_.session_->rollback();
      } catch (...) {
      }
    }

   private:
    SqliteStore &store_;
    sqlite3_int64 changes_ = 0;
  };

  // Write transactions take the write lock as they begin, waiting out another
  // process's on the file (cartwire import beside cartwire serve) for the busy
  // timeout. A deferred one, Poco's begin(), reads first: once the other
  // process has committed meanwhile, its snapshot is stale and its first write
  // fails at once with "database is locked", whatever the timeout.
  void begin_writing() { *session_ << "BEGIN IMMEDIATE", now; }

  void write_grouped(const std::function<void()> &work) {
    try {
      group_.write(work);
    } catch (const WriteFailed &) {
      cannot_write_ = true;
      throw;
    }
  }

  sqlite3 *handle() const { return Poco::Data::SQLite::Utility::dbHandle(*session_); }

  // In a catch block of a poll's write (outside the group commit): the failure under way again, as
  // WriteFailed when SQLite's `rc` says what it wrote did not reach the disk; as after a group's,
  // ping() then tries a write of its own until one does.
  [[noreturn]] void rethrow_unwritten(int rc) {
    if (not_written(rc)) {
      cannot_write_ = true;
      throw cannot_write(handle(), rc);
    }
    throw;
  }

  // In a catch block of a write transaction: rolled back (if SQLite has not ended it already, as it
  // may on a full disk), then as rethrow_unwritten().
  [[noreturn]] void roll_back_and_rethrow() {
    int rc = sqlite3_extended_errcode(handle());  // before the rollback's
    transaction_.rollback();
    rethrow_unwritten(rc);
  }

  // Throws when storage.path no longer names the file this store opened (it
  // was removed or replaced while the hub ran): what is written to the open
  // file then would be lost with it, since a restart would not find it.
  void check_file() const {
    if (!file_) return;
    struct stat st {};
    if (::stat(path_.c_str(), &st) == 0 && st.st_dev == file_->first && st.st_ino == file_->second) return;
    throw std::runtime_error(path_ + " was removed or replaced while the hub ran: nothing more is written to the "
                             "file the hub has open, which a restart would not find; to keep what it holds, copy "
                             "it and its -wal file from /proc/" + std::to_string(::getpid()) +
                             "/fd (ls -l shows which) to other names, stop the hub, and move the copies to " + path_ +
                             " and " + path_ + "-wal before it starts again");
  }

  // While writes fail, whether one reaches the disk now (write_probe), at
  // most once a second whoever asks (/readyz is open to anyone): meanwhile,
  // the last probe's answer. Called with the connection's lock held.
  void probe_write() {
    auto now_at = std::chrono::steady_clock::now();
    if (last_probe_ && now_at - last_probe_->first < std::chrono::seconds(1)) throw last_probe_->second;
    try {
      write_probe();
      last_probe_.reset();
    } catch (const WriteFailed &e) {
      last_probe_.emplace(now_at, e);
      throw;
    }
  }

  // The database's user_version written again as it is, which adds a page to the log.
  void write_probe() {
    sqlite3 *db = handle();
    int version = 0;
    *session_ << "PRAGMA user_version", into(version), now;
    std::string sql = "BEGIN IMMEDIATE; PRAGMA user_version = " + std::to_string(version) + "; COMMIT";
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK) {
      cannot_write_ = false;
      return;
    }
    int rc = sqlite3_extended_errcode(db);
    std::string error = sqlite3_errmsg(db);
    std::optional<WriteFailed> unwritten;
    if (not_written(rc)) unwritten = cannot_write(db, rc);
    if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    if (unwritten) throw *unwritten;
    throw std::runtime_error(error);
  }

  std::optional<std::pair<std::chrono::steady_clock::time_point, WriteFailed>> last_probe_;  // a failed one
  std::string path_;
  int node_lock_ = -1;  // hold_node's lock file
  std::mutex mutex_;
  std::unique_ptr<Poco::Data::Session> session_;
  std::unique_ptr<HotStatements> hot_;  // after session_: finalized before the connection closes
  std::unique_ptr<Checkpointer> checkpointer_;
  std::optional<std::pair<dev_t, ino_t>> file_;  // the database file opened at path_, which check_file expects
  // Set by a write that did not reach the disk; cleared by one that does.
  std::atomic<bool> cannot_write_{false};
  Transaction transaction_{*this};
  GroupCommit group_{transaction_, mutex_};
};

}  // namespace

std::unique_ptr<Store> open_sqlite(const std::string &path, const std::string &synchronous, const std::string &node) {
  return std::make_unique<SqliteStore>(path, synchronous, node);
}

}  // namespace cartwire::store
