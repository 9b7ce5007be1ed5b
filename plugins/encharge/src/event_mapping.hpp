// Canonical event → Encharge event name and properties, including the fixed
// names of ThriveCart's orders, purchases, rebills and refunds (README).
#pragma once

#include <cartwire/sdk/json.hpp>

#include <string>

namespace cartwire::encharge {

using sdk::Json;

/** True when the event came from ThriveCart (webhook or CSV import). */
bool from_thrivecart(const Json &event);

/**
 * "ThriveCart order" | "ThriveCart purchase" | "ThriveCart rebill" |
 * "ThriveCart refund" for the four agreed ThriveCart events, else "".
 */
std::string thrivecart_name(const Json &event);

/**
 * The properties Encharge gets for the event: item_type, item_id,
 * item_reference, amount (cents), amount_str, plus order_id, currency,
 * subscription_id and (refunds) partial where the event has them. Absent
 * facts are left out rather than sent as null.
 */
Json event_properties(const Json &event);

/** "13" → 13, "sub_1" → "sub_1": Encharge's documented calls send numeric ids as numbers. */
Json id_value(const Json &value);

}  // namespace cartwire::encharge
