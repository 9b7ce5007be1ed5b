// The Ingest `user` object: the customer by email, the integration's field
// mapping, and tags as Encharge wants them (one comma-separated string).
#pragma once

#include <cartwire/sdk/json.hpp>

#include <string>

namespace cartwire::encharge {

using sdk::Json;

/** A value or the reason there is none. */
struct Built {
  Json value;
  std::string error;
  bool ok() const { return error.empty(); }
};

/**
 * {"email", "firstName", "lastName", <mapped fields>...} for the event's
 * customer. Mapped fields override the names; `email` always comes from
 * customer.email. Null or empty mapped values are left out, so a missing
 * event field never blanks a person field.
 */
Built person_for(const Json &event, const Json &fields);

/**
 * A tags parameter ("a, b" or ["a", "b"]) as "a,b"; a null value gives "".
 * Anything else (a number, a list holding a non-string) is an error.
 */
Built tags_from(const Json &param);

}  // namespace cartwire::encharge
