#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cartwire/sdk/fields.hpp>
#include <cartwire/sdk/json.hpp>

/**
 * Reading a SamCart Notify URL post. Missing values arrive as JSON null, ids
 * as numbers or text, amounts as decimal text or numbers in major units; these
 * helpers fold all of that into plain optional text and exact cents.
 */
namespace cartwire::samcart {

using sdk::Json;

using sdk::fields::child;
using sdk::fields::first_text;
using sdk::fields::object;
using sdk::fields::rfc3339;
using sdk::fields::text;

/** A yes/no flag: true/false, 1/0, "true"/"false", "yes"/"no"; nullopt otherwise. */
std::optional<bool> flag(const Json *node);

/** An amount in cents plus its canonical decimal text ("1,299.00" → 129900, "1299.00"). */
struct Money {
  int64_t cents = 0;
  std::string text;
};

/**
 * A major-unit amount ("49.95", "49.9", "1,299.00", "$12", 49.95) as exact
 * cents, without floating-point arithmetic. nullopt when absent, empty or not
 * an amount.
 */
std::optional<Money> money(const std::optional<std::string> &value);
inline std::optional<Money> money(const Json *node) { return money(text(node)); }

/** Write `out[name]` (cents) and `out[name + "_str"]` when `amount` is set. */
void put_money(Json &out, const std::string &name, const std::optional<Money> &amount);

/** Split on ',' and trim blanks; empty parts are kept so positions stay aligned. */
std::vector<std::string> split_list(const std::string &joined);

/**
 * Unix seconds from "2026-01-15 10:00:00" or an ISO 8601 date-time
 * ("2026-01-15T05:00:00-05:00"); a time without an offset counts as UTC.
 * nullopt for anything else, and for a date or time that does not exist
 * ("2026-02-30 10:00:00").
 */
std::optional<int64_t> date_seconds(const std::optional<std::string> &value);

/** 1768471200 → "2026-01-15". */
std::string utc_day(int64_t unix_seconds);

/** The first 16 hex digits of the SHA-256 of `text`. */
std::string short_hash(std::string_view text);

}  // namespace cartwire::samcart
