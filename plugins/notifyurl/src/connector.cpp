#include "connector.hpp"

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Timestamp.h>

#include "delivery.hpp"
#include "payload.hpp"

namespace cartwire::notifyurl {
namespace {

using sdk::Json;
using sdk::Result;

const char *const kUserAgent = "Cartwire/1.0";

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  return Poco::DateTimeFormatter::format(Poco::Timestamp::fromEpochTime(unix_seconds(t)),
                                         Poco::DateTimeFormat::ISO8601_FORMAT);
}

/** The value of an optional parameter: nullptr when absent or null. */
const Json *param(const sdk::ActionRequest &request, const char *name) {
  if (!request.params.is_object()) return nullptr;
  auto it = request.params.find(name);
  return it == request.params.end() || it->is_null() ? nullptr : &*it;
}

}  // namespace

std::string webhook_id(const Json &job) {
  std::string key;
  if (auto it = job.find("idempotency_key"); it != job.end() && it->is_string()) key = it->get<std::string>();
  else if (auto id = job.find("id"); id != job.end() && id->is_number_integer()) key = "job_" + id->dump();
  if (key.empty()) return {};
  // '.' separates the parts of the signed content, so the spec forbids it in the
  // id; anything else unusual is replaced too, since the id travels in a header.
  for (char &c : key)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      c = '_';
  return "msg_" + key;
}

NotifyUrlConnector::NotifyUrlConnector(const Json &settings, const sdk::Host &)
    : settings_(Settings::parse(settings)) {}

Result NotifyUrlConnector::action(const sdk::Host &host, const sdk::ActionRequest &request) {
  if (request.action == "post") return post(host, request);
  return Result::permanent("notifyurl has no action '" + request.action + "' (it has: post)");
}

Result NotifyUrlConnector::post(const sdk::Host &host, const sdk::ActionRequest &request) {
  std::string url = settings_.url;
  if (const Json *override_url = param(request, "url")) {
    if (!override_url->is_string()) return Result::permanent("notifyurl: parameter 'url' must be text");
    url = override_url->get<std::string>();
    if (auto problem = url_problem(url)) return Result::permanent("notifyurl: parameter 'url' is unusable: " + *problem);
  }

  std::string what = "POST " + endpoint_of(url);
  {
    std::lock_guard lock(gone_mutex_);
    if (auto it = gone_.find(url); it != gone_.end())
      return Result::permanent(what + " not sent: the endpoint answered 410 Gone at " + it->second +
                               " (it asked to stop receiving webhooks); fix or remove the integration, reload, "
                               "then replay");
  }

  Envelope envelope;
  const Json &event = request.event;
  envelope.type = event.contains("type") ? event["type"] : Json("");
  auto now = host.now();
  // The spec's timestamp is when the event happened; the attempt time is only a fallback.
  envelope.timestamp = event.contains("occurred_at") ? event["occurred_at"] : Json(rfc3339(now));
  envelope.data = &event;
  if (const Json *data = param(request, "data")) {
    if (!data->is_object()) return Result::permanent("notifyurl: parameter 'data' must be a map");
    envelope.data = data;
  }

  std::string id = webhook_id(request.job);
  if (id.empty()) return Result::permanent("notifyurl: the job has no idempotency key to derive webhook-id from");
  std::int64_t timestamp = unix_seconds(now);

  sdk::HttpRequest out;
  out.method = "POST";
  out.url = url;
  out.timeout = settings_.timeout;
  out.headers["user-agent"] = kUserAgent;
  for (const auto &[name, value] : settings_.headers) out.headers[name] = value;
  if (settings_.format == Format::form) {
    out.body = form_body(envelope);
    out.headers["content-type"] = "application/x-www-form-urlencoded";
  } else {
    out.body = json_body(envelope);
    out.headers["content-type"] = "application/json";
  }
  out.headers["webhook-id"] = id;
  out.headers["webhook-timestamp"] = std::to_string(timestamp);
  if (settings_.signer) out.headers["webhook-signature"] = settings_.signer->sign(id, timestamp, out.body);

  sdk::HttpResponse response = host.http(out);
  Result result = classify_delivery(response, what, host.now());
  if (result.is_ok()) result.data["webhook_id"] = id;
  if (!response.transport_failed() && response.status == 410) {
    std::lock_guard lock(gone_mutex_);
    gone_.emplace(url, rfc3339(host.now()));
  }
  return result;
}

}  // namespace cartwire::notifyurl
