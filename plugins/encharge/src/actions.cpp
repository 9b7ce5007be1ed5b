#include "actions.hpp"

#include "event_mapping.hpp"
#include "person.hpp"

namespace cartwire::encharge {
namespace {

// The Ingest API has no idempotency key: a retry after a timeout that Encharge
// did process can record the event twice. Errors before the call never send.
Result send(const Client &client, const Host &host, const std::string &name, Json user, const Json &properties) {
  Json body = {{"name", name}, {"user", std::move(user)}};
  if (!properties.empty()) body["properties"] = properties;
  Result result = client.ingest(host, body);
  if (result.is_ok()) result.data = {{"name", name}, {"email", body["user"]["email"]}};
  return result;
}

Result identify(const Client &client, const Host &host, const sdk::ActionRequest &request, bool tags_required) {
  Built tags = tags_from(request.params.value("tags", Json()));
  if (!tags.ok()) return Result::permanent(request.action + ": " + tags.error);
  if (tags_required && tags.value.get<std::string>().empty())
    return Result::permanent(request.action + ": parameter 'tags' names no tag");
  Built user = person_for(request.event, request.fields);
  if (!user.ok()) return Result::permanent(request.action + ": " + user.error);
  if (!tags.value.get<std::string>().empty()) user.value["tags"] = tags.value;
  return send(client, host, "identify", std::move(user.value), Json::object());
}

}  // namespace

Result track_event(const Client &client, const Host &host, const sdk::ActionRequest &request) {
  const Json &params = request.params;
  Json name_param = params.value("name", Json());
  if (!name_param.is_null() && !name_param.is_string())
    return Result::permanent("track_event: parameter 'name' must be a string, got " + name_param.dump());
  Json extra = params.value("properties", Json());
  if (!extra.is_null() && !extra.is_object())
    return Result::permanent("track_event: parameter 'properties' must be an object, got " + extra.dump());
  Built tags = tags_from(params.value("tags", Json()));
  if (!tags.ok()) return Result::permanent("track_event: " + tags.error);

  // The four agreed ThriveCart names are fixed so that Encharge flows built on
  // them keep working; the name parameter is for every other event.
  std::string name = thrivecart_name(request.event);
  if (name.empty()) name = name_param.is_string() ? name_param.get<std::string>() : "";
  if (name.find_first_not_of(" \t") == std::string::npos) name = request.event.value("type", "");
  if (name.empty()) return Result::permanent("track_event: the event has no type and the rule gives no 'name'");
  if (name == "identify")
    return Result::permanent("track_event: \"identify\" is reserved by Encharge; use upsert_person instead");

  Built user = person_for(request.event, request.fields);
  if (!user.ok()) return Result::permanent("track_event: " + user.error);
  if (!tags.value.get<std::string>().empty()) user.value["tags"] = tags.value;

  Json properties = event_properties(request.event);
  if (extra.is_object())
    for (auto &[key, value] : extra.items()) properties[key] = value;
  return send(client, host, name, std::move(user.value), properties);
}

Result upsert_person(const Client &client, const Host &host, const sdk::ActionRequest &request) {
  return identify(client, host, request, false);
}

Result add_tag(const Client &client, const Host &host, const sdk::ActionRequest &request) {
  return identify(client, host, request, true);
}

Result remove_tag(const Client &client, const Host &host, const sdk::ActionRequest &request) {
  Built tags = tags_from(request.params.value("tags", Json()));
  if (!tags.ok()) return Result::permanent("remove_tag: " + tags.error);
  if (tags.value.get<std::string>().empty()) return Result::permanent("remove_tag: parameter 'tags' names no tag");
  Built user = person_for(request.event, Json::object());
  if (!user.ok()) return Result::permanent("remove_tag: " + user.error);
  Json body = {{"tag", tags.value}, {"email", user.value["email"]}};
  Result result = client.rest(host, "DELETE", "/tags", body, "remove_tag");
  if (result.is_ok()) result.data = {{"removed", tags.value}, {"email", user.value["email"]}};
  return result;
}

}  // namespace cartwire::encharge
