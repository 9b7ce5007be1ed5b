/**
 * @file json.hpp
 * The JSON type of the SDK.
 *
 * Everything the hub and a connector exchange is JSON; the SDK uses
 * nlohmann::json (Debian: nlohmann-json3-dev) and names it `cartwire::sdk::Json`.
 */
#pragma once

#include <nlohmann/json.hpp>

namespace cartwire::sdk {

/** A JSON value. Objects keep keys sorted, which keeps output stable. */
using Json = nlohmann::json;

/**
 * The object at `key`, or an empty object. Returns a reference into `j` (or
 * to a static empty object), so it can be iterated safely: iterating
 * `j.value(key, Json::object()).items()` would walk a destroyed temporary.
 */
inline const Json &object_at(const Json &j, const char *key) {
  static const Json empty = Json::object();
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : empty;
}

}  // namespace cartwire::sdk
