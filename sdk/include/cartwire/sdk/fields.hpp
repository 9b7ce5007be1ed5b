/**
 * @file fields.hpp
 * Reading loosely typed payloads: the webhooks of carts send the same field
 * as text, number, null, the literal "null" or an empty container depending
 * on the delivery. These helpers fold all of that into "absent" or plain text,
 * so a normalizer can ask plain questions.
 */
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <cartwire/sdk/json.hpp>

namespace cartwire::sdk::fields {

/** The object member `key`, or nullptr when `node` is not an object or lacks it. */
inline const Json *child(const Json *node, std::string_view key) {
  if (!node || !node->is_object()) return nullptr;
  auto it = node->find(key);
  return it == node->end() ? nullptr : &*it;
}
inline const Json *child(const Json &node, std::string_view key) { return child(&node, key); }

/** `node` when it is a non-empty object, else nullptr (an empty `{}` or `[]` is absent). */
inline const Json *object(const Json *node) { return node && node->is_object() && !node->empty() ? node : nullptr; }

/**
 * A scalar as text: strings as they are, integers and whole floats in digits
 * (4995.0 → "4995"), other numbers as the shortest text that reads back the
 * same (49.95 → "49.95", so it can be read as a decimal, never as a double),
 * booleans as "true"/"false". nullopt for absent, null, "", "null" and
 * containers.
 */
inline std::optional<std::string> text(const Json *node) {
  if (!node) return std::nullopt;
  std::string out;
  if (node->is_string()) {
    out = node->get<std::string>();
  } else if (node->is_number_float()) {
    double value = node->get<double>();
    bool whole = std::isfinite(value) && std::trunc(value) == value && std::fabs(value) < 9.0e15;
    out = whole ? std::to_string(static_cast<int64_t>(value)) : node->dump();
  } else if (node->is_number()) {
    out = node->dump();
  } else if (node->is_boolean()) {
    out = node->get<bool>() ? "true" : "false";
  }
  if (out.empty() || out == "null") return std::nullopt;
  return out;
}
inline std::optional<std::string> text(const Json &node, std::string_view key) { return text(child(node, key)); }
/** The same of what `object` and `child` give, which may be nullptr (SDK 1.8.0):
 *  `text(object(child(payload, "member")), "email")`. */
inline std::optional<std::string> text(const Json *node, std::string_view key) { return text(child(node, key)); }

/** The first present text among `keys` of `node`. */
inline std::optional<std::string> first_text(const Json *node, std::initializer_list<std::string_view> keys) {
  for (auto key : keys)
    if (auto value = text(child(node, key))) return value;
  return std::nullopt;
}

/** 1768471200 → "2026-01-15T10:00:00Z" (UTC). */
inline std::string rfc3339(int64_t unix_seconds) {
  std::time_t at = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  if (!gmtime_r(&at, &utc)) return "";
  char out[48];
  std::snprintf(out, sizeof out, "%04lld-%02d-%02dT%02d:%02d:%02dZ", static_cast<long long>(utc.tm_year) + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
  return out;
}

}  // namespace cartwire::sdk::fields
