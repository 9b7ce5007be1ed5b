#pragma once

#include <optional>

#include "delivery.hpp"

namespace cartwire::samcart {

/**
 * The canonical `customer` of an event: email, first/last name, name, phone,
 * billing address (the shipping address when no billing field is set) and
 * the checkout's custom fields as strings. nullopt when the post has no customer.
 */
std::optional<Json> map_customer(const Delivery &delivery);

}  // namespace cartwire::samcart
