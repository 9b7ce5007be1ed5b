// The location's contact custom fields: fetched for the resource list and,
// cached for a few minutes, to turn a mapping's key or name into the field
// id the upsert body requires.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "client.hpp"

namespace cartwire::ghl {

struct CustomField {
  std::string id;
  std::string name;
  std::string key;   // "contact.company_size"
  std::string type;  // dataType: TEXT, NUMERICAL, CHECKBOX ...
};

/** GET /locations/{id}/customFields?model=contact. */
Result fetch_custom_fields(const Host &host, const Client &client, std::vector<CustomField> &out);

/** By id, by key ("contact.x" or just "x"), then by name. */
const CustomField *find_field(const std::vector<CustomField> &fields, const std::string &ref);

/**
 * The request's `field_value` for `value` in a field of this type: a list of
 * strings for multi-value fields (a string splits at commas), a string
 * otherwise. Empty `error` on success.
 */
Json field_value(const CustomField &field, const Json &value, std::string &error);

class CustomFieldCache {
 public:
  static constexpr std::chrono::minutes kTtl{5};

  /** The fields, fetched when the copy is older than kTtl or `refresh` is set. */
  Result get(const Host &host, const Client &client, std::vector<CustomField> &out, bool refresh = false);

 private:
  std::mutex mutex_;
  std::vector<CustomField> fields_;
  std::chrono::system_clock::time_point fetched_{};
  bool have_ = false;
};

}  // namespace cartwire::ghl
