#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <cartwire/sdk/fields.hpp>
#include <cartwire/sdk/json.hpp>

/**
 * Reading a decoded ThriveCart payload. Deliveries send scalars as text, the
 * literal "null" for a missing value and [] for an empty object; these helpers
 * fold all of that into "absent" so the normalizer can ask plain questions.
 */
namespace cartwire::thrivecart {

using sdk::Json;

using sdk::fields::child;
using sdk::fields::first_text;
using sdk::fields::object;
using sdk::fields::rfc3339;
using sdk::fields::text;

/** Integer minor units ("4995", 4995); nullopt when absent or not an integer. */
std::optional<int64_t> cents(const Json *node);

/**
 * Copy a money pair into `out`: `out[name]` = cents of `src[key]`,
 * `out[name + "_str"]` = `src[key + "_str"]`, or derived from the cents when
 * that sibling is missing. Nothing is written when `src[key]` is absent.
 */
void put_money(Json &out, const std::string &name, const Json *src, const std::string &key);

/** Unix seconds from an all-digits text. */
std::optional<int64_t> unix_seconds(const std::optional<std::string> &value);

/**
 * Unix seconds from an ISO 8601 date-time ("2023-11-08T23:48:20+00:00"; also with a space for the T,
 * without seconds, a time or a zone) that exists; nullopt for anything else.
 */
std::optional<int64_t> iso8601_seconds(const std::optional<std::string> &value);

/**
 * An item's name as text, with the escapes of PHP's htmlspecialchars() undone:
 * real deliveries send the names of charges and purchases escaped ("Mobile
 * &amp; Universal App Pro") while the base product's name is not.
 */
std::optional<std::string> item_name(const Json *node);

/** The first 16 hex digits of the SHA-256 of `text`. */
std::string short_hash(std::string_view text);

}  // namespace cartwire::thrivecart
