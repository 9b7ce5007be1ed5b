#include "poll.hpp"

#include <algorithm>
#include <set>

#include "strings.hpp"

namespace cartwire::ghl {
namespace {

std::string text_of(const Json &j, const char *key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// LeadConnector writes every time as "2026-01-15T10:00:00.000Z", so text order is time order.
std::string changed_at(const Json &contact) {
  std::string at = text_of(contact, "dateUpdated");
  return at.empty() ? text_of(contact, "dateAdded") : at;
}

// One POST /contacts/search: contacts changed at or after `after` (all when empty), oldest change first.
Result search(const Host &host, const Client &client, const std::string &after, int page, int limit,
              const char *direction, Json &contacts) {
  Json body = {{"locationId", client.location_id()},
               {"page", page},
               {"pageLimit", limit},
               {"sort", {{{"field", "dateUpdated"}, {"direction", direction}}}}};
  if (!after.empty())
    body["filters"] = {{{"field", "dateUpdated"}, {"operator", "range"}, {"value", {{"gte", after}}}}};
  Result r = client.call(host, "POST", "/contacts/search", body);
  if (!r.is_ok()) return r;
  auto it = r.data.find("contacts");
  if (it == r.data.end() || !it->is_array())
    return Result::permanent("GoHighLevel POST /contacts/search: the answer has no 'contacts' list");
  contacts = *it;
  return r;
}

struct Cursor {
  std::string updated_after;
  std::set<std::string> ids;

  static Cursor from_json(const Json &j) {
    Cursor c;
    if (!j.is_object()) return c;
    c.updated_after = text_of(j, "updated_after");
    if (auto it = j.find("ids"); it != j.end() && it->is_array())
      for (auto &id : *it)
        if (id.is_string()) c.ids.insert(id.get<std::string>());
    return c;
  }
  Json to_json() const { return {{"updated_after", updated_after}, {"ids", ids}}; }

  // Moves the cursor to a contact seen; false when it was emitted already.
  bool advance(const std::string &id, const std::string &at) {
    if (at < updated_after) return false;  // the search filter should not let these through
    if (at == updated_after) return ids.insert(id).second;
    updated_after = at;
    ids = {id};
    return true;
  }
};

// The first poll: where the location's contacts stand now (the latest change time and who has it).
sdk::PollReply baseline(const Host &host, const Client &client) {
  Json contacts;
  Result r = search(host, client, "", 1, kPollPageLimit, "desc", contacts);
  if (!r.is_ok()) return sdk::PollReply::failed(r);
  Cursor c;
  for (auto &contact : contacts) {
    std::string id = text_of(contact, "id"), at = changed_at(contact);
    if (id.empty() || at.empty() || at < c.updated_after) continue;
    c.advance(id, at);
  }
  host.info("contacts_changed: starting from the contacts' latest change" +
            (c.updated_after.empty() ? std::string(" (the location has no contacts yet)") : " at " + c.updated_after));
  return sdk::PollReply::ok({}, c.to_json());
}

}  // namespace

Json contact_changed_event(const std::string &location_id, const Json &contact) {
  std::string id = text_of(contact, "id"), at = changed_at(contact);
  Json customer = Json::object();
  put(customer, "email", text_of(contact, "email"));
  put(customer, "first_name", text_of(contact, "firstName"));
  put(customer, "last_name", text_of(contact, "lastName"));
  std::string name = text_of(contact, "name");
  if (name.empty()) name = text_of(contact, "contactName");
  put(customer, "name", name);
  put(customer, "phone", text_of(contact, "phone"));
  Json address = Json::object();
  put(address, "line1", text_of(contact, "address1"));
  put(address, "city", text_of(contact, "city"));
  put(address, "state", text_of(contact, "state"));
  put(address, "zip", text_of(contact, "postalCode"));
  put(address, "country", text_of(contact, "country"));
  if (!address.empty()) customer["address"] = address;
  Json event = {{"type", "ghl.contact.changed"},
                {"source_type", text_of(contact, "dateAdded") == at ? "contact.created" : "contact.updated"},
                {"occurred_at", at},
                {"mode", "live"},
                {"dedupe_key", "ghl:" + location_id + ":contact:" + id + ":" + at},
                {"raw", contact}};
  if (!customer.empty()) event["customer"] = customer;
  return event;
}

sdk::PollReply poll_contacts_changed(const Host &host, const Client &client, const Json &cursor) {
  if (cursor.is_null()) return baseline(host, client);
  Cursor c = Cursor::from_json(cursor);
  std::vector<Json> events;
  // Each request starts at the latest change seen so far, so contacts changing
  // while the poll pages on cannot shift a page past one not yet seen. Only
  // when a whole page shares one change time does the page number move on.
  std::string bound = c.updated_after;
  int page = 1;
  for (int request = 0; request < kPollMaxRequests; ++request) {
    Json contacts;
    Result r = search(host, client, bound, page, kPollPageLimit, "asc", contacts);
    if (!r.is_ok()) return sdk::PollReply::failed(r);
    for (auto &contact : contacts) {
      std::string id = text_of(contact, "id"), at = changed_at(contact);
      if (id.empty() || at.empty()) continue;
      if (c.advance(id, at)) events.push_back(contact_changed_event(client.location_id(), contact));
    }
    if (static_cast<int>(contacts.size()) < kPollPageLimit) break;
    page = c.updated_after == bound ? page + 1 : 1;
    bound = c.updated_after;
  }
  return sdk::PollReply::ok(std::move(events), c.to_json());
}

}  // namespace cartwire::ghl
