// The contacts_changed poll trigger: contacts updated since the cursor, found
// through POST /contacts/search sorted by dateUpdated, as ghl.contact.changed events.
#pragma once

#include <cartwire/sdk/poll.hpp>

#include "client.hpp"

namespace cartwire::ghl {

/**
 * Contacts asked for per search request: the deprecated list endpoint's
 * documented maximum, which search is seen to take too (its page size is
 * not documented).
 */
inline constexpr int kPollPageLimit = 100;

/** Search requests per poll at most; what is left is picked up by the next poll. */
inline constexpr int kPollMaxRequests = 10;

/**
 * One poll. The cursor is {"updated_after": "<dateUpdated>", "ids": [...]}:
 * the latest change time seen and the contacts already emitted at exactly
 * that time. The first poll (null cursor) emits nothing: it records where the
 * location's contacts stand, so only later changes become events.
 */
sdk::PollReply poll_contacts_changed(const Host &host, const Client &client, const Json &cursor);

/** The event for one contact as the search answers it. */
Json contact_changed_event(const std::string &location_id, const Json &contact);

}  // namespace cartwire::ghl
