// Course and bundle enrollments: enrol with full access now, expire now.
#pragma once

#include "users.hpp"

namespace cartwire::thinkific {

Result enroll_course(const Api &api, Definitions &definitions, const sdk::ActionRequest &request);
Result expire_course(const Api &api, const sdk::ActionRequest &request);
Result enroll_bundle(const Api &api, Definitions &definitions, const sdk::ActionRequest &request);
Result expire_bundle(const Api &api, const sdk::ActionRequest &request);

}  // namespace cartwire::thinkific
