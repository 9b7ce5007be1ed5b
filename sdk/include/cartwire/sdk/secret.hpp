// Comparing secrets (webhook secret words, URL tokens, signatures, admin
// tokens) without leaking through timing how much of a guess was right.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace cartwire::sdk {

/**
 * True when `given` equals `expected`. Runs over the whole of the longer input
 * whatever the contents, so the time taken depends only on the lengths.
 */
inline bool same_secret(std::string_view expected, std::string_view given) {
  std::size_t n = std::max(expected.size(), given.size());
  unsigned diff = expected.size() != given.size() ? 1u : 0u;
  for (std::size_t i = 0; i < n; ++i) {
    auto a = static_cast<unsigned char>(i < expected.size() ? expected[i] : 0);
    auto b = static_cast<unsigned char>(i < given.size() ? given[i] : 0);
    diff |= static_cast<unsigned>(a ^ b);
  }
  return diff == 0;
}

}  // namespace cartwire::sdk
