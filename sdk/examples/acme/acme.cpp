// Example connector for Acme, a made-up membership service, with one of each
// thing a connector offers: an action with mapped fields, a resource list, a
// signed webhook trigger and a poll trigger. Start from hello/ for less.
#include <cartwire/sdk/connector.hpp>
#include <cartwire/sdk/event.hpp>
#include <cartwire/sdk/fields.hpp>
#include <cartwire/sdk/signature.hpp>

#include "cartwire_manifest.h"

namespace {

using namespace cartwire::sdk;

// Acme's webhooks and its change feed describe a member alike.
Json member_event(const std::string &type, const std::string &dedupe_key, const Json *member,
                  const std::optional<std::string> &at) {
  Json customer = Json::object();
  for (const char *key : {"email", "first_name", "last_name"})
    if (auto value = fields::text(member, key)) customer[key] = *value;
  Json event = {{"type", type}, {"dedupe_key", dedupe_key}, {"customer", customer}};
  if (at && is_event_time(*at)) event["occurred_at"] = *at;  // else the hub writes when it stored the event
  return event;
}

class Acme : public Connector {
 public:
  Acme(const Json &settings, const Host &) {
    SettingsProblems problems;
    problems.check([&] { api_key_ = string_setting(settings, "api_key"); });
    problems.check([&] { webhook_secret_ = string_setting(settings, "webhook_secret"); });
    problems.check([&] { base_url_ = api_base_url(settings, "base_url", "https://api.acme.example/v1"); });
    problems.done();
  }

  Result action(const Host &host, const ActionRequest &request) override {
    if (request.action != "add_member") return Connector::action(host, request);
    auto email = fields::text(fields::child(request.event, "customer"), "email");
    if (!email) return Result::permanent("the event has no customer email");
    // Stable across the job's attempts: a retry after a lost answer adds no second member.
    Headers headers = {{"idempotency-key", request.job.value("idempotency_key", "")}};
    // `fields` is hub.yaml's mapping for this event, keyed by the manifest's field names.
    return send(host, "POST", "/groups/" + url_encode(request.params.value("group", "")) + "/members",
                {{"email", *email}, {"fields", request.fields}}, headers);
  }

  Result list(const Host &host, const std::string &name) override {
    if (name != "groups") return Connector::list(host, name);
    Json items = Json::array();
    // The bound keeps a remote that always has more from holding the refresh for ever.
    for (int page = 1; page <= 100; ++page) {
      Result r = send(host, "GET", "/groups?page=" + std::to_string(page));
      if (!r.is_ok()) return r;
      for (const Json &group : r.data.value("groups", Json::array()))
        if (auto id = fields::text(group, "id"))
          items.push_back({{"id", *id}, {"name", fields::text(group, "name").value_or(*id)}});
      if (!r.data.value("has_more", false)) return Result::ok({{"items", items}});
    }
    return Result::permanent("Acme GET /groups: more than 100 pages");
  }

  WebhookReply webhook(const Host &, const WebhookRequest &request) override {
    if (auto probe = answer_probe(request, "Acme webhooks")) return *probe;
    // Under an empty key anybody can sign; a 503 keeps Acme retrying until the secret is set. The manifest
    // requires it of webhook sources, but a hub before SDK 1.11 does not read that.
    if (webhook_secret_.empty()) return WebhookReply::reject(503, "setting 'webhook_secret' is not set");
    std::string given = request.header("acme-signature");
    if (given.empty()) return WebhookReply::reject(401, "Acme-Signature is missing");
    if (!same_secret("sha256=" + to_hex(hmac_sha256(webhook_secret_, request.body)), given))
      return WebhookReply::reject(401, "Acme-Signature does not match the body");
    JsonObjectBody parsed = parse_json_object(request.body);
    if (!parsed.object) return WebhookReply::reject(400, parsed.error);
    const Json &body = *parsed.object;
    auto id = fields::text(body, "id"), type = fields::text(body, "type");
    if (!id || !type) return WebhookReply::reject(422, "an Acme webhook has an \"id\" and a \"type\"");
    // Acme signs no time, so a captured request can be sent again: its event id makes it the same event.
    WebhookReply reply = WebhookReply::accept({member_event("acme." + event_type_words("acme", *type, "unknown"),
                                                            "acme:event:" + *id, fields::child(body, "member"),
                                                            fields::text(body, "created_at"))});
    reply.raw = std::move(*parsed.object);
    return reply;
  }

  PollReply poll(const Host &host, const PollRequest &request) override {
    if (request.trigger != "members_changed") return Connector::poll(host, request);
    // The cursor is Acme's own position in its feed: null on a source's first
    // poll, which reads the feed from its start.
    std::string url = "/members/changes";
    if (request.cursor.is_string()) url += "?since=" + url_encode(request.cursor.get<std::string>());
    Result r = send(host, "GET", url);
    if (!r.is_ok()) return PollReply::failed(r);
    std::vector<Json> events;
    for (const Json &change : r.data.value("changes", Json::array()))
      if (auto id = fields::text(change, "id"))
        events.push_back(member_event("acme.member.changed", "acme:change:" + *id, fields::child(change, "member"),
                                      fields::text(change, "changed_at")));
    // One page a poll: the next one starts where this one stopped.
    return PollReply::ok(std::move(events), r.data.value("next", request.cursor));
  }

 private:
  // api_key is a secret setting: the hub masks it wherever it would show (the execution log, the console, an
  // answer quoting it). classify() makes 408, 429 and 5xx retryable (after any Retry-After), 401 and 403 a
  // settings problem and any other 4xx permanent.
  Result send(const Host &host, const std::string &method, const std::string &path, const Json &body = nullptr,
              Headers headers = {}) const {
    // Webhooks need no key, so a webhook source may have none; the manifest requires it of the other uses,
    // which a hub before SDK 1.11 does not read.
    if (api_key_.empty()) return Result::config("Acme " + method + ": setting 'api_key' is not set");
    HttpRequest out;
    out.method = method;
    out.url = base_url_ + path;
    out.headers = std::move(headers);
    out.headers["authorization"] = "Bearer " + api_key_;
    if (!body.is_null()) {
      out.headers["content-type"] = "application/json";
      out.body = body.dump();
    }
    return classify(host.http(out), "Acme " + method + " " + path.substr(0, path.find('?')));
  }

  std::string api_key_, webhook_secret_, base_url_;
};

}  // namespace

CARTWIRE_CONNECTOR(Acme)
