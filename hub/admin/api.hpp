// Route tables of the admin API, one function per area.
#pragma once

#include "admin/router.hpp"
#include "admin/server.hpp"

namespace cartwire::admin {

/** /healthz, /readyz, /metrics, /api/status, /api/login, /api/logout, /api/session. */
void add_system_routes(Router &router, Context &context);
/** /api/integrations..., /api/sources (and polling one again), /api/rules, /api/plugins, /api/reload. */
void add_config_routes(Router &router, Context &context);
/** /api/events..., /api/jobs..., replays, test events, dry runs. */
void add_log_routes(Router &router, Context &context);
/** /api/stats (counts over time) and /api/timeline (one customer's events and jobs). */
void add_insight_routes(Router &router, Context &context);

/** A route that needs the engine when the hub has none (cannot happen once serving). */
std::shared_ptr<engine::Engine> engine_of(Context &context);

/** Path parameter `i` as a positive id; nullopt when it is not one. */
std::optional<int64_t> id_param(const Request &request, std::size_t i);

}  // namespace cartwire::admin
