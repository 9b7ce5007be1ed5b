// The JSON shapes of the admin API (documented in docs/admin-api.yaml).
#pragma once

#include <cartwire/sdk/json.hpp>

#include "config/config.hpp"
#include "config/diagnostics.hpp"
#include "engine/engine.hpp"
#include "store/store.hpp"

namespace cartwire::admin {

using Json = sdk::Json;

Json job_json(const store::JobSummary &s);
Json job_json(const store::JobRow &j);
Json event_row_json(const store::EventRow &e);
/** A replay of a job's history: when, after which attempt, by which rule, and the parameters it replaced. */
Json replay_json(const store::ReplayRecord &r);
Json attempt_json(const store::AttemptRecord &a);
Json diagnostics_json(const config::Diagnostics &d);
Json rule_json(const config::Rule &r);
Json planned_json(const engine::PlannedJob &p);

/** {"items": [...], "next": cursor or null}: `rows` holds one row more than a page when there is a next one. */
template <typename Row, typename ToJson>
Json page_json(std::vector<Row> rows, std::size_t limit, ToJson to_json, int64_t (*id_of)(const Row &)) {
  Json out = {{"items", Json::array()}, {"next", nullptr}};
  bool more = rows.size() > limit;
  if (more) rows.resize(limit);
  for (auto &r : rows) out["items"].push_back(to_json(r));
  if (more && !rows.empty()) out["next"] = std::to_string(id_of(rows.back()));
  return out;
}

}  // namespace cartwire::admin
