// The connector's actions: events and people through the Ingest API, tag
// removal through the REST API.
#pragma once

#include <cartwire/sdk/connector.hpp>

#include "client.hpp"

namespace cartwire::encharge {

/** {name, user, properties}: the event under its agreed or configured name. */
Result track_event(const Client &client, const Host &host, const sdk::ActionRequest &request);
/** {name: "identify", user}: create or update the person, adding `tags`. */
Result upsert_person(const Client &client, const Host &host, const sdk::ActionRequest &request);
/** upsert_person with tags required. */
Result add_tag(const Client &client, const Host &host, const sdk::ActionRequest &request);
/** REST DELETE /tags {"tag", "email"}. */
Result remove_tag(const Client &client, const Host &host, const sdk::ActionRequest &request);

}  // namespace cartwire::encharge
