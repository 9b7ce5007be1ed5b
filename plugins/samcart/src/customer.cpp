#include "customer.hpp"

#include <string>

namespace cartwire::samcart {
namespace {

std::optional<Json> address_from(const Json *node, const std::string &prefix) {
  auto field = [&](std::initializer_list<const char *> names) {
    for (const char *name : names)
      if (auto value = text(child(node, prefix + name))) return *value;
    return std::string();
  };
  Json out = {{"line1", field({"address", "address_line1", "address1"})},
              {"line2", field({"address_line2", "address2"})},
              {"city", field({"city"})},
              {"state", field({"state"})},
              {"zip", field({"zip", "postal_code"})},
              {"country", field({"country"})}};
  for (auto &[key, value] : out.items())
    if (!value.get<std::string>().empty()) return out;
  return std::nullopt;
}

/** A custom field's value as text; a multiple choice (a list) is joined with ", ". */
std::optional<std::string> field_value(const Json *value) {
  if (value && value->is_array()) {
    std::string joined;
    for (const Json &entry : *value)
      if (auto part = text(&entry)) joined += (joined.empty() ? "" : ", ") + *part;
    if (!joined.empty()) return joined;
    return std::nullopt;
  }
  return text(value);
}

Json custom_fields(const Json *fields) {
  Json out = Json::object();
  if (fields && fields->is_array()) {
    for (const Json &row : *fields) {
      auto key = first_text(&row, {"slug", "name"});
      auto value = field_value(child(row, "value"));
      if (key && value) out[*key] = *value;
    }
  } else if (object(fields)) {
    for (auto it = fields->begin(); it != fields->end(); ++it)
      if (auto value = field_value(&*it)) out[it.key()] = *value;
  }
  return out;
}

}  // namespace

std::optional<Json> map_customer(const Delivery &d) {
  const Json *customer = d.customer;
  Json fields = custom_fields(d.custom_fields);
  if (!customer && fields.empty()) return std::nullopt;
  Json out = Json::object();
  if (auto email = text(child(customer, "email"))) out["email"] = *email;
  auto first = text(child(customer, "first_name"));
  auto last = text(child(customer, "last_name"));
  if (first) out["first_name"] = *first;
  if (last) out["last_name"] = *last;
  if (first || last) {
    out["name"] = first && last ? *first + " " + *last : first.value_or(last.value_or(""));
  } else if (auto name = text(child(customer, "name"))) {
    out["name"] = *name;
  }
  if (auto phone = first_text(customer, {"phone_number", "phone"})) out["phone"] = *phone;
  auto address = address_from(customer, "billing_");
  if (!address) address = address_from(d.order, "shipping_");
  if (address) out["address"] = *address;
  if (!fields.empty()) out["custom_fields"] = std::move(fields);
  return out;
}

}  // namespace cartwire::samcart
