#include "store/rows.hpp"

#include <algorithm>

#include "store/search_sql.hpp"

namespace cartwire::store {
namespace {

std::string text_at(const Json &event, std::initializer_list<const char *> path) {
  const Json *node = &event;
  for (const char *key : path) {
    if (!node->is_object()) return {};
    auto it = node->find(key);
    if (it == node->end()) return {};
    node = &*it;
  }
  if (node->is_string()) return node->get<std::string>();
  if (node->is_number()) return node->dump();
  return {};
}

// The event's text as the API reads it back: the stored body (no id, no
// raw) with its id and raw put in front, without building the tree again.
std::string event_text(int64_t id, const std::string &body, const std::string *raw) {
  std::string text = "{\"id\":" + std::to_string(id);
  if (raw) text += ",\"raw\":" + *raw;
  if (body.size() > 2) text += "," + body.substr(1);
  else text += "}";
  return text;
}

}  // namespace

const char *to_string(JobState state) {
  switch (state) {
    case JobState::queued: return "queued";
    case JobState::running: return "running";
    case JobState::succeeded: return "succeeded";
    case JobState::failed: return "failed";
    case JobState::dead: return "dead";
  }
  return "failed";
}

std::vector<Accepted> insert_events(AcceptWrites &writes, std::vector<NewEvent> &events, int64_t now_ms) {
  std::vector<Accepted> out;
  const Json *last_raw = nullptr;
  const Json *last_shared = nullptr;
  std::optional<int64_t> last_payload;
  std::string raw_text;  // of the payload last written
  for (auto &ne : events) {
    Json &e = ne.event;
    EventColumns row;
    row.dedupe_key = e.value("dedupe_key", "");
    row.source = e.value("source", "");
    row.type = e.value("type", "");
    row.occurred_at = e.value("occurred_at", "");
    row.mode = e.value("mode", "live");
    row.email = ascii_lower(text_at(e, {"customer", "email"}));
    row.order_id = text_at(e, {"order", "id"});
    row.item_ref = text_at(e, {"item", "reference"});
    row.received_at = now_ms;
    Accepted a;
    std::optional<int64_t> stored = writes.stored_event(row.dedupe_key);
    if (!stored && !ne.alternatives.empty()) {
      stored = writes.stored_event(ne.alternatives);
      a.under_alternative = stored.has_value();
    }
    if (stored) {
      a.event_id = *stored;
      a.duplicate = true;
      out.push_back(a);
      continue;
    }
    // The body is stored without its raw: moved out for the dump and back.
    Json raw;
    if (ne.raw) {
      if (ne.raw != last_shared) last_payload = writes.insert_payload(raw_text = ne.raw->dump());
      last_shared = ne.raw;
      last_raw = nullptr;
      row.payload_id = last_payload;
    } else if (auto it = e.find("raw"); it != e.end()) {
      last_shared = nullptr;
      if (!last_raw || *last_raw != *it) last_payload = writes.insert_payload(raw_text = it->dump());
      row.payload_id = last_payload;
      raw = std::move(*it);
      e.erase(it);
    }
    e.erase("id");  // the store numbers events; a connector's own `id` is not kept
    row.body = e.dump();
    if (row.payload_id && !ne.raw) last_raw = &(e["raw"] = std::move(raw));
    a.event_id = writes.insert_event(row);
    bool leased = std::any_of(ne.jobs.begin(), ne.jobs.end(), [](auto &j) { return !j.lease_owner.empty(); });
    if (leased) a.text = event_text(a.event_id, row.body, row.payload_id ? &raw_text : nullptr);
    e["id"] = a.event_id;
    for (auto &job : ne.jobs) {
      a.job_ids.push_back(writes.insert_job(a.event_id, job, job.params.dump(), now_ms));
      ++a.jobs;
    }
    out.push_back(a);
  }
  return out;
}

Json with_payload(const std::string &body, const std::string &payload) {
  Json e = Json::parse(body, nullptr, false);
  if (!payload.empty() && e.is_object()) e["raw"] = Json::parse(payload, nullptr, false);
  return e;
}

std::vector<std::string> ClaimLimits::excluded() const {
  std::vector<std::string> out;
  for (auto &[integration, n] : room_)
    if (n <= 0) out.push_back(integration);
  for (auto &[integration, max] : concurrency_) {
    if (max <= 0) continue;
    auto it = running_.find(integration);
    if (it != running_.end() && it->second >= max) out.push_back(integration);
  }
  return out;
}

bool ClaimLimits::take(const std::string &integration) {
  if (auto it = concurrency_.find(integration); it != concurrency_.end() && it->second > 0) {
    if (running_[integration] >= it->second) return false;
  }
  if (auto it = room_.find(integration); it != room_.end()) {
    if (taken_[integration] >= it->second) return false;
    ++taken_[integration];
  }
  if (auto it = concurrency_.find(integration); it != concurrency_.end() && it->second > 0) ++running_[integration];
  return true;
}

}  // namespace cartwire::store
