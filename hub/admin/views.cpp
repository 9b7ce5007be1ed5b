#include "admin/views.hpp"

#include <algorithm>

namespace cartwire::admin {
namespace {

Json time_or_null(int64_t ms) { return ms > 0 ? Json(engine::rfc3339(ms)) : Json(nullptr); }

const char *op_name(config::Filter::Op op) {
  switch (op) {
    case config::Filter::Op::equals: return "equals";
    case config::Filter::Op::prefix: return "prefix";
    case config::Filter::Op::one_of: return "one_of";
    case config::Filter::Op::not_equals: return "not_equals";
  }
  return "equals";
}

}  // namespace

Json job_json(const store::JobRow &j) {
  return {{"id", j.id},
          {"event_id", j.event_id},
          {"rule", j.rule},
          {"integration", j.integration},
          {"action", j.action},
          {"state", j.state},
          {"attempts", j.attempts},
          {"due_at", j.state == "queued" ? time_or_null(j.due_at) : Json(nullptr)},
          {"last_error", j.last_error.empty() ? Json(nullptr) : Json(j.last_error)},
          {"params", j.params}};
}

Json job_json(const store::JobSummary &s) {
  Json out = job_json(s.job);
  out["created_at"] = time_or_null(s.created_at);
  out["updated_at"] = time_or_null(s.updated_at);
  out["event"] = {{"id", s.job.event_id}, {"type", s.event_type}, {"source", s.source}, {"mode", s.mode},
                  {"email", s.email},     {"order_id", s.order_id}, {"item_reference", s.item_ref}};
  return out;
}

Json event_row_json(const store::EventRow &e) {
  return {{"id", e.id},
          {"source", e.source},
          {"type", e.type},
          {"dedupe_key", e.dedupe_key},
          {"occurred_at", e.occurred_at},
          {"received_at", time_or_null(e.received_at)},
          {"mode", e.mode},
          {"email", e.email},
          {"order_id", e.order_id},
          {"item_reference", e.item_ref},
          {"jobs", e.jobs}};
}

Json attempt_json(const store::AttemptRecord &a) {
  return {{"number", a.number},
          {"due_at", time_or_null(a.due_at)},
          {"wait_ms", a.due_at > 0 ? Json(std::max<int64_t>(0, a.started_at - a.due_at)) : Json(nullptr)},
          {"started_at", time_or_null(a.started_at)},
          {"duration_ms", a.duration_ms},
          {"outcome", a.outcome},
          {"error", a.error.empty() ? Json(nullptr) : Json(a.error)},
          {"node", a.node.empty() ? Json(nullptr) : Json(a.node)},
          {"exchanges", a.exchanges}};
}

Json replay_json(const store::ReplayRecord &r) {
  Json out = {{"at", time_or_null(r.at)}, {"rule", r.rule}, {"after_attempt", r.after_attempt}};
  if (r.rule == "current") out["replaced_params"] = r.params;
  return out;
}

Json diagnostics_json(const config::Diagnostics &d) {
  Json out = Json::array();
  for (auto &item : d.items()) {
    out.push_back({{"severity", item.severity == config::Diagnostic::Severity::error ? "error" : "warning"},
                   {"file", item.where.file},
                   {"line", item.where.line},
                   {"message", item.message},
                   {"text", item.format()}});
  }
  return out;
}

Json rule_json(const config::Rule &r) {
  Json where = Json::array();
  for (auto &f : r.where) where.push_back({{"field", f.field}, {"op", op_name(f.op)}, {"values", f.values}, {"line", f.where.line}});
  return {{"name", r.name},
          {"on", r.on},
          {"product", r.product.empty() ? Json(nullptr) : Json(r.product)},
          {"where", where},
          {"integration", r.integration},
          {"action", r.action},
          {"params", r.params},
          {"file", r.location.file},
          {"line", r.location.line},
          {"idle", r.idle}};
}

Json planned_json(const engine::PlannedJob &p) {
  return {{"rule", p.job.rule},
          {"integration", p.job.integration},
          {"action", p.job.action},
          {"params", p.job.params},
          {"fields", p.fields},
          {"ordering_key", p.job.ordering_key.empty() ? Json(nullptr) : Json(p.job.ordering_key)},
          {"integration_available", p.available},
          {"requests", p.requests},
          {"outcome", p.outcome.empty() ? Json(nullptr) : Json(p.outcome)},
          {"message", p.message}};
}

}  // namespace cartwire::admin
