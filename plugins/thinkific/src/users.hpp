// Users: find by email, create (welcome email, custom profile fields), and the
// mapping of the integration's `fields:` onto custom profile field definitions.
#pragma once

#include <cartwire/sdk/connector.hpp>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "api.hpp"

namespace cartwire::thinkific {

/** Who an action is about: the rule's parameters, else the event's customer. */
struct Person {
  std::string email;
  std::string first_name;
  std::string last_name;
};

/** The person of a request; a permanent result when there is no email. */
std::optional<Result> person_of(const sdk::ActionRequest &request, Person &out);

/**
 * Custom profile field definitions, shared by the worker threads. Kept for a
 * few minutes so that every enrolment does not spend a request of the
 * 120/min budget on them; refetched when a mapped field is not in them.
 */
class Definitions {
 public:
  /** All definitions; `fresh` bypasses the cache. On success data = {"items": [...]}. */
  Result get(const Api &api, bool fresh);

 private:
  std::mutex mutex_;
  Json items_;
  int64_t fetched_ms_ = 0;
};

/** The resource-list item of a definition: id, name (label), key, type, required. */
Json definition_item(const Json &definition);

/**
 * The mapping rendered for this event ({"<id, key or label>": value}) as
 * Thinkific's custom_profile_fields list. Unknown fields and fields whose type
 * is not text are permanent failures naming the field.
 */
Result custom_profile_fields(const Api &api, Definitions &definitions, const Json &fields);

/** The user with this email (compared case-insensitively); data = {"user": {...} | null}. */
Result find_user(const Api &api, const std::string &email);

/**
 * Finds the user or creates it, and brings mapped custom profile fields up to
 * date. data = {"user_id": N, "created": bool, "user": {...}}.
 */
Result ensure_user(const Api &api, Definitions &definitions, const Person &person, const Json &fields);

/** An integer id out of a JSON number or numeric string. */
std::optional<int64_t> id_of(const Json &value);

}  // namespace cartwire::thinkific
