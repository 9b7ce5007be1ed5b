// Resource lists: tags, custom_fields, workflows, campaigns of the location.
#pragma once

#include <string>

#include "client.hpp"

namespace cartwire::ghl {

/** Result::ok({"items": [...]}) for a list the manifest names; permanent for any other name. */
Result fetch_list(const Host &host, const Client &client, const std::string &name);

}  // namespace cartwire::ghl
