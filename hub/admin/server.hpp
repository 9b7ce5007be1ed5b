// The admin listener: JSON API, console files, health and metrics, on its own
// address (127.0.0.1:8081 by default), behind the admin token or a login session.
#pragma once

#include <functional>
#include <memory>


#include "admin/auth.hpp"
#include "admin/metrics.hpp"
#include "admin/router.hpp"
#include "config/config.hpp"
#include "engine/engine.hpp"
#include "http/listener.hpp"
#include "plugins/redactor.hpp"

namespace cartwire::admin {

/** What the admin API needs from the running hub; serve() wires these. */
struct Hub {
  /** The engine that takes new webhooks now (a reload replaces it). */
  std::function<std::shared_ptr<engine::Engine>()> engine;
  /** Re-read hub.yaml and the plugins folder and switch over when valid: {"ok", "message", "diagnostics"}. */
  std::function<Json()> reload;
  /** {"loaded": [...], "rejected": [...]}. */
  std::function<Json()> plugins;
  /** Validation of the running configuration against the plugins and the cached lists. */
  std::function<config::Diagnostics()> check;
  /** Whether the runner and the poller run: {"runner": {"running", "since", "reason", "hint"}, "poller": {...}}. */
  std::function<Json()> status;
  /** Every secret value of the running configuration; scrubbed from every response as a last line of defence. */
  std::function<std::shared_ptr<const plugins::Redactor>()> secrets;
  /** This node's name (runner.node, or its host and port), as its leases and marks in the store name it. */
  std::string node;
};

/** Shared by the route handlers. */
struct Context {
  Context(Hub h, const config::AdminConfig &c, Metrics &m, std::function<int64_t()> clock)
      : hub(std::move(h)), config(c), metrics(m), sessions(c.session_ttl, clock), wrong_tokens(clock), clock_ms(std::move(clock)) {}
  Hub hub;
  config::AdminConfig config;
  Metrics &metrics;
  Sessions sessions;
  WrongTokens wrong_tokens;
  std::function<int64_t()> clock_ms;
};

class Server {
 public:
  Server(const config::AdminConfig &config, Hub hub, Metrics &metrics, std::function<int64_t()> clock_ms);
  ~Server();
  void start();
  /** Stop accepting; requests in progress are answered first. */
  void stop();
  unsigned short port() const;

  /** Answer one request (what the listener calls; also usable without sockets). */
  Response handle(Request &request);

 private:
  Response dispatch(Request &request);
  /** Counts a wrong admin token from the request's address, and says when it has made too many. */
  void count_wrong_token(const Request &request);
  std::unique_ptr<Context> context_;
  Router router_;
  std::unique_ptr<http::Listener> server_;
};

}  // namespace cartwire::admin
