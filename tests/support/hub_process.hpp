// Runs the real cartwire binary for end-to-end tests: a temp directory with a
// hub.yaml and a database, a free port, the log captured to a file.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "eventually.hpp"
#include "listen.hpp"

namespace cartwire::testing {

namespace fs = std::filesystem;

/** A port nobody listens on right now. */
inline unsigned short free_port() {
  return listen_alone().address().port();
}

struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
};

inline HttpResult http(const std::string &method, unsigned short port, const std::string &path,
                       const std::string &body = "", const std::map<std::string, std::string> &headers = {}) {
  Poco::Net::HTTPClientSession session("127.0.0.1", port);
  session.setTimeout(Poco::Timespan(10, 0));
  Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  for (auto &[k, v] : headers) request.set(k, v);
  if (method != "GET" && method != "HEAD") request.setContentLength(static_cast<std::streamsize>(body.size()));
  session.sendRequest(request) << body;
  Poco::Net::HTTPResponse response;
  std::istream &in = session.receiveResponse(response);
  HttpResult out;
  out.status = static_cast<int>(response.getStatus());
  if (method != "HEAD") Poco::StreamCopier::copyToString(in, out.body);
  for (auto &[k, v] : response) out.headers[k] = v;
  return out;
}

/** Read-only queries against the hub's SQLite file. */
inline std::vector<std::vector<std::string>> query(const std::string &db_path, const std::string &sql) {
  sqlite3 *db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + db_path);
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt *stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    std::string error = sqlite3_errmsg(db);
    sqlite3_close(db);
    throw std::runtime_error(error + " in " + sql);
  }
  std::vector<std::vector<std::string>> rows;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      auto *text = sqlite3_column_text(stmt, i);
      row.emplace_back(text ? reinterpret_cast<const char *>(text) : "");
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

inline long long scalar(const std::string &db_path, const std::string &sql) {
  auto rows = query(db_path, sql);
  return rows.empty() || rows[0].empty() ? 0 : std::stoll(rows[0][0]);
}

/**
 * In a forked child: be killed when the test process that forked it dies, so
 * that a test which crashes leaves no hub or fake running. (The signal follows
 * the forking thread; tests start their processes from the main thread.)
 */
inline void die_with(pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // it died before the line above
}

/** How many times `part` is in `text` (a line in a hub's log, say). */
inline std::size_t occurrences(const std::string &text, const std::string &part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

class HubProcess {
 public:
  /** `config_body` is hub.yaml without server/storage/plugins, which this class fills in. */
  HubProcess(const std::string &name, const std::string &config_body, std::map<std::string, std::string> env = {})
      : env_(std::move(env)) {
    dir_ = fs::temp_directory_path() / ("cartwire-e2e-" + std::to_string(::getpid()) + "-" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    port_ = free_port();
    plugins_dir_ = CARTWIRE_PLUGIN_DIR;
    write_config(config_body);
  }
  ~HubProcess() {
    stop();
    if (!::testing::Test::HasFailure()) fs::remove_all(dir_);
  }

  void write_config(const std::string &body) {
    body_ = body;
    std::ofstream(config_path()) << "server:\n  listen: 127.0.0.1:" << port_ << "\n"
                                 << "storage:\n"
                                 << (storage_url_.empty() ? "  path: " + db_path() + "\n"
                                                          : "  driver: postgresql\n  url: \"" + storage_url_ + "\"\n")
                                 << storage_extra_
                                 << "plugins:\n  dir: " << plugins_dir_ << "\n"
                                 << (native_calls_ ? "" : "  native_calls: false\n") << body;
  }
  /** Call every connector through the JSON seam (plugins.native_calls: false). */
  void use_json_seam() {
    native_calls_ = false;
    write_config(body_);
  }
  void use_plugins_dir(const std::string &dir) { plugins_dir_ = dir; }
  /** The variables the hub's next starts get in their environment, besides the test's own. */
  std::map<std::string, std::string> &env() { return env_; }
  /** More keys of the storage section, e.g. "  retention: 2s\n". */
  void add_storage(const std::string &yaml) {
    storage_extra_ += yaml;
    write_config(body_);
  }
  /** Keep events and jobs in this PostgreSQL database (a libpq connection string) instead of db_path(). */
  void use_postgresql(const std::string &conninfo) {
    storage_url_ = conninfo;
    write_config(body_);
  }
  /** Run this executable instead of the built one (e.g. a copy without its modules). */
  void use_binary(const std::string &path) { binary_ = path; }

  std::string config_path() const { return (dir_ / "hub.yaml").string(); }
  std::string db_path() const { return (dir_ / "hub.db").string(); }
  std::string log_path() const { return (dir_ / "hub.log").string(); }
  const fs::path &dir() const { return dir_; }
  unsigned short port() const { return port_; }

  /**
   * Start `cartwire serve` and wait until /healthz answers. A port that
   * something else took after free_port() found it free makes the hub exit
   * with "cannot listen": it is then started again on another port.
   */
  void start() {
    for (int tries = 1;; ++tries) {
      pid_ = spawn({"serve", "--config", config_path()}, log_path(), true);
      ended_before_up_.reset();
      bool exited = false;
      bool up = eventually([&] {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
          ended_before_up_ = status;  // for ended(): a start that failed as the hub stopped by itself
          return exited = true;
        }
        try {
          return http("GET", port_, "/healthz").status == 200;
        } catch (...) {
          return false;
        }
      }, std::chrono::seconds(20));
      if (up && !exited) return;
      if (exited) pid_ = -1;
      std::string taken = "127.0.0.1:" + std::to_string(port_);
      if (!exited || tries == 3 || log().find("cannot listen on " + taken + ":") == std::string::npos)
        throw std::runtime_error("cartwire did not come up; log:\n" + log());
      port_ = free_port();
      move_listener(taken, "127.0.0.1:" + std::to_string(port_));
    }
  }

  /** Whether the running hub has a file whose path contains `part` mapped (a library it loaded). */
  bool maps(const std::string &part) const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/maps");
    for (std::string line; std::getline(in, line);)
      if (line.find(part) != std::string::npos) return true;
    return false;
  }

  /** SIGKILL: no shutdown, no flush. */
  void kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  /** SIGSTOP: the hub stops in its tracks, as a process frozen or starved would, until resume(). */
  void pause() const {
    if (pid_ > 0) ::kill(pid_, SIGSTOP);
  }
  /** SIGCONT: a paused hub runs on. */
  void resume() const {
    if (pid_ > 0) ::kill(pid_, SIGCONT);
  }

  /** Waits up to `limit` for the hub to end by itself: its wait status, or nothing while it runs on. */
  std::optional<int> ended(std::chrono::milliseconds limit) {
    if (pid_ <= 0) return std::exchange(ended_before_up_, std::nullopt);
    int status = 0;
    if (!eventually([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, limit)) return std::nullopt;
    pid_ = -1;
    return status;
  }

  /**
   * Set the running hub's file size limit (RLIMIT_FSIZE): a write that would
   * make a file larger fails, as on a full disk. RLIM_INFINITY lifts it.
   */
  void limit_file_size(rlim_t bytes) const {
    rlimit limit{};
    if (::prlimit(pid_, RLIMIT_FSIZE, nullptr, &limit) != 0) throw std::runtime_error("prlimit failed");
    limit.rlim_cur = std::min(bytes, limit.rlim_max);
    if (::prlimit(pid_, RLIMIT_FSIZE, &limit, nullptr) != 0) throw std::runtime_error("prlimit failed");
  }

  /**
   * Start the commands run() runs with this file size limit (RLIMIT_FSIZE,
   * SIGXFSZ ignored): a write that would make a file larger fails from the
   * start, as on a full disk, at the point the data written reaches it.
   */
  void limit_runs_file_size(rlim_t bytes) { run_file_size_ = bytes; }

  /** SIGHUP: reload hub.yaml. */
  void hangup() const {
    if (pid_ > 0) ::kill(pid_, SIGHUP);
  }

  /** SIGTERM and wait; returns the exit status. */
  int stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  /**
   * Run `cartwire <args>` to completion; returns {exit code, output}. A run
   * still going after `limit` is killed and reads as exit code -1, as does
   * one a signal ended. With `interrupt_when`, the run gets a SIGINT (a
   * Ctrl-C) once that holds. `cwd`: the folder it runs in (default: this process's).
   */
  std::pair<int, std::string> run(const std::vector<std::string> &args,
                                  std::chrono::milliseconds limit = std::chrono::seconds(60),
                                  const std::function<bool()> &interrupt_when = {}, const std::string &cwd = "") {
    std::string out = (dir_ / "run.out").string();
    pid_t pid = spawn(args, out, false, cwd, run_file_size_);
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + limit;
    bool interrupted = false;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      if (interrupt_when && !interrupted && interrupt_when()) interrupted = ::kill(pid, SIGINT) == 0;
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::ifstream in(out);
    std::stringstream text;
    text << in.rdbuf();
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text.str()};
  }

  std::string log() const {
    std::ifstream in(log_path());
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  HttpResult post(const std::string &path, const std::string &body,
                  const std::string &content_type = "application/x-www-form-urlencoded") {
    return http("POST", port_, path, body, {{"Content-Type", content_type}});
  }

  long long count(const std::string &sql) const { return scalar(db_path(), sql); }

 private:
  // Point server.listen in hub.yaml (as written here or by the test) at another address.
  void move_listener(const std::string &from, const std::string &to) {
    std::stringstream text;
    text << std::ifstream(config_path()).rdbuf();
    std::string yaml = text.str(), line = "listen: " + from + "\n";
    auto at = yaml.find("server:\n  " + line);
    if (at == std::string::npos) throw std::runtime_error("no server.listen " + from + " in " + config_path());
    yaml.replace(at + std::string("server:\n  ").size(), line.size(), "listen: " + to + "\n");
    std::ofstream(config_path()) << yaml;
  }

  pid_t spawn(const std::vector<std::string> &args, const std::string &out_path, bool append,
              const std::string &cwd = "", rlim_t file_size = RLIM_INFINITY) {
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      die_with(parent);
      int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      for (auto &[k, v] : env_) ::setenv(k.c_str(), v.c_str(), 1);
      if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
      if (file_size != RLIM_INFINITY) {
        ::signal(SIGXFSZ, SIG_IGN);
        rlimit limit{file_size, file_size};
        if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(126);
      }
      std::vector<char *> argv;
      std::string bin = binary_;
      argv.push_back(bin.data());
      std::vector<std::string> copy = args;
      for (auto &a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(bin.c_str(), argv.data());
      ::_exit(127);
    }
    return pid;
  }

  fs::path dir_;
  std::string plugins_dir_;
  std::string body_;
  std::string storage_url_, storage_extra_;
  bool native_calls_ = true;
  std::string binary_ = CARTWIRE_BIN;
  unsigned short port_ = 0;
  rlim_t run_file_size_ = RLIM_INFINITY;
  pid_t pid_ = -1;
  std::optional<int> ended_before_up_;  // the wait status of a hub that ended as start() waited for it
  std::map<std::string, std::string> env_;
};

}  // namespace cartwire::testing
