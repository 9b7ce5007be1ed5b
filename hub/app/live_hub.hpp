// The running hub's configuration-dependent parts (engine and runner), and
// reloading them from hub.yaml without stopping the webhook listener or
// dropping a running job.
#pragma once

#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "engine/engine.hpp"
#include "engine/poller.hpp"
#include "engine/runner.hpp"
#include "plugins/redactor.hpp"
#include "plugins/registry.hpp"
#include "store/store.hpp"

namespace cartwire::app {

/** What the hub says to do when a part of it cannot start its threads at start-up, after which it ends. */
inline constexpr const char *kNoThreadAtStart =
    "the hub does not start; free threads (or raise its limit: ulimit -u, systemd TasksMax) and start it again";

/**
 * Why `e` was thrown: its what(), or a Poco exception's display text, whose
 * what() is only its kind ("Net Exception").
 */
std::string reason(const std::exception &e);

/**
 * "<what> (<why>)": how the start-up and a reload say that a part could not
 * start, or that a step failed; <why> is reason(e) ("Resource temporarily
 * unavailable" for a thread), secrets masked.
 */
std::string failed(const std::string &what, const std::exception &e, const plugins::Redactor &secrets);

class LiveHub {
 public:
  LiveHub(const config::HubConfig &config, plugins::Registry &registry, store::Store &store,
          plugins::HostServices &services, std::string node);
  ~LiveHub();

  /**
   * The engine of the running configuration. A request keeps the one it took
   * (and the connector versions its instances run) until it is answered; a
   * reload hands what still reaches an earlier one to the current one.
   */
  std::shared_ptr<engine::Engine> current() const;

  /**
   * Start the runner and the poller. All or nothing: when one cannot be
   * started, neither runs and the error, which names it, is thrown.
   */
  void start();
  /**
   * Stop polling and the runner: nothing new is claimed, and running polls
   * and attempts finish, those of earlier configurations still finishing after
   * a reload included.
   */
  void stop();

  /**
   * Re-read hub.yaml, load plugins added to plugins.dir, validate, and when
   * there is no error switch webhooks, the runner and the poller to the new
   * configuration. The previous runner and poller start nothing more and put
   * back the jobs they held but had not begun; the new ones start at once,
   * while the attempts and the poll under way finish on the previous
   * configuration (a source's next poll waits for its poll under way). The
   * log says when they have ended. Webhooks are answered throughout, and a
   * console request that asked for the reload is kept alive while plugins
   * load (http::keep_connection_alive). A new version of a connector runs
   * from then on; the earlier one finishes the calls under way and is
   * unloaded once the last request or attempt that uses it ends. A reload
   * refused, or failed on its way (a store error while validating), keeps the
   * previous configuration and connector versions.
   * A connector whose file is gone from plugins.dir is let go as well, or
   * refuses the reload when the new configuration uses it. Once the new
   * configuration runs, a step that fails (no thread for the new runner or
   * poller, or for the wait for the previous configuration, which is then
   * waited for here) is told in the message and logged as an error, and the
   * other steps are taken all the same: nothing escapes.
   * Returns {"ok", "message", "diagnostics", "restart_required", "connectors",
   * "removed", "finishing"} ("connectors": each connector whose version
   * changed, {"id", "version", "was"}; "removed": each connector let go for
   * its file, {"id", "version", "path"}; "finishing": {"attempts", "polls"}
   * still under way on the previous configuration).
   */
  sdk::Json reload();

  /**
   * {"loaded": [...], "removed": [...], "rejected": [...]}; each loaded one
   * with the earlier versions still finishing calls and those kept loaded for
   * a thread they left running, and each connector a reload let go for its
   * file with those of its versions, until unloaded.
   */
  sdk::Json plugins() const;
  /**
   * Whether the runner (jobs) and the poller (polled sources) of the running
   * configuration run: {"runner": {...}, "poller": {...}}, each {"running",
   * "since" (when it started or a reload could not start it), "reason" and
   * "hint" (null while it runs)}. A reload that switched to its configuration
   * but could not start one leaves it stopped until a reload starts it.
   */
  sdk::Json status() const;
  /** Validation of the running configuration. */
  config::Diagnostics check() const;
  /** Every secret of the running configuration, and the admin token. */
  std::shared_ptr<const plugins::Redactor> secrets() const;
  /**
   * 12 hex digits that tell what the running configuration does from what
   * another does: a digest of its sources, integrations (settings but the
   * secret ones) and rules. Nodes on one store compare theirs.
   */
  std::string fingerprint() const;

 private:
  /** Runs `then` once destroyed. */
  struct Finally {
    std::function<void()> then;
    ~Finally() {
      if (then) then();
    }
  };
  /** What an engine needs as long as it lives: destroyed with the last holder of the engine. */
  struct Parts {
    Finally freed;  // first, so destroyed last: after the instances, the connector versions they alone ran are freed
    std::unique_ptr<config::HubConfig> config;
    std::unique_ptr<engine::Engine> engine;
    std::unique_ptr<engine::Runner> runner;
    std::unique_ptr<engine::Poller> poller;
  };
  /** The runner's or the poller's state as status() tells it. */
  struct Running {
    bool running = false;
    int64_t since = 0;   // ms since the epoch
    std::string reason;  // why it does not run, secrets masked
  };
  struct Generation {
    std::shared_ptr<engine::Engine> engine;  // owns its Parts
    engine::Runner *runner = nullptr;
    engine::Poller *poller = nullptr;
    std::string fingerprint;
  };
  Generation build(std::unique_ptr<config::HubConfig> config);
  /**
   * A source this node left out after its poll stopped its last run, whose
   * mark in the store was ended on node `ended_on` (Poll again asked there):
   * created again as Poll again asked of this node does it, by a reload, which
   * runs on a thread of its own (the poller that calls this is one a reload
   * stops). Said once in the log.
   */
  void take_back(const std::string &source, const std::string &ended_on);
  /** The reloads take_back() asked for, one after another until none is asked; on its thread. */
  void reload_taken_back();
  config::Diagnostics validate(const config::HubConfig &config) const;
  /**
   * Waits, beside the running configuration, for what `previous` began, then
   * lets it go. When no thread can be started for that, waits here, lets it
   * go and throws what std::async threw.
   */
  void finish(Generation &previous, std::size_t attempts, bool polling, const std::string &file);

  plugins::Registry &registry_;
  store::Store &store_;
  plugins::HostServices &services_;
  std::string node_;
  mutable std::timed_mutex reload_mutex_;  // one reload (or stop) at a time
  mutable std::mutex registry_mutex_;      // guards the registry
  mutable std::mutex state_mutex_;   // guards generations_
  engine::PollsUnderWay polls_;      // shared by the pollers of every generation
  // back() is current; the earlier ones until the reload that replaced them ends.
  std::vector<Generation> generations_;
  Running runner_, poller_;  // of generations_.back(); guarded by state_mutex_
  std::mutex finishing_mutex_;  // guards finishing_
  // One per earlier configuration whose attempts or poll are still under way.
  struct Finishing {
    std::future<void> ended;
    std::weak_ptr<engine::Engine> engine;  // owns the runner
    engine::Runner *runner = nullptr;
  };
  std::vector<Finishing> finishing_;
  std::mutex taking_back_mutex_;  // guards what follows
  std::future<void> taking_back_;  // reload_taken_back()
  bool reloading_ = false;         // reload_taken_back() runs, and reloads again when reload_asked_
  bool reload_asked_ = false;
  bool stopped_ = false;  // stop() was called: no reload is started
};

}  // namespace cartwire::app
