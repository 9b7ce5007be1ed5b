#pragma once

#include <stdexcept>
#include <string_view>

#include <cartwire/sdk/json.hpp>

namespace cartwire::thrivecart {

/** A body that cannot be decoded; what() names the problem but never quotes a value. */
class FormError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/**
 * Decode an application/x-www-form-urlencoded body with PHP-style bracket keys
 * (`customer[email]=…`, `order[charges][0][amount]=…`, `purchases[]=…`) into a
 * JSON object tree. Every value stays a string. An object whose keys are
 * exactly 0..n-1 becomes an array. Later pairs overwrite earlier ones.
 * @throws FormError on a malformed %-escape or text that is not UTF-8.
 */
sdk::Json decode_form(std::string_view body);

/** True when `text` is well-formed UTF-8 (no overlongs, no surrogates). */
bool valid_utf8(std::string_view text);

}  // namespace cartwire::thrivecart
