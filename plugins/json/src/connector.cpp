#include "connector.hpp"

#include <chrono>

#include <cartwire/sdk/event.hpp>
#include <cartwire/sdk/file_import.hpp>

#include "signer.hpp"

namespace cartwire::json {
namespace {

using sdk::Json;

// One event of the body as the hub stores it, or why it cannot be one.
// `namespace_` starts each dedupe key: "json:<source>:" (a hub before SDK 1.6 names no source: "json:").
std::string make_event(Json &event, const std::string &namespace_, const std::string &fallback_key) {
  if (std::string problem = sdk::event_problem(event); !problem.empty()) return problem;
  std::string key = event.value("dedupe_key", "");
  // Apart from the carts' keys (a hub fed by another keeps both) and from
  // other sources' keys, and the sender's own keys apart from those made of
  // a message's webhook-id.
  event["dedupe_key"] = namespace_ + (key.empty() ? "m:" + fallback_key : "k:" + key);
  // The hub's, and the keys of other facts that would keep the event out (its sender names none).
  for (const char *reserved : {"id", "source", "raw", sdk::kDedupeAlternatives}) event.erase(reserved);
  return {};
}

}  // namespace

JsonConnector::JsonConnector(const Json &settings, const sdk::Host &) : secret_(sdk::string_setting(settings, "secret")) {
  if (secret_.empty()) throw sdk::ConfigError("setting 'secret' is required: the Standard Webhooks secret shared with the sender");
  try {
    std::size_t bytes = notifyurl::decode_secret(secret_).size();
    if (bytes < notifyurl::kMinSecretBytes || bytes > notifyurl::kMaxSecretBytes)
      throw sdk::ConfigError("setting 'secret' must hold 24 to 64 bytes (Standard Webhooks); this one holds " +
                             std::to_string(bytes));
  } catch (const notifyurl::SecretError &e) {
    throw sdk::ConfigError(std::string("setting 'secret': ") + e.what());
  }
}

sdk::WebhookReply JsonConnector::webhook(const sdk::Host &host, const sdk::WebhookRequest &request) {
  using sdk::WebhookReply;
  if (request.method != "POST") return WebhookReply::reject(405, "events are POSTed");
  for (const char *name : {"webhook-id", "webhook-timestamp", "webhook-signature"})
    if (request.header(name).empty())
      return WebhookReply::reject(401, std::string("Standard Webhooks signature: the ") + name + " header is missing");
  auto now = std::chrono::duration_cast<std::chrono::seconds>(host.now().time_since_epoch()).count();
  notifyurl::Verdict verdict = notifyurl::verify(secret_, request.headers, request.body, now);
  if (verdict != notifyurl::Verdict::valid)
    return WebhookReply::reject(401, std::string("Standard Webhooks signature: ") + notifyurl::to_string(verdict));

  sdk::JsonObjectBody parsed = sdk::parse_json_object(request.body);
  if (!parsed.object) return WebhookReply::reject(400, parsed.error);
  Json &body = *parsed.object;
  Json raw = body;  // what the sender posted, stored once for its events
  std::vector<Json> events;
  if (body.contains("events")) {
    if (!body["events"].is_array() || body["events"].empty() || body["events"].size() > kMaxEvents)
      return WebhookReply::reject(400, "\"events\" must be a list of 1 to " + std::to_string(kMaxEvents) + " events");
    for (auto &event : body["events"]) events.push_back(std::move(event));
  } else if (body.contains("data") && body.contains("timestamp")) {
    events.push_back(std::move(body["data"]));  // a Notify URL post: its data is the event
  } else {
    events.push_back(std::move(body));
  }
  // Without a key of their own, events are known by the delivery's webhook-id (the sender keeps it on a retry).
  std::string id = request.header("webhook-id");
  std::string namespace_ = request.source.empty() ? "json:" : "json:" + request.source + ":";
  for (std::size_t i = 0; i < events.size(); ++i) {
    std::string fallback = events.size() == 1 ? id : id + ":" + std::to_string(i);
    if (std::string problem = make_event(events[i], namespace_, fallback); !problem.empty())
      return WebhookReply::reject(422, (events.size() == 1 ? "" : "event " + std::to_string(i) + ": ") + problem);
  }
  WebhookReply reply = WebhookReply::accept(std::move(events));
  reply.raw = std::move(raw);
  return reply;
}

}  // namespace cartwire::json
