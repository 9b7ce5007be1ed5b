#include "person.hpp"

namespace cartwire::encharge {
namespace {

std::string trim(const std::string &s) {
  auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

void append_tags(const std::string &text, std::string &out) {
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    std::string tag = trim(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (!tag.empty()) out += (out.empty() ? "" : ",") + tag;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
}

std::string customer_text(const Json &customer, const char *key) {
  auto it = customer.find(key);
  return it != customer.end() && it->is_string() ? trim(it->get<std::string>()) : "";
}

}  // namespace

Built person_for(const Json &event, const Json &fields) {
  const Json &customer = sdk::object_at(event, "customer");
  std::string email = customer_text(customer, "email");
  if (email.empty() || email.find('@') == std::string::npos)
    return {nullptr, "the event has no usable customer.email; Encharge identifies people by email"};
  Json user = {{"email", email}};
  if (auto first = customer_text(customer, "first_name"); !first.empty()) user["firstName"] = first;
  if (auto last = customer_text(customer, "last_name"); !last.empty()) user["lastName"] = last;
  if (fields.is_object()) {
    for (auto &[remote, value] : fields.items()) {
      if (remote == "email" || value.is_null()) continue;
      if (value.is_string() && trim(value.get<std::string>()).empty()) continue;
      user[remote] = value;
    }
  }
  return {user, ""};
}

Built tags_from(const Json &param) {
  std::string joined;
  if (param.is_null()) return {"", ""};
  if (param.is_string()) {
    append_tags(param.get<std::string>(), joined);
  } else if (param.is_array()) {
    for (auto &tag : param) {
      if (!tag.is_string()) return {nullptr, "tags must be strings, got " + tag.dump()};
      append_tags(tag.get<std::string>(), joined);
    }
  } else {
    return {nullptr, "tags must be a comma-separated string or a list of strings, got " + param.dump()};
  }
  return {joined, ""};
}

}  // namespace cartwire::encharge
