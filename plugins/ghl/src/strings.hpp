#pragma once

#include <cartwire/sdk/json.hpp>

#include <string>

namespace cartwire::ghl {

// Strips ASCII whitespace from both ends.
inline std::string trim(const std::string &s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// Sets obj[key] to `value` unless it is empty: fields without a value are left out.
inline void put(sdk::Json &obj, const char *key, const std::string &value) {
  if (!value.empty()) obj[key] = value;
}

}  // namespace cartwire::ghl
