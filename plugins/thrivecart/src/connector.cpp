#include "connector.hpp"

#include <chrono>
#include <optional>

#include <cartwire/sdk/secret.hpp>

#include "csv_import.hpp"
#include "form_decoder.hpp"
#include "normalizer.hpp"
#include "payload.hpp"

namespace cartwire::thrivecart {
namespace {

using sdk::WebhookReply;

struct Decoded {
  std::optional<Json> payload;
  int status = 200;
  std::string reason;

  static Decoded ok(Json payload) { return {std::move(payload), 200, {}}; }
  static Decoded fail(int status, std::string reason) { return {std::nullopt, status, std::move(reason)}; }
};

Decoded decode_body(const sdk::WebhookRequest &request) {
  std::string type = sdk::lower(request.header("content-type"));
  type = type.substr(0, type.find(';'));
  type.erase(type.find_last_not_of(" \t") + 1);
  std::string_view body = request.body;
  std::size_t first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return Decoded::ok(Json::object());
  if (type.rfind("multipart/", 0) == 0)
    return Decoded::fail(415, "multipart bodies are not supported; ThriveCart sends form-encoded or JSON");
  bool json = type == "application/json" || (type.size() > 5 && type.ends_with("+json")) || body[first] == '{';
  if (json) {
    sdk::JsonObjectBody parsed = sdk::parse_json_object(body);  // its errors never quote the secret word
    if (!parsed.object) return Decoded::fail(400, parsed.error);
    return Decoded::ok(std::move(*parsed.object));
  }
  try {
    return Decoded::ok(decode_form(body));
  } catch (const FormError &e) {
    return Decoded::fail(400, e.what());
  }
}

}  // namespace

ThriveCartConnector::ThriveCartConnector(const Json &settings, const sdk::Host &)
    : secret_(sdk::string_setting(settings, "secret")), account_(sdk::lower(sdk::string_setting(settings, "account"))) {
  // Left out, it is a source for imports only; written and empty, a webhook source's secret word is missing.
  if (secret_.empty() && settings.contains("secret"))
    throw sdk::ConfigError("setting 'secret' is empty: write the ThriveCart secret word (Settings > API & "
                           "Webhooks), or leave the setting out for a source for imports only");
}

WebhookReply ThriveCartConnector::webhook(const sdk::Host &host, const sdk::WebhookRequest &request) {
  if (!request.trigger.empty() && request.trigger != "webhook")
    return WebhookReply::reject(404, "the ThriveCart connector has no trigger '" + request.trigger + "'");
  // ThriveCart probes a new URL with HEAD and POST and keeps it only if both answer 2xx.
  if (auto probe = sdk::answer_probe(request, "ThriveCart webhooks")) return *probe;

  Decoded decoded = decode_body(request);
  if (!decoded.payload) return WebhookReply::reject(decoded.status, decoded.reason);
  Json &payload = *decoded.payload;
  auto event = text(payload, "event");
  if (!event) {
    // ThriveCart sends [] for an empty value; a list or map with content is no name.
    const Json *given = child(payload, "event");
    if (given && given->is_structured() && !given->empty())
      return WebhookReply::reject(400, "event must be text such as order.success");
    return WebhookReply::accept();  // the setup ping: nothing to record
  }

  // A source for imports only needs no secret word (the manifest requires it of a webhook source alone), and
  // the hub sends it no webhook; were one to come, nothing verifies it.
  if (secret_.empty())
    return WebhookReply::reject(401,
                                "no secret word is set for this source (setting 'secret'): it verifies no webhook");
  auto given = text(payload, "thrivecart_secret");
  if (!given) return WebhookReply::reject(401, "thrivecart_secret is missing");
  if (!sdk::same_secret(secret_, *given))
    return WebhookReply::reject(401, "thrivecart_secret does not match the secret word configured for this source");
  if (!account_.empty()) {
    auto account = text(payload, "thrivecart_account");
    if (!account) return WebhookReply::reject(401, "thrivecart_account is missing");
    if (sdk::lower(*account) != account_)
      return WebhookReply::reject(401, "thrivecart_account '" + *account + "' is not the account configured for this source");
  }
  payload.erase("thrivecart_secret");

  auto now = std::chrono::duration_cast<std::chrono::seconds>(host.now().time_since_epoch()).count();
  NormalizeContext context{account_, static_cast<int64_t>(now)};
  context.raw_apart = true;  // one copy of the payload for all the order's events
  WebhookReply reply = WebhookReply::accept(normalize(payload, context));
  reply.raw = std::move(payload);
  return reply;
}

sdk::ImportReply ThriveCartConnector::import(const sdk::Host &host, const sdk::ImportRequest &request) {
  if (!request.trigger.empty() && request.trigger != "csv")
    return sdk::ImportReply::refuse("the ThriveCart connector has no import trigger '" + request.trigger + "'");
  auto now = std::chrono::duration_cast<std::chrono::seconds>(host.now().time_since_epoch()).count();
  return import_rows(request, {account_, static_cast<int64_t>(now)});
}

}  // namespace cartwire::thrivecart
