// Starts a fake vendor server (tests/fakes/<name>.py) on a free port for an
// end-to-end test, and reads what it received through /__fake/*.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "hub_process.hpp"

namespace cartwire::testing {

class FakeProcess {
 public:
  explicit FakeProcess(const std::string &name) : port_(free_port()) {
    std::string script = std::string(CARTWIRE_FAKES_DIR) + "/" + name + ".py";
    pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      die_with(parent);
      std::string port = std::to_string(port_);
      ::execl("/usr/bin/python3", "python3", script.c_str(), "--port", port.c_str(), static_cast<char *>(nullptr));
      ::_exit(127);
    }
    bool up = eventually([&] {
      try {
        return http("GET", port_, "/__fake/health").status == 200;
      } catch (...) {
        return false;
      }
    }, std::chrono::seconds(15));
    if (!up) throw std::runtime_error("fake " + name + " did not start");
  }
  ~FakeProcess() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }

  unsigned short port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  nlohmann::json requests() const { return nlohmann::json::parse(http("GET", port_, "/__fake/requests").body); }
  nlohmann::json state() const { return nlohmann::json::parse(http("GET", port_, "/__fake/state").body); }
  void seed(const nlohmann::json &state) const { http("POST", port_, "/__fake/state", state.dump()); }
  /** The next `times` requests whose path matches `path_regex` get `status` (with `headers`). */
  void fail(const std::string &path_regex, int status, int times, const nlohmann::json &headers = nlohmann::json::object()) const {
    http("POST", port_, "/__fake/fail",
         nlohmann::json{{"path", path_regex}, {"status", status}, {"times", times}, {"headers", headers}}.dump());
  }
  /** The next `times` requests whose path matches `path_regex` are answered after `seconds`. */
  void slow(const std::string &path_regex, double seconds, int times = 1) const {
    http("POST", port_, "/__fake/slow", nlohmann::json{{"path", path_regex}, {"seconds", seconds}, {"times", times}}.dump());
  }
  /** The next `times` requests whose path matches `path_regex` are answered once release() is called. */
  void hold(const std::string &path_regex, int times = 1) const {
    http("POST", port_, "/__fake/hold", nlohmann::json{{"path", path_regex}, {"times", times}}.dump());
  }
  /** The requests held now. */
  int held() const { return nlohmann::json::parse(http("GET", port_, "/__fake/held").body)["held"]; }
  /** Every request held (and those hold() will hold) is answered. */
  void release() const { http("POST", port_, "/__fake/release"); }

 private:
  unsigned short port_;
  pid_t pid_ = -1;
};

}  // namespace cartwire::testing
