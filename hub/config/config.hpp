// The hub's configuration as loaded from hub.yaml (see docs/configuration.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <cartwire/sdk/json.hpp>

#include "config/diagnostics.hpp"

#ifndef CARTWIRE_DEFAULT_WEB_DIR
#define CARTWIRE_DEFAULT_WEB_DIR "web/dist"
#endif

namespace cartwire::config {

using Json = sdk::Json;
using std::chrono::milliseconds;

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::size_t max_body_bytes = 1024 * 1024;
  milliseconds read_timeout{10000};
  int threads = 16;
};

struct StorageConfig {
  /** "sqlite" (one file, one node) or "postgresql" (a database several nodes share). */
  std::string driver = "sqlite";
  std::string path = "var/cartwire.db";
  /** sqlite: "full" (fsync every commit; survives power loss) or "normal" (survives a process crash). */
  std::string synchronous = "full";
  /** Finished jobs and their attempts older than this are removed; 0: kept for ever. */
  milliseconds retention{0};
  /** postgresql: a libpq connection string or URI; may hold a password (a secret). */
  std::string url;
  Location url_at;
};

struct RetryConfig {
  milliseconds initial_delay{5000};
  milliseconds max_delay{std::chrono::hours(6)};
  /** A job still failing this long after its first attempt is dead. */
  milliseconds horizon{std::chrono::hours(72)};
  /** 0: no limit other than the horizon. */
  int max_attempts = 0;
};

struct RunnerConfig {
  /**
   * This node's name on the jobs it leases; nodes sharing a store need
   * distinct names. Empty: the host name and the webhook port.
   */
  std::string node;
  int workers = 4;
  milliseconds lease{std::chrono::minutes(5)};
  milliseconds poll_interval{500};
  RetryConfig retry;
};

/** A configured instance of a connector: a source (webhooks in) or an integration (actions out). */
struct InstanceConfig {
  std::string id;
  std::string connector;
  Json settings = Json::object();
  Location where;
  std::map<std::string, Location> setting_lines;
  /** False when a setting could not be read (an unset ${VARIABLE}): what is there is not what was meant. */
  bool settings_complete = true;
  /** Settings whose value is the default written in the file, ${VARIABLE:-default}, VARIABLE being unset: key → VARIABLE. */
  std::map<std::string, std::string> defaulted_settings;
  /** Settings whose value names environment variables, ${VARIABLE}: key → VARIABLE (the first named). */
  std::map<std::string, std::string> setting_variables;
  /** Integrations only: the most jobs running at once (0 = no limit beyond the workers). */
  int concurrency = 0;
  /** Integrations only: rate_limit, at most rate_requests requests per rate_per (0: the connector's own). */
  int rate_requests = 0;
  milliseconds rate_per{0};
  /** Integrations only: field mapping, remote field (id, key or name) → event field path. */
  std::map<std::string, std::string> fields;
  std::map<std::string, Location> field_lines;
  /** Sources only: the trigger to use. */
  std::string trigger = "webhook";
  /** Sources with a poll trigger: how often to poll; unset means the trigger's default interval. */
  std::optional<milliseconds> every;
  Location every_line;
  /**
   * Sources only: set when the hub started with an error in this source (a setting it requires
   * missing): it takes no webhook (503) and is not polled until fixed and reloaded.
   */
  bool left_out = false;
};

struct Filter {
  enum class Op { equals, prefix, one_of, not_equals };
  std::string field;  // dotted path into the event, e.g. "item.type"
  Op op = Op::equals;
  std::vector<std::string> values;
  Location where;
};

struct Rule {
  std::string name;
  std::vector<std::string> on;  // event types; "*" matches any
  /** Set for product rules: the item reference ("product-12"), possibly a prefix ("upsell-*"). */
  std::string product;
  std::vector<Filter> where;
  std::string integration;
  std::string action;
  Json params = Json::object();  // values may hold {{templates}}
  std::map<std::string, Location> param_lines;
  Location location;
  Location do_line;                // of `do:`; the rule's first line when it has none
  std::vector<Location> on_lines;  // of each type in `on`, in order
  /** Set when the hub started with errors in this rule (or its integration): listed, never matched. */
  bool idle = false;
};

/**
 * The admin listener (JSON API, console, metrics). Off unless a token is set:
 * the token is the only credential, so it must come from the environment.
 */
struct AdminConfig {
  bool enabled = false;
  std::string host = "127.0.0.1";
  int port = 8081;
  std::string token;
  /** The environment variable admin.token names ("" without an admin.token). */
  std::string token_variable;
  milliseconds session_ttl{std::chrono::hours(12)};
  std::size_t max_body_bytes = 1024 * 1024;
  milliseconds read_timeout{10000};
  /** Lets Prometheus scrape /metrics without the token. */
  bool metrics_public = false;
  /** Static files of the web console. */
  std::string web_dir = CARTWIRE_DEFAULT_WEB_DIR;
};

struct HubConfig {
  std::string file;
  ServerConfig server;
  AdminConfig admin;
  StorageConfig storage;
  std::string plugins_dir = "plugins";
  /** plugins.native_calls: call connectors built with the hub's toolchain through C++ types, not JSON text. */
  bool native_calls = true;
  RunnerConfig runner;
  std::string log_level = "information";
  /** log.body_bytes: the execution log keeps this much of each request and response body. */
  std::size_t log_body_bytes = 16 * 1024;
  std::map<std::string, InstanceConfig> sources;
  std::map<std::string, InstanceConfig> integrations;
  std::vector<Rule> rules;
};

/** Looks up an environment variable; std::nullopt when unset. */
using EnvLookup = std::function<std::optional<std::string>(const std::string &)>;
EnvLookup process_env();

/**
 * Load and check the structure of a hub.yaml. Relative paths in it are taken
 * relative to the file's directory. Throws ConfigError listing every problem
 * with its line. Does not look at plugins: see validate().
 */
HubConfig load_config(const std::string &path, const EnvLookup &env = process_env());

/**
 * load_config for `cartwire check`, which shows every problem at once: when
 * the file parses, what loaded is returned and the loader's problems are
 * added to `problems` rather than thrown, so the rules that did load are
 * validated too. Throws ConfigError when the file cannot be read or parsed.
 * With `allow_unset`, an unset ${VARIABLE} (a CI machine without the
 * secrets) is a warning and stands for empty text; the settings of an
 * instance that has one are not tried on its connector.
 */
HubConfig load_config_for_check(const std::string &path, Diagnostics &problems, const EnvLookup &env = process_env(),
                                bool allow_unset = false);

/**
 * The connectors and the web console that came with this executable: in its
 * build tree (lib/plugins, share/cartwire/web beside it) or where `cmake
 * --install` put them (lib/cartwire/plugins, share/cartwire/web under the
 * prefix). The first folder of the two that exists; "" when neither does.
 */
std::string shipped_connectors();
std::string shipped_console();

/** Parse "500ms", "5s", "10m", "6h", "3d" (or a bare number of seconds). */
std::optional<milliseconds> parse_duration(const std::string &text);

/**
 * The candidate `word` most likely misspells, for "did you mean": the closest
 * within a few edits, else one it is the end of (job.dead for hub.job.dead).
 * Empty when none.
 */
std::string closest(const std::string &word, const std::vector<std::string> &candidates);

}  // namespace cartwire::config
