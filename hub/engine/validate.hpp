// Checks a loaded configuration against the manifests of the loaded connectors.
#pragma once

#include <functional>
#include <set>

#include "config/config.hpp"
#include "plugins/instance.hpp"
#include "plugins/registry.hpp"
#include "store/store.hpp"

namespace cartwire::engine {

/**
 * Every problem a hub.yaml can have once the plugins are known: unknown
 * connectors, missing or unknown settings, unknown integrations and actions in
 * rules, missing or unknown parameters, wrongly typed values.
 */
/** Reads a cached resource list (integration, list name); nullopt when never refreshed. */
using ListLookup = std::function<std::optional<store::CachedList>(const std::string &, const std::string &)>;

/** A cached list older than this draws a warning naming the refresh command. */
inline constexpr int64_t kStaleListMs = 24LL * 3600 * 1000;

/**
 * Whether a connector takes an instance's settings: nullopt when it does,
 * else its reason (see instance_probe).
 */
using SettingsProbe =
    std::function<std::optional<std::string>(const plugins::Plugin &, const config::InstanceConfig &)>;

/**
 * A probe that creates an instance of `config`'s with its settings, as the
 * engine will, and drops it: a connector checks more than its manifest says (a
 * token's length, a URL, a secret's encoding). Its reason has the hub's
 * secrets masked.
 */
SettingsProbe instance_probe(plugins::HostServices &services, const config::HubConfig &config,
                             const plugins::Registry &registry);

/**
 * With `lists`, also checks parameters that name a resource (a course, a
 * workflow ...) and field mappings against the cached lists, warning when a
 * list is missing or stale. `now_ms` dates the staleness check. With `probe`,
 * settings that pass the manifest's checks are offered to the connector too.
 * With `broken_rules`, the indices of the rules that have an error, or whose
 * integration has one, are added to it; an item missing from a cached list
 * (which may only need a refresh) does not count. With `broken_sources`, the
 * ids of the sources that have an error are added to it.
 */
config::Diagnostics validate(const config::HubConfig &config, const plugins::Registry &registry,
                             const ListLookup &lists = nullptr, int64_t now_ms = 0,
                             const SettingsProbe &probe = nullptr, std::set<std::size_t> *broken_rules = nullptr,
                             std::set<std::string> *broken_sources = nullptr);

}  // namespace cartwire::engine
