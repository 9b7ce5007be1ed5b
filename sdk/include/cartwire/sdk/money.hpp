/**
 * @file money.hpp
 * Exact conversions between decimal amount strings and integer cents.
 *
 * Carts send money either as integer minor units (ThriveCart: 4995) or as
 * decimal strings (SamCart: "49.95"). Events carry both forms; neither
 * conversion goes through floating point.
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cartwire::sdk {

/** 4995 → "49.95", -150 → "-1.50", 7 → "0.07". */
inline std::string cents_to_decimal(int64_t cents) {
  bool negative = cents < 0;
  uint64_t magnitude = negative ? static_cast<uint64_t>(-(cents + 1)) + 1 : static_cast<uint64_t>(cents);
  std::string fraction = std::to_string(magnitude % 100);
  if (fraction.size() < 2) fraction.insert(0, "0");
  return (negative ? "-" : "") + std::to_string(magnitude / 100) + "." + fraction;
}

/**
 * "49.95" → 4995, "49.9" → 4990, "49" → 4900, "1,299.00" → 129900, "-0.50" → -50,
 * "$12.00" → 1200. A third decimal is accepted only when it is zero ("12.500").
 * A comma only groups thousands, in groups of three digits: "49,95" (a decimal
 * comma) is refused rather than read as 4,995.00.
 * Anything else (letters, two dots, an empty string, an overflow) → std::nullopt.
 */
inline std::optional<int64_t> decimal_to_cents(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (!text.empty() && text.front() == '$') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  int64_t units = 0;
  int64_t fraction = 0;
  int fraction_digits = 0;
  bool seen_dot = false, seen_digit = false, grouped = false;
  int group = 0;  // digits since the last comma, or since the start
  for (char c : text) {
    if (c == ',' && !seen_dot) {
      if (group == 0 || group > 3 || (grouped && group != 3)) return std::nullopt;
      grouped = true;
      group = 0;
      continue;
    }
    if (c == '.') {
      if (seen_dot || (grouped && group != 3)) return std::nullopt;
      seen_dot = true;
      continue;
    }
    if (!seen_dot) ++group;
    if (c < '0' || c > '9') return std::nullopt;
    seen_digit = true;
    int digit = c - '0';
    if (!seen_dot) {
      if (units > (INT64_MAX / 100 - digit) / 10) return std::nullopt;
      units = units * 10 + digit;
    } else if (fraction_digits < 2) {
      fraction = fraction * 10 + digit;
      ++fraction_digits;
    } else if (digit != 0) {
      return std::nullopt;  // sub-cent precision would be lost
    }
  }
  if (!seen_digit || (grouped && !seen_dot && group != 3)) return std::nullopt;
  if (fraction_digits == 1) fraction *= 10;
  int64_t cents = units * 100 + fraction;
  return negative ? -cents : cents;
}

}  // namespace cartwire::sdk
