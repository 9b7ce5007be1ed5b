#include "connector.hpp"

#include "enrollments.hpp"
#include "lists.hpp"

namespace cartwire::thinkific {

ThinkificConnector::ThinkificConnector(const sdk::Json &settings, const sdk::Host &)
    : settings_(parse_settings(settings)) {}

sdk::Result ThinkificConnector::action(const sdk::Host &host, const sdk::ActionRequest &request) {
  Api api(settings_, host);
  if (request.action == "enroll_course") return enroll_course(api, definitions_, request);
  if (request.action == "expire_course") return expire_course(api, request);
  if (request.action == "enroll_bundle") return enroll_bundle(api, definitions_, request);
  if (request.action == "expire_bundle") return expire_bundle(api, request);
  if (request.action == "upsert_user") {
    Person person;
    if (auto bad = person_of(request, person)) return *bad;
    Result r = ensure_user(api, definitions_, person, request.fields);
    if (r.is_ok()) r.data.erase("user");
    return r;
  }
  return sdk::Result::permanent("thinkific has no action '" + request.action +
                                "' (actions: upsert_user, enroll_course, expire_course, enroll_bundle, expire_bundle)");
}

sdk::Result ThinkificConnector::list(const sdk::Host &host, const std::string &name) {
  Api api(settings_, host);
  if (name == "courses") return list_courses(api);
  if (name == "bundles") return list_bundles(api);
  if (name == "custom_profile_fields") return list_custom_profile_fields(api, definitions_);
  return sdk::Result::permanent("thinkific has no list '" + name + "' (lists: courses, bundles, custom_profile_fields)");
}

}  // namespace cartwire::thinkific
