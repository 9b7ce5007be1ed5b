#include "customer.hpp"

#include <set>
#include <string>

#include "payload.hpp"

namespace cartwire::thrivecart {
namespace {

// Keys mapped to canonical fields, plus ThriveCart's own bookkeeping about the
// buyer's browser and record (kept in `raw`, not offered as checkout answers).
const std::set<std::string, std::less<>> kKnownKeys = {
    "email", "name", "first_name", "last_name", "firstname", "lastname", "address", "custom_fields",
    "phone", "contactno", "contact_no", "phone_number", "phonenumber", "telephone", "mobile",
    "id", "ip_address", "client_user_agent", "client_meta_fbp", "origin"};

std::optional<Json> map_address(const Json *address) {
  if (!object(address)) return std::nullopt;
  Json out = {{"line1", first_text(address, {"line1", "address_line1", "street"}).value_or("")},
              {"line2", first_text(address, {"line2", "address_line2"}).value_or("")},
              {"city", first_text(address, {"city", "town"}).value_or("")},
              {"state", first_text(address, {"state", "region", "province"}).value_or("")},
              {"zip", first_text(address, {"zip", "postcode", "postal_code"}).value_or("")},
              {"country", first_text(address, {"country"}).value_or("")}};
  for (auto &[key, value] : out.items())
    if (!value.get<std::string>().empty()) return out;
  return std::nullopt;
}

void add_scalars(Json &fields, const Json *source, bool skip_known) {
  if (!object(source)) return;
  for (auto it = source->begin(); it != source->end(); ++it) {
    if (skip_known && kKnownKeys.count(it.key())) continue;
    if (it->is_structured()) continue;
    if (auto value = text(&*it)) fields[it.key()] = *value;
  }
}

}  // namespace

std::optional<Json> map_customer(const Json &payload) {
  const Json *customer = object(child(payload, "customer"));
  if (!customer) return std::nullopt;
  Json out = Json::object();
  if (auto email = text(*customer, "email")) out["email"] = *email;
  auto first = first_text(customer, {"first_name", "firstname"});
  auto last = first_text(customer, {"last_name", "lastname"});
  auto name = text(*customer, "name");
  if (name && !first && !last) {
    // Only the full name (the one field the docs confirm): its first word is
    // the first name and the rest the last, as the checkout's own form asks.
    auto start = name->find_first_not_of(' ');
    auto gap = name->find(' ', start);
    auto rest = gap == std::string::npos ? gap : name->find_first_not_of(' ', gap);
    if (start != std::string::npos) first = name->substr(start, gap - start);
    if (rest != std::string::npos) last = name->substr(rest, name->find_last_not_of(' ') + 1 - rest);
  }
  if (first) out["first_name"] = *first;
  if (last) out["last_name"] = *last;
  if (name) {
    out["name"] = *name;
  } else if (first || last) {
    out["name"] = first && last ? *first + " " + *last : first.value_or(last.value_or(""));
  }
  // The phone field has no documented name; these are the spellings checkout
  // builders use, first one present wins.
  if (auto phone = first_text(customer, {"phone", "contactno", "contact_no", "phone_number", "phonenumber",
                                         "telephone", "mobile"}))
    out["phone"] = *phone;
  if (auto address = map_address(child(customer, "address"))) out["address"] = *address;
  Json fields = Json::object();
  add_scalars(fields, customer, true);
  add_scalars(fields, child(customer, "custom_fields"), false);
  if (!fields.empty()) out["custom_fields"] = std::move(fields);
  return out;
}

}  // namespace cartwire::thrivecart
