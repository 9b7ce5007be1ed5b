#pragma once

#include <optional>

#include <cartwire/sdk/json.hpp>

namespace cartwire::thrivecart {

/**
 * The canonical `customer` of an event from the payload's `customer` object:
 * email, first/last name (either spelling), name, phone, address and, as
 * strings, every other scalar the checkout collected (`custom_fields`).
 * nullopt when the payload has no customer.
 */
std::optional<sdk::Json> map_customer(const sdk::Json &payload);

}  // namespace cartwire::thrivecart
