// Integrations (settings masked), their resource lists, sources, rules as
// loaded, plugins, reloading the configuration, and polling again a source left
// out after a crash.
#include <chrono>

#include <Poco/Logger.h>

#include "admin/api.hpp"
#include "admin/views.hpp"
#include "engine/poller.hpp"
#include "engine/validate.hpp"
#include "http/listener.hpp"
#include "plugins/crash_note.hpp"

namespace cartwire::admin {
namespace {

Poco::Logger &config_log() { return Poco::Logger::get("admin"); }

std::string unavailable_reason(const engine::Engine &e, const std::string &kind, const std::string &id) {
  for (auto &u : e.unavailable())
    if (u.id == id && u.reason.rfind(kind + " '", 0) == 0) return u.reason;
  return {};
}

// A poll source's last poll and next one, as the store has them.
Json poll_json(const std::optional<store::PollStatus> &status, std::chrono::milliseconds every) {
  Json out = {{"every_ms", every.count()}, {"polled_at", nullptr}, {"next_at", nullptr}, {"failures", 0},
              {"last_error", nullptr}, {"polling_node", nullptr}};
  if (!status) return out;
  if (status->polled_at) out["polled_at"] = engine::rfc3339(*status->polled_at);
  out["next_at"] = engine::rfc3339(status->next_at);
  out["failures"] = status->failures;
  if (!status->last_error.empty()) out["last_error"] = status->last_error;
  if (!status->polling_node.empty()) out["polling_node"] = status->polling_node;
  return out;
}

// Whether the store leaves `id` out, with the settings it has now, after its poll stopped a node: no node polls it.
bool left_out_in_store(const std::optional<store::PollStatus> &status, const config::InstanceConfig &cfg) {
  return status && !status->left_out.empty() && status->left_out_settings == engine::settings_digest(cfg.settings);
}

// Whether this node left `id` out of its run after its poll (or its creation) stopped the last one.
bool left_out_here(const std::string &id, const config::InstanceConfig &cfg) {
  return !plugins::crash_note::refusal(id, cfg.settings.dump()).empty();
}

// A source as GET /api/sources lists it.
Json source_json(Context &c, engine::Engine &e, const std::string &id, const config::InstanceConfig &cfg) {
  std::string reason = unavailable_reason(e, "source", id);
  Json source = {{"id", id},     {"connector", cfg.connector},     {"trigger", cfg.trigger},
                 {"kind", nullptr}, {"path", nullptr}, {"available", reason.empty()},
                 {"reason", reason.empty() ? Json(nullptr) : Json(reason)}, {"left_out", false}};
  const plugins::Instance *src = e.source(id);
  const plugins::TriggerSpec *t = src ? src->plugin().manifest.trigger(cfg.trigger) : nullptr;
  if (t) source["kind"] = t->kind;
  // The URL the cart is given, as its connector describes it (SamCart's carries its token); a
  // polled source has none. Unknown while the connector is unavailable: it is a webhook then.
  if (!t || t->kind == "webhook") source["path"] = "/hooks/" + id + (t ? t->path : "");
  // Left out by this node after its poll (or its creation) stopped the last run.
  if (left_out_here(id, cfg)) source["left_out"] = true;
  if (t && t->kind == "poll") {
    auto status = e.store().poll_status(id, c.clock_ms());
    source["poll"] = poll_json(status, engine::Poller::interval(cfg, *t));
    // Left out by the store, with these settings, after its poll stopped a node: no node polls it.
    if (left_out_in_store(status, cfg)) {
      source["available"] = false;
      source["reason"] = "source '" + id + "' is left out: " + status->left_out;
      source["left_out"] = true;
    }
  }
  return source;
}

// Polls again a source left out after its poll stopped a node: its mark in the store ends, for every node, and
// this node creates it again (a reload), should it have left it out itself.
Response poll_again(Context &c, Request &req) {
  const std::string &id = req.params[0];
  auto e = engine_of(c);
  auto it = e->config().sources.find(id);
  if (it == e->config().sources.end()) return Response::error(404, "no source '" + id + "' in " + e->config().file);
  const config::InstanceConfig &cfg = it->second;
  bool marked = left_out_in_store(e->store().poll_status(id, c.clock_ms()), cfg);
  bool refused = left_out_here(id, cfg);
  if (!marked && !refused) {
    std::string why = unavailable_reason(*e, "source", id);
    if (why.empty()) {
      const plugins::Instance *src = e->source(id);
      const plugins::TriggerSpec *t = src ? src->plugin().manifest.trigger(cfg.trigger) : nullptr;
      why = t && t->kind == "poll" ? ": it is polled as usual" : ": it takes its webhooks as usual";
    } else {
      why = "; " + why;
    }
    return Response::error(409, "source '" + id + "' is not left out after a crash" + why);
  }
  std::optional<std::string> by = e->store().end_left_out_poll(id, c.hub.node);
  std::string said = "source '" + id + "' is polled again, as asked by " + req.by + ": ";
  said += by ? "its mark in the store, recorded by node '" + *by + "', is ended for every node"
              : std::string("it had no mark in the store");
  if (refused) {
    plugins::crash_note::allow_creating(id);
    said += "; this node creates it again (a reload)";
  }
  config_log().warning(said);
  Json answer = {{"ok", true}, {"message", said}};
  if (refused) {
    Json reload = c.hub.reload();
    answer["ok"] = reload.value("ok", false);
    if (!answer["ok"].get<bool>())
      answer["message"] = said + "; but the reload was refused, so this node does not poll it yet: " +
                          reload.value("message", std::string());
    answer["reload"] = reload;
    e = engine_of(c);
  }
  auto now = e->config().sources.find(id);
  if (now != e->config().sources.end()) answer["source"] = source_json(c, *e, id, now->second);
  return Response::of(200, answer);
}

Json lists_json(engine::Engine &e, const std::string &id, const plugins::Instance &inst, int64_t now) {
  Json out = Json::array();
  for (auto &spec : inst.plugin().manifest.lists) {
    auto cached = e.store().load_list(id, spec.name);
    Json l = {{"name", spec.name}, {"description", spec.description}, {"count", 0}, {"refreshed_at", nullptr},
              {"stale", true}};
    if (cached) {
      l["count"] = cached->items.size();
      l["refreshed_at"] = engine::rfc3339(cached->refreshed_at);
      l["stale"] = now - cached->refreshed_at > engine::kStaleListMs;
    }
    out.push_back(l);
  }
  return out;
}

Json integration_json(engine::Engine &e, const config::InstanceConfig &cfg, int64_t now, bool detail) {
  Json out = {{"id", cfg.id}, {"connector", cfg.connector}, {"concurrency", cfg.concurrency}};
  plugins::Instance *inst = e.integration(cfg.id);
  out["available"] = inst != nullptr;
  if (!inst) {
    // Without the connector nothing says which settings are secret: show none.
    out["reason"] = unavailable_reason(e, "integration", cfg.id);
    out["settings"] = nullptr;
    out["lists"] = Json::array();
    out["actions"] = Json::array();
    return out;
  }
  const auto &m = inst->plugin().manifest;
  out["reason"] = nullptr;
  out["settings"] = inst->masked_settings();
  out["connector_version"] = m.version;
  out["lists"] = lists_json(e, cfg.id, *inst, now);
  Json actions = Json::array();
  for (auto &a : m.actions) actions.push_back(a.name);
  out["actions"] = actions;
  if (detail) {
    Json fields = Json::object();
    for (auto &[remote, path] : cfg.fields) fields[remote] = path;
    out["fields"] = fields;
  }
  return out;
}

// Why `name` is no list of the connector's, or "" when it is one.
std::string no_list(const plugins::Instance &inst, const std::string &name) {
  const auto &m = inst.plugin().manifest;
  return m.list(name) ? "" : "connector " + m.id + " has no list '" + name + "'";
}

Json refresh_one(engine::Engine &e, plugins::Instance &inst, const std::string &id, const std::string &name, int64_t now) {
  auto started = std::chrono::steady_clock::now();
  plugins::CallLog log;
  // A list is fetched page by page at the remote's rate limit, which can take
  // longer than admin.read_timeout: the connection is kept so that the answer
  // reaches the client.
  sdk::Result r = http::keeping_connection_alive([&] { return inst.list(name, log); });
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  Json items = r.data.is_object() ? r.data.value("items", Json()) : Json();
  Json out = {{"name", name}, {"requests", log.exchanges.size()}, {"duration_ms", ms}};
  if (!r.is_ok() || !items.is_array()) {
    out["ok"] = false;
    out["outcome"] = sdk::to_string(r.outcome);
    out["error"] = r.message.empty() ? "the connector returned no items" : r.message;
    return out;
  }
  e.store().save_list(id, name, items, now);
  out["ok"] = true;
  out["count"] = items.size();
  return out;
}

Response refresh(Context &c, const std::string &id, std::vector<std::string> names) {
  auto e = engine_of(c);
  if (!e->config().integrations.count(id)) return Response::error(404, "no integration '" + id + "'");
  plugins::Instance *inst = e->integration(id);
  if (!inst) return Response::error(409, unavailable_reason(*e, "integration", id));
  const auto &m = inst->plugin().manifest;
  if (names.empty())
    for (auto &l : m.lists) names.push_back(l.name);
  for (auto &n : names)
    if (std::string reason = no_list(*inst, n); !reason.empty()) return Response::error(404, reason);
  Json results = Json::array();
  bool all_ok = true;
  for (auto &n : names) {
    results.push_back(refresh_one(*e, *inst, id, n, c.clock_ms()));
    all_ok = all_ok && results.back()["ok"].get<bool>();
  }
  return Response::of(all_ok ? 200 : 502, {{"integration", id}, {"lists", results}});
}

}  // namespace

void add_config_routes(Router &router, Context &c) {
  router.add("GET", "/api/integrations", [&c](Request &) {
    auto e = engine_of(c);
    Json out = Json::array();
    for (auto &[id, cfg] : e->config().integrations) out.push_back(integration_json(*e, cfg, c.clock_ms(), false));
    return Response::of(200, {{"items", out}});
  });

  router.add("GET", "/api/integrations/{id}", [&c](Request &req) {
    auto e = engine_of(c);
    auto it = e->config().integrations.find(req.params[0]);
    if (it == e->config().integrations.end()) return Response::error(404, "no integration '" + req.params[0] + "'");
    return Response::of(200, integration_json(*e, it->second, c.clock_ms(), true));
  });

  router.add("GET", "/api/integrations/{id}/lists/{name}", [&c](Request &req) {
    auto e = engine_of(c);
    if (!e->config().integrations.count(req.params[0]))
      return Response::error(404, "no integration '" + req.params[0] + "'");
    // Without the connector (the integration is unavailable) only the cache can say.
    if (const plugins::Instance *inst = e->integration(req.params[0]))
      if (std::string reason = no_list(*inst, req.params[1]); !reason.empty()) return Response::error(404, reason);
    auto cached = e->store().load_list(req.params[0], req.params[1]);
    if (!cached) return Response::error(404, "the list was never fetched; POST .../lists/" + req.params[1] + "/refresh");
    return Response::of(200, {{"integration", req.params[0]}, {"name", req.params[1]},
                              {"refreshed_at", engine::rfc3339(cached->refreshed_at)}, {"items", cached->items}});
  });

  router.add("POST", "/api/integrations/{id}/lists/refresh", [&c](Request &req) {
    Json body = req.json_body();
    std::vector<std::string> names;
    if (body.contains("lists")) {
      if (!body["lists"].is_array()) throw std::invalid_argument("lists must be an array of list names");
      for (auto &n : body["lists"]) {
        if (!n.is_string()) throw std::invalid_argument("lists must be an array of list names");
        names.push_back(n.get<std::string>());
      }
    }
    return refresh(c, req.params[0], names);
  });

  router.add("POST", "/api/integrations/{id}/lists/{name}/refresh",
             [&c](Request &req) { return refresh(c, req.params[0], {req.params[1]}); });

  router.add("GET", "/api/sources", [&c](Request &) {
    auto e = engine_of(c);
    Json out = Json::array();
    for (auto &[id, cfg] : e->config().sources) out.push_back(source_json(c, *e, id, cfg));
    return Response::of(200, {{"items", out}});
  });

  router.add("POST", "/api/sources/{id}/poll-again", [&c](Request &req) { return poll_again(c, req); });

  router.add("GET", "/api/rules", [&c](Request &) {
    auto e = engine_of(c);
    Json rules = Json::array();
    for (auto &r : e->config().rules) rules.push_back(rule_json(r));
    config::Diagnostics d = c.hub.check();
    std::size_t errors = d.errors();
    return Response::of(200, {{"file", e->config().file}, {"items", rules}, {"diagnostics", diagnostics_json(d)},
                              {"errors", errors}, {"warnings", d.items().size() - errors}});
  });

  router.add("GET", "/api/plugins", [&c](Request &) { return Response::of(200, c.hub.plugins()); });

  router.add("POST", "/api/reload", [&c](Request &) {
    Json result = c.hub.reload();
    return Response::of(result.value("ok", false) ? 200 : 422, result);
  });
}

}  // namespace cartwire::admin
