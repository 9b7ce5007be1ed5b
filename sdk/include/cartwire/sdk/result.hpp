/**
 * @file result.hpp
 * How an operation ended, in the four classes the hub acts on.
 */
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "cartwire/sdk/json.hpp"

namespace cartwire::sdk {

/** The class of an outcome; it decides what the hub does next. */
enum class Outcome {
  /** Done. The job succeeds. */
  ok,
  /** Failed for a reason that may pass (network error, timeout, 5xx, 429, 408).
   *  The hub retries with exponential back-off, honouring `retry_after`. */
  retryable,
  /** Failed for good (other 4xx, validation). The hub does not retry. */
  permanent,
  /** The integration's settings are wrong (bad credentials, unknown account).
   *  Not retried; shown on the console as a configuration problem. */
  config,
};

/** Text form used on the wire and in the store: "ok", "retryable", "permanent", "config". */
const char *to_string(Outcome outcome);
/** Parse the text form; unknown text yields std::nullopt. */
std::optional<Outcome> outcome_from_string(const std::string &text);

/**
 * The result of an action or list operation.
 *
 * Build one with the named constructors:
 * @code
 *   return Result::ok({{"enrollment_id", 77}});
 *   return Result::retryable("HTTP 503 from Thinkific", std::chrono::seconds(30));
 *   return Result::permanent("course 42 does not exist");
 * @endcode
 */
struct Result {
  Outcome outcome = Outcome::ok;
  /** Human-readable reason; empty for ok. Never include secrets. */
  std::string message;
  /** For retryable results: the earliest time to try again (e.g. a Retry-After). */
  std::optional<std::chrono::milliseconds> retry_after;
  /** Output data of the operation (for actions: anything worth showing in the log). */
  Json data = Json::object();

  static Result ok(Json data = Json::object()) { return {Outcome::ok, {}, std::nullopt, std::move(data)}; }
  static Result retryable(std::string message,
                          std::optional<std::chrono::milliseconds> retry_after = std::nullopt) {
    return {Outcome::retryable, std::move(message), retry_after, Json::object()};
  }
  static Result permanent(std::string message) {
    return {Outcome::permanent, std::move(message), std::nullopt, Json::object()};
  }
  static Result config(std::string message) {
    return {Outcome::config, std::move(message), std::nullopt, Json::object()};
  }

  bool is_ok() const { return outcome == Outcome::ok; }

  /** Wire form: {"status": "...", "message": "...", "retry_after_ms": N, "data": {...}}. */
  Json to_json() const;
  /** Inverse of to_json(); a malformed document becomes a permanent result saying so. */
  static Result from_json(const Json &json);
};

inline const char *to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::ok: return "ok";
    case Outcome::retryable: return "retryable";
    case Outcome::permanent: return "permanent";
    case Outcome::config: return "config";
  }
  return "permanent";
}

inline std::optional<Outcome> outcome_from_string(const std::string &text) {
  if (text == "ok") return Outcome::ok;
  if (text == "retryable") return Outcome::retryable;
  if (text == "permanent") return Outcome::permanent;
  if (text == "config") return Outcome::config;
  return std::nullopt;
}

inline Json Result::to_json() const {
  Json out = {{"status", to_string(outcome)}, {"data", data}};
  if (!message.empty()) out["message"] = message;
  if (retry_after) out["retry_after_ms"] = retry_after->count();
  return out;
}

inline Result Result::from_json(const Json &json) {
  if (!json.is_object() || !json.contains("status") || !json["status"].is_string())
    return permanent("plugin answered without a status");
  auto outcome = outcome_from_string(json["status"].get<std::string>());
  if (!outcome) return permanent("plugin answered with unknown status '" + json["status"].get<std::string>() + "'");
  Result r;
  r.outcome = *outcome;
  if (auto it = json.find("message"); it != json.end() && it->is_string()) r.message = it->get<std::string>();
  if (auto it = json.find("retry_after_ms"); it != json.end() && it->is_number_integer())
    r.retry_after = std::chrono::milliseconds(it->get<long long>());
  if (auto it = json.find("data"); it != json.end()) r.data = *it;
  return r;
}

}  // namespace cartwire::sdk
