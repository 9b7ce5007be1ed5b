#include "connector.hpp"

#include <chrono>
#include <optional>
#include <set>

#include <cartwire/sdk/secret.hpp>

#include "payload.hpp"
#include "token.hpp"

namespace cartwire::samcart {
namespace {

using sdk::WebhookReply;

Catalog read_catalog(const Json &settings) {
  Catalog catalog;
  std::string currency = sdk::upper(sdk::string_setting(settings, "currency"));
  if (!currency.empty()) {
    if (currency.size() != 3 || currency.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos)
      throw sdk::ConfigError("setting 'currency' must be a three-letter ISO 4217 code such as USD, got '" +
                             currency + "'");
    catalog.currency = currency;
  }
  const Json *types = child(settings, "item_types");
  if (!types || types->is_null()) return catalog;
  if (!types->is_object())
    throw sdk::ConfigError("setting 'item_types' must map SamCart product ids to product, bump, upsell or downsell");
  static const std::set<std::string> kKinds = {"product", "bump", "upsell", "downsell"};
  for (auto it = types->begin(); it != types->end(); ++it) {
    auto kind = text(&*it);
    if (!kind || !kKinds.count(*kind))
      throw sdk::ConfigError("setting 'item_types." + it.key() + "' must be product, bump, upsell or downsell");
    catalog.item_types[it.key()] = *kind;
  }
  return catalog;
}

}  // namespace

SamCartConnector::SamCartConnector(const Json &settings, const sdk::Host &) {
  sdk::SettingsProblems problems;
  problems.check([&] {
    token_ = sdk::string_setting(settings, "token");
    if (token_.empty())
      throw sdk::ConfigError("setting 'token' is required: the secret part of the hook URL given to SamCart");
    if (token_.size() < kMinTokenLength)
      throw sdk::ConfigError("setting 'token' must be at least " + std::to_string(kMinTokenLength) +
                             " characters: it is the only credential of the hook URL");
  });
  problems.check([&] { catalog_ = read_catalog(settings); });
  problems.done();
}

WebhookReply SamCartConnector::webhook(const sdk::Host &host, const sdk::WebhookRequest &request) {
  if (!request.trigger.empty() && request.trigger != "webhook")
    return WebhookReply::reject(404, "the SamCart connector has no trigger '" + request.trigger + "'");
  // Setup checks: answered without a token and without recording anything.
  if (auto probe = sdk::answer_probe(request, "SamCart Notify URL posts")) return *probe;

  // Notify URL posts are unsigned: the token in the URL is the credential.
  PresentedTokens presented = presented_tokens(request);
  if (!presented.any())
    return WebhookReply::reject(
        401, "the hook URL carries no token: use /hooks/<source-id>/<token> or /hooks/<source-id>?token=<token>");
  bool query_ok = presented.query && sdk::same_secret(token_, *presented.query);
  bool path_ok = presented.path && sdk::same_secret(token_, *presented.path);
  if (!query_ok && !path_ok)
    return WebhookReply::reject(401, "the token in the hook URL does not match the one configured for this source");

  sdk::JsonObjectBody decoded = sdk::parse_json_object(request.body);
  if (!decoded.object) return WebhookReply::reject(400, decoded.error);
  Json &payload = *decoded.object;
  if (payload.empty()) return WebhookReply::accept();  // an empty test post: nothing to record
  // Meaning undocumented: never authentication, possibly a credential; not stored.
  payload.erase("api_key");

  auto now = std::chrono::duration_cast<std::chrono::seconds>(host.now().time_since_epoch()).count();
  Normalized out = normalize(payload, {catalog_, static_cast<int64_t>(now), /*raw_apart=*/true});
  for (const std::string &warning : out.warnings) host.warning(warning);
  WebhookReply reply = WebhookReply::accept(std::move(out.events));
  reply.raw = std::move(payload);  // one copy of the post for all its events
  return reply;
}

}  // namespace cartwire::samcart
