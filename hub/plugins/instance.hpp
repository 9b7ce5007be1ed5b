// A created connector instance (a source or an integration) and the host services it calls back into.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include <cartwire/sdk/connector.hpp>

#include "http/client.hpp"
#include "plugins/rate_gate.hpp"
#include "plugins/redactor.hpp"
#include "plugins/registry.hpp"

namespace cartwire::plugins {

/** One outbound HTTP exchange, already redacted, as stored with an attempt. */
struct Exchange {
  sdk::Json request;
  sdk::Json response;
  int64_t duration_ms = 0;
};

/** What a call gives back besides its answer: the exchanges it made. */
struct CallLog {
  std::vector<Exchange> exchanges;
};

/** Shared services for all instances: outbound HTTP, the clock, and the integrations' rate budgets. */
struct HostServices {
  http::Client client;
  std::size_t body_limit = 16 * 1024;  // recorded bodies are truncated past this (log.body_bytes)
  std::function<int64_t()> clock_ms;

  /**
   * The rate budget `name` (an instance's name, or the remote account several
   * instances share: RateLimit::shared_by): the same one for every instance
   * of that name with the same limit, so a reload (new instances) does not
   * grant a budget already spent.
   */
  std::shared_ptr<RateGate> rate_gate(const std::string &name, const RateLimit &limit) {
    int requests = limit.requests;
    std::chrono::milliseconds window(static_cast<int64_t>(limit.per_seconds * 1000));
    std::lock_guard lock(gates_mutex_);
    auto &gate = gates_[{name, requests, window.count()}];
    if (!gate) {
      gate = std::make_shared<RateGate>(requests, window);
      gate->share(nodes_);
    }
    return gate;
  }

  /** Nodes that share a store share each budget too: this node keeps its share of every one (RateGate::share). */
  void share_rate_budgets(int nodes) {
    std::lock_guard lock(gates_mutex_);
    nodes_ = nodes;
    for (auto &[key, gate] : gates_) gate->share(nodes);
  }

 private:
  std::mutex gates_mutex_;
  std::map<std::tuple<std::string, int, int64_t>, std::shared_ptr<RateGate>> gates_;
  int nodes_ = 1;  // guarded by gates_mutex_
};

struct HostAccess;

/**
 * Whether an integration's setting holds a secret: as the connector's manifest
 * says, else by the setting's name (looks_secret). `plugin` is null when the
 * connector is not loaded.
 */
bool secret_setting(const Plugin *plugin, const std::string &key);

class Instance {
 public:
  /**
   * Creates the instance, loading the connector's library if no instance has
   * yet, and keeps that library loaded while it lives (a reload may put a new
   * version in the plugin's place meanwhile); throws std::runtime_error with the reason when the library no longer
   * loads, or with the connector's message when it refuses its settings.
   * With `native_calls`, a connector built with the hub's toolchain has its
   * webhooks and actions called through the SDK's types (no JSON text).
   * `rate_limit`, when given, replaces the one the connector publishes.
   * `hub_secrets` (the admin token, other connectors' keys: engine::hub_secrets)
   * are masked wherever this instance's own are: in what it records, logs and
   * receives, and in the reason it refuses its settings.
   */
  Instance(const Plugin &plugin, std::string name, const sdk::Json &settings, HostServices &services,
           const Redactor &hub_secrets, bool native_calls = true, const RateLimit *rate_limit = nullptr);
  ~Instance();
  Instance(const Instance &) = delete;
  Instance &operator=(const Instance &) = delete;

  const std::string &name() const { return name_; }
  const Plugin &plugin() const { return plugin_; }
  const Redactor &redactor() const { return redactor_; }
  /** Whether webhooks and actions take the native seam; an action then needs the event as a tree. */
  bool native() const { return native_ != nullptr; }

  /**
   * `event_text`: the event as JSON text, sent in place of `request.event`.
   * `dry_run`: the requests the action makes are recorded in `log` and
   * answered 200 with an empty object, never sent (and cost no rate budget).
   */
  sdk::Result action(const sdk::ActionRequest &request, CallLog &log, const std::string *event_text = nullptr,
                     bool dry_run = false);
  /**
   * Before an action: zero when the integration's rate budget has room (its
   * first request is then counted already), else how long until it has.
   */
  std::chrono::milliseconds reserve_request() { return rate_gate_->reserve(); }
  /** How long until the integration's rate budget has room (zero: now); nothing is reserved. */
  std::chrono::milliseconds rate_wait() { return rate_gate_->wait(); }
  /** Requests the integration's rate budget allows now; -1 without a limit. */
  int rate_room() { return rate_gate_->room(); }
  /** The rate budget's average gap between requests (zero without a limit). */
  std::chrono::milliseconds rate_spacing() const { return rate_gate_->spacing(); }
  sdk::WebhookReply webhook(const sdk::WebhookRequest &request);
  sdk::Result list(const std::string &name, CallLog &log);
  /**
   * One call of a file import trigger. A failed call, or a connector built
   * before the SDK had file imports, comes back as a reply with an error.
   */
  sdk::ImportReply import(const sdk::ImportRequest &request);
  /** One run of a poll trigger; a failure of the call itself becomes a permanent result. */
  sdk::PollReply poll(const sdk::PollRequest &request);

  /** The settings with every secret value replaced by the mask (for the console and API). */
  sdk::Json masked_settings() const { return masked_settings_; }

 private:
  friend struct HostAccess;
  sdk::Json call(const char *operation, const sdk::Json &request, CallLog *log) {
    return call(operation, request.dump(), log);
  }
  /** `own`: the call's secrets, when they are more than the instance's (see with_url_credentials). */
  sdk::Json call(const char *operation, const std::string &wire, CallLog *log, bool dry_run = false,
                 const Redactor *own = nullptr);

  const Plugin &plugin_;
  const std::shared_ptr<const Library> library_;  // loaded until the last instance made of it is destroyed
  const cw_plugin_descriptor &descriptor_;
  const sdk::native::Entry *native_;
  std::string name_;
  HostServices &services_;
  Redactor redactor_;
  sdk::Json masked_settings_;
  std::shared_ptr<RateGate> rate_gate_;
  void *handle_ = nullptr;
};

/** The host API table handed to every plugin. */
const cw_host_api *host_api();

}  // namespace cartwire::plugins
