#include "connector.hpp"

#include "actions.hpp"

namespace cartwire::encharge {
namespace {

const Json &array_at(const Json &body, const char *key) {
  static const Json empty = Json::array();
  auto it = body.find(key);
  return it != body.end() && it->is_array() ? *it : empty;
}

// Neither list is paged in Encharge's API: one call returns every item.
Result tags_list(const Client &client, const Host &host) {
  Result answer = client.rest(host, "GET", "/tags-management", nullptr, "the tags list");
  if (!answer.is_ok()) return answer;
  Json items = Json::array();
  for (auto &tag : array_at(answer.data, "tags")) {
    if (!tag.is_object() || !tag.contains("tag") || !tag["tag"].is_string()) continue;
    Json item = {{"id", tag["tag"]}, {"name", tag["tag"]}};
    if (tag.contains("count") && tag["count"].is_number()) item["count"] = tag["count"];
    items.push_back(item);
  }
  return Result::ok({{"items", items}});
}

// Items are keyed by the field's API name, the key a person object uses, so a
// mapping written with a field's title is refused rather than creating a new
// custom field named after the title.
Result fields_list(const Client &client, const Host &host) {
  Result answer = client.rest(host, "GET", "/fields", nullptr, "the fields list");
  if (!answer.is_ok()) return answer;
  Json items = Json::array();
  for (auto &field : array_at(answer.data, "items")) {
    if (!field.is_object() || !field.contains("name") || !field["name"].is_string()) continue;
    Json item = {{"id", field["name"]}, {"name", field["name"]}};
    if (field.contains("title") && field["title"].is_string()) item["title"] = field["title"];
    if (field.contains("type") && field["type"].is_string()) item["type"] = field["type"];
    if (field.contains("readOnly") && field["readOnly"].is_boolean()) item["read_only"] = field["readOnly"];
    items.push_back(item);
  }
  return Result::ok({{"items", items}});
}

}  // namespace

EnchargeConnector::EnchargeConnector(const Json &settings, const Host &) : client_(Settings::parse(settings)) {}

Result EnchargeConnector::action(const Host &host, const sdk::ActionRequest &request) {
  if (request.action == "track_event") return track_event(client_, host, request);
  if (request.action == "upsert_person") return upsert_person(client_, host, request);
  if (request.action == "add_tag") return add_tag(client_, host, request);
  if (request.action == "remove_tag") return remove_tag(client_, host, request);
  return Connector::action(host, request);
}

Result EnchargeConnector::list(const Host &host, const std::string &name) {
  if (name == "tags") return tags_list(client_, host);
  if (name == "fields") return fields_list(client_, host);
  return Connector::list(host, name);
}

}  // namespace cartwire::encharge
