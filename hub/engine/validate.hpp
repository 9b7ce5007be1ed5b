// Checks a loaded configuration against the manifests of the loaded connectors.
#pragma once

#include <functional>

#include "config/config.hpp"
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
 * With `lists`, also checks parameters that name a resource (a course, a
 * workflow ...) and field mappings against the cached lists, warning when a
 * list is missing or stale. `now_ms` dates the staleness check.
 */
config::Diagnostics validate(const config::HubConfig &config, const plugins::Registry &registry,
                             const ListLookup &lists = nullptr, int64_t now_ms = 0);

}  // namespace cartwire::engine
