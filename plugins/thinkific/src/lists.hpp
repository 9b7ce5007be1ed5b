// Resource lists: courses, bundles, custom profile fields.
#pragma once

#include "users.hpp"

namespace cartwire::thinkific {

Result list_courses(const Api &api);
/** Bundles have no index endpoint; they are the products whose productable_type is Bundle. */
Result list_bundles(const Api &api);
Result list_custom_profile_fields(const Api &api, Definitions &definitions);

}  // namespace cartwire::thinkific
