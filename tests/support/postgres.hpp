// A schema of its own, for one test, in the tests' PostgreSQL server
// (tests/support/postgres.sh, started by ctest as the "postgres" fixture) or
// in a server of the test's own (PostgresServer). Stores opened on conninfo()
// keep their tables in it; it is dropped at the end.
#pragma once

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace cartwire::testing {

/**
 * A PostgreSQL server of a test's own (tests/support/postgres.sh), for a test
 * that stops and starts it, or needs settings of its own (a small lock table):
 * the tests' shared server stays up, as it is, for the others.
 */
class PostgresServer {
 public:
  /** `settings`: postgresql.conf's, as NAME=VALUE (max_connections=10). */
  explicit PostgresServer(const std::vector<std::string> &settings = {}) {
    static std::atomic<int> counter{0};
    state_ = std::filesystem::temp_directory_path() /
             ("cartwire-pg-state-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    run("start", settings);
    std::ifstream in(state_ / "conninfo");
    if (!std::getline(in, conninfo_)) throw std::runtime_error("postgres.sh start wrote no conninfo");
  }
  ~PostgresServer() {
    try {
      run("stop");
    } catch (...) {
    }
    std::filesystem::remove_all(state_);
  }
  PostgresServer(const PostgresServer &) = delete;
  PostgresServer &operator=(const PostgresServer &) = delete;

  /** A libpq connection string of the server. */
  const std::string &conninfo() const { return conninfo_; }
  /** Stops the server as an administrator would, which ends every session; its data stays. */
  void pause() { run("pause"); }
  /** Starts the paused server again, on the same data and at the same conninfo(). */
  void resume() { run("resume"); }

 private:
  // The script's output in the state directory, which goes with the server.
  void run(const std::string &command, const std::vector<std::string> &settings = {}) {
    static const std::filesystem::path script = std::filesystem::path(__FILE__).parent_path() / "postgres.sh";
    std::filesystem::create_directories(state_);
    std::filesystem::path out = state_ / "postgres.sh.out";
    std::string line = script.string() + " " + command + " " + state_.string();
    for (const std::string &setting : settings) line += " " + setting;
    line += " >" + out.string() + " 2>&1";
    if (std::system(line.c_str()) != 0) {
      std::stringstream said;
      said << std::ifstream(out).rdbuf();
      throw std::runtime_error("postgres.sh " + command + " failed: " + said.str());
    }
  }

  std::filesystem::path state_;
  std::string conninfo_;
};

class PostgresSchema {
 public:
  /** In the tests' server, which CARTWIRE_TEST_POSTGRES names. */
  PostgresSchema() {
    const char *file = std::getenv("CARTWIRE_TEST_POSTGRES");
    std::ifstream in(file ? file : "");
    if (!file || !std::getline(in, server_))
      throw std::runtime_error(
          "no PostgreSQL server for the tests: run them with ctest, which starts one (tests/support/postgres.sh), "
          "or set CARTWIRE_TEST_POSTGRES to a file holding a libpq connection string");
    create();
  }
  explicit PostgresSchema(const PostgresServer &server) : server_(server.conninfo()) { create(); }
  ~PostgresSchema() {
    try {
      exec("DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
    } catch (...) {
    }
  }
  PostgresSchema(const PostgresSchema &) = delete;
  PostgresSchema &operator=(const PostgresSchema &) = delete;

  /** A libpq connection string whose tables are this schema's; its connections are named after it. */
  std::string conninfo() const {
    return server_ + " application_name=" + name_ + " options='-csearch_path=" + name_ +
           " -cclient_min_messages=warning'";
  }

  /**
   * Ends every connection made with conninfo() but this helper's own, as a
   * database restart would; returns how many, once their sessions are gone.
   */
  int drop_connections() const {
    Session session(*this);
    std::string pids;
    for (auto &row : session.query("SELECT pid FROM pg_stat_activity WHERE application_name = '" + name_ +
                                   "' AND pid <> pg_backend_pid()"))
      pids += (pids.empty() ? "" : ",") + row[0];
    if (pids.empty()) return 0;
    auto ended = session.query("SELECT pid FROM unnest(ARRAY[" + pids + "]) AS pid WHERE pg_terminate_backend(pid)");
    for (int i = 0; i < 500; ++i) {
      if (session.query("SELECT 1 FROM pg_stat_activity WHERE pid IN (" + pids + ")").empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return static_cast<int>(ended.size());
  }

  /** Runs `sql` in this schema on a connection of its own; the rows as text ("" for NULL). */
  std::vector<std::vector<std::string>> query(const std::string &sql) const { return Session(*this).query(sql); }
  void exec(const std::string &sql) const { query(sql); }
  long long scalar(const std::string &sql) const {
    auto rows = query(sql);
    return rows.empty() || rows[0].empty() || rows[0][0].empty() ? -1 : std::stoll(rows[0][0]);
  }

  const std::string &name() const { return name_; }

  /** One connection kept open, e.g. to hold a transaction while a store works. */
  class Session {
   public:
    explicit Session(const PostgresSchema &schema) : conn_(PQconnectdb(schema.conninfo().c_str())) {
      if (PQstatus(conn_) != CONNECTION_OK) {
        std::string error = PQerrorMessage(conn_);
        PQfinish(conn_);
        throw std::runtime_error("cannot connect to the tests' PostgreSQL: " + error);
      }
    }
    ~Session() { PQfinish(conn_); }
    Session(const Session &) = delete;
    Session &operator=(const Session &) = delete;

    std::vector<std::vector<std::string>> query(const std::string &sql) {
      PGresult *r = PQexec(conn_, sql.c_str());
      ExecStatusType status = PQresultStatus(r);
      if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        std::string error = PQresultErrorMessage(r);
        PQclear(r);
        throw std::runtime_error(error + " in " + sql);
      }
      std::vector<std::vector<std::string>> rows;
      for (int i = 0; i < PQntuples(r); ++i) {
        std::vector<std::string> row;
        for (int j = 0; j < PQnfields(r); ++j) row.emplace_back(PQgetvalue(r, i, j));
        rows.push_back(std::move(row));
      }
      PQclear(r);
      return rows;
    }

   private:
    PGconn *conn_;
  };

 private:
  void create() {
    static std::atomic<int> counter{0};
    name_ = "test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    exec("DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
    exec("CREATE SCHEMA " + name_);
  }

  std::string server_, name_;
};

}  // namespace cartwire::testing
