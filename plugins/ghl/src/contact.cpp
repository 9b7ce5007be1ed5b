#include "contact.hpp"

#include <set>

#include "strings.hpp"

namespace cartwire::ghl {
namespace {

// Fixed fields of the manifest's mapping schema: contact properties of the upsert body.
const std::set<std::string> kFixed = {"firstName", "lastName", "name",     "phone",       "companyName",
                                      "website",   "address1", "city",     "state",       "postalCode",
                                      "country",   "timezone", "dateOfBirth", "gender",   "source"};

std::string text_at(const Json &j, const Json::json_pointer &p) {
  if (!j.contains(p)) return {};
  const Json &v = j.at(p);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return v.dump();
  return {};
}

}  // namespace

std::string email_of(const ActionRequest &request) {
  std::string email = text_at(request.params, "/email"_json_pointer);
  if (email.empty()) email = text_at(request.event, "/customer/email"_json_pointer);
  auto b = email.find_first_not_of(' ');
  return b == std::string::npos ? std::string() : email.substr(b, email.find_last_not_of(' ') - b + 1);
}

Result Contacts::upsert_body(const Host &host, const ActionRequest &request, Json &body) const {
  std::string email = email_of(request);
  if (email.empty() || email.find('@') == std::string::npos)
    return Result::permanent("the event has no customer email (and the rule gives no 'email'), so there is no contact to upsert");
  const Json &e = request.event;
  body = {{"locationId", client_.location_id()}, {"email", email}};
  put(body, "firstName", text_at(e, "/customer/first_name"_json_pointer));
  put(body, "lastName", text_at(e, "/customer/last_name"_json_pointer));
  put(body, "phone", text_at(e, "/customer/phone"_json_pointer));
  std::string line1 = text_at(e, "/customer/address/line1"_json_pointer);
  std::string line2 = text_at(e, "/customer/address/line2"_json_pointer);
  put(body, "address1", line1.empty() ? line2 : line2.empty() ? line1 : line1 + ", " + line2);
  put(body, "city", text_at(e, "/customer/address/city"_json_pointer));
  put(body, "state", text_at(e, "/customer/address/state"_json_pointer));
  put(body, "postalCode", text_at(e, "/customer/address/zip"_json_pointer));
  std::string country = text_at(e, "/customer/address/country"_json_pointer);
  if (country.size() == 2) body["country"] = country;  // the API takes ISO-2 codes only
  put(body, "source", client_.settings().source);

  Json custom = Json::array();
  std::vector<CustomField> known;
  bool fetched = false, refreshed = false;
  for (auto &[remote, value] : request.fields.items()) {
    // A blank checkout answer must not wipe what the contact already has.
    if (value.is_null() || (value.is_string() && value.get<std::string>().empty())) continue;
    if (kFixed.count(remote)) {
      body[remote] = value.is_string() ? value.get<std::string>() : value.dump();
      continue;
    }
    if (!fetched) {
      if (Result r = fields_.get(host, client_, known); !r.is_ok()) return r;
      fetched = true;
    }
    const CustomField *field = find_field(known, remote);
    if (!field && !refreshed) {  // the field may be newer than the cached copy
      if (Result r = fields_.get(host, client_, known, true); !r.is_ok()) return r;
      refreshed = true;
      field = find_field(known, remote);
    }
    if (!field)
      return Result::permanent("mapped field '" + remote + "' is not a contact custom field of location " +
                               client_.location_id() + " (map by id, key such as contact.company_size, or name)");
    std::string error;
    Json v = field_value(*field, value, error);
    if (!error.empty()) return Result::permanent(error);
    Json entry = {{"id", field->id}, {"field_value", v}};
    if (!field->key.empty()) entry["key"] = field->key;
    custom.push_back(std::move(entry));
  }
  if (!custom.empty()) body["customFields"] = std::move(custom);
  return Result::ok();
}

ContactRef Contacts::upsert(const Host &host, const ActionRequest &request) const {
  ContactRef ref;
  Json body;
  ref.result = upsert_body(host, request, body);
  if (!ref.result.is_ok()) return ref;
  ref.result = client_.call(host, "POST", "/contacts/upsert", body);
  if (!ref.result.is_ok()) return ref;
  ref.id = text_at(ref.result.data, "/contact/id"_json_pointer);
  ref.created = ref.result.data.value("new", false);
  if (ref.id.empty()) ref.result = Result::permanent("GoHighLevel POST /contacts/upsert: the answer has no contact id");
  return ref;
}

ContactRef Contacts::lookup(const Host &host, const ActionRequest &request) const {
  ContactRef ref;
  std::string email = email_of(request);
  if (email.empty() || email.find('@') == std::string::npos) {
    ref.result = Result::permanent("the event has no customer email (and the rule gives no 'email'), so there is no contact to look up");
    return ref;
  }
  ref.result = client_.call(host, "GET",
                            "/contacts/search/duplicate?locationId=" + sdk::url_encode(client_.location_id()) +
                                "&email=" + sdk::url_encode(email));
  if (!ref.result.is_ok()) return ref;
  ref.id = text_at(ref.result.data, "/contact/id"_json_pointer);
  return ref;
}

}  // namespace cartwire::ghl
