/**
 * @file webhook.hpp
 * Webhook triggers: an inbound HTTP request in, a reply and events out.
 */
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cartwire/sdk/http.hpp"
#include "cartwire/sdk/json.hpp"

namespace cartwire::sdk {

/** An inbound request to `/hooks/<source-id>`, as the hub received it. */
struct WebhookRequest {
  /** Name of the trigger in the manifest (usually "webhook"). */
  std::string trigger;
  /**
   * The id of the source the request was sent to (`/hooks/<source-id>`, its
   * key under `sources:` in hub.yaml), set by hubs since SDK 1.6.0; empty
   * from an older hub. Sources of one connector share the hub's dedupe keys:
   * a connector whose senders name their own keys can keep each source's apart
   * with it.
   */
  std::string source;
  std::string method;
  /** The path after the source id, e.g. "" or "/extra". */
  std::string path;
  std::map<std::string, std::string> query;
  Headers headers;
  /** The raw body bytes. */
  std::string body;

  std::string header(const std::string &name) const {
    auto it = headers.find(lower(name));
    return it == headers.end() ? std::string() : it->second;
  }

  static WebhookRequest from_json(const Json &j) {
    WebhookRequest r;
    r.trigger = j.value("trigger", "");
    r.source = j.value("source", "");
    r.method = j.value("method", "POST");
    r.path = j.value("path", "");
    for (auto &[k, v] : object_at(j, "query").items())
      if (v.is_string()) r.query[k] = v.get<std::string>();
    for (auto &[k, v] : object_at(j, "headers").items())
      if (v.is_string()) r.headers[lower(k)] = v.get<std::string>();
    r.body = j.value("body", "");
    return r;
  }
  /** `share_raw`: the reply may carry a `raw` common to its events once (the hub asks for it, since SDK 1.2). */
  Json to_json(bool share_raw = false) const {
    Json j = {{"trigger", trigger}, {"source", source}, {"method", method}, {"path", path},
              {"query", query}, {"headers", headers}, {"body", body}};
    if (share_raw) j["share_raw"] = true;
    return j;
  }
};

/**
 * What the trigger makes of a request.
 *
 * `events` are canonical events (docs/events.md): each needs at least `type`
 * and `dedupe_key`; the hub adds `id` and `source`. The hub answers the
 * sender with `status` and `body` only after the events and their jobs are
 * durably stored; if storing fails it answers 503 instead.
 */
struct WebhookReply {
  int status = 200;
  std::string body = "{\"ok\":true}";
  std::string content_type = "application/json";
  std::vector<Json> events;
  /**
   * The source's payload, when it is the same for every event (SDK 1.4.0): set
   * it here once instead of as each event's `raw`, and each event reads it as
   * its `raw`. An order of three items then holds, sends and stores one copy.
   * Null when the events carry their own `raw`, or none.
   */
  Json raw;

  /** Accept the request and emit `events` (possibly none, e.g. for a ping). */
  static WebhookReply accept(std::vector<Json> events = {}) {
    WebhookReply r;
    r.events = std::move(events);
    return r;
  }
  /** Refuse the request; nothing is stored. `reason` reaches the sender. */
  static WebhookReply reject(int status, const std::string &reason) {
    WebhookReply r;
    r.status = status;
    r.body = error_text(reason);
    return r;
  }

  Json to_json() const {
    Json j = {{"status", status}, {"body", body}, {"content_type", content_type}, {"events", events}};
    if (!raw.is_null()) j["raw"] = raw;
    return j;
  }

  /**
   * The reply as sent across the plugin boundary; consumes the reply, whose
   * events move into the message instead of being copied. With `share_raw`
   * (the hub asks for it), a `raw` that every event carries is written once
   * beside the events instead of once per event: an order of three items is
   * one payload, not three. from_json puts it back into each event.
   */
  std::string dump(bool share_raw) && {
    Json wire = {{"status", status}, {"body", std::move(body)}, {"content_type", std::move(content_type)}};
    if (!raw.is_null()) {
      if (share_raw) wire["raw"] = std::move(raw);
      else give_raw_to_events(raw);  // a hub older than SDK 1.2 reads `raw` per event
    } else if (share_raw && events.size() > 1 && all_share_raw()) {
      wire["raw"] = std::move(events.front()["raw"]);
      for (auto &e : events) e.erase("raw");
    }
    wire["events"] = std::move(events);
    return wire.dump();
  }

  /**
   * The reply as read from the plugin boundary. A shared `raw` goes back into
   * each event, unless `keep_raw_shared`: then it stays in `raw` (the hub
   * stores it once and lends it to each event while it matches rules).
   */
  static WebhookReply from_json(const Json &j) { return from_json(Json(j)); }
  static WebhookReply from_json(Json &&j, bool keep_raw_shared = false) {
    WebhookReply r;
    r.status = j.value("status", 500);
    r.body = j.value("body", "");
    r.content_type = j.value("content_type", "application/json");
    if (auto it = j.find("raw"); it != j.end()) r.raw = std::move(*it);
    if (auto it = j.find("events"); it != j.end() && it->is_array()) {
      r.events.reserve(it->size());
      for (auto &e : *it) r.events.push_back(std::move(e));
    }
    if (!keep_raw_shared && !r.raw.is_null()) {
      r.give_raw_to_events(r.raw);
      r.raw = nullptr;
    }
    return r;
  }

 private:
  void give_raw_to_events(const Json &shared) {
    for (auto &e : events)
      if (e.is_object() && !e.contains("raw")) e["raw"] = shared;
  }

  bool all_share_raw() const {
    const Json &first = events.front();
    if (!first.is_object() || !first.contains("raw")) return false;
    for (auto &e : events)
      if (!e.is_object() || !e.contains("raw") || e["raw"] != first["raw"]) return false;
    return true;
  }
};

/**
 * The probes a cart sends to a webhook URL before it uses it: HEAD gets a 200
 * without a body and GET a 200, nothing stored; POST gets nullopt (the
 * caller reads it); any other method gets a 405 saying what `posts` are
 * ("ThriveCart webhooks" are POST requests, not PUT).
 */
inline std::optional<WebhookReply> answer_probe(const WebhookRequest &request, const std::string &posts) {
  std::string method = upper(request.method);
  if (method == "POST") return std::nullopt;
  if (method == "GET") return WebhookReply::accept();
  if (method == "HEAD") {
    WebhookReply reply = WebhookReply::accept();
    reply.body.clear();
    return reply;
  }
  return WebhookReply::reject(405, posts + " are POST requests, not " + method);
}

}  // namespace cartwire::sdk
