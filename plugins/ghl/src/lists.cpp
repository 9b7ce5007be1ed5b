#include "lists.hpp"

#include <functional>

#include "custom_fields.hpp"

namespace cartwire::ghl {
namespace {

std::string text(const Json &j, const char *key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// These endpoints take no paging parameters and answer with the whole set.
Result fetch_array(const Host &host, const Client &client, const std::string &path, const char *key,
                   const std::function<void(const Json &, Json &)> &add) {
  Result r = client.call(host, "GET", path);
  if (!r.is_ok()) return r;
  auto it = r.data.find(key);
  if (it == r.data.end() || !it->is_array())
    return Result::permanent("GoHighLevel GET " + path.substr(0, path.find('?')) + ": the answer has no '" + key + "' list");
  Json items = Json::array();
  for (auto &item : *it)
    if (item.is_object()) add(item, items);
  return Result::ok({{"items", items}});
}

}  // namespace

Result fetch_list(const Host &host, const Client &client, const std::string &name) {
  std::string loc = sdk::url_encode(client.location_id());
  if (name == "tags") {
    // Tag calls take names, so the name is the value a rule writes.
    return fetch_array(host, client, "/locations/" + loc + "/tags", "tags", [](const Json &t, Json &items) {
      std::string n = text(t, "name");
      if (!n.empty()) items.push_back({{"id", n}, {"name", n}, {"tag_id", text(t, "id")}});
    });
  }
  if (name == "custom_fields") {
    std::vector<CustomField> fields;
    Result r = fetch_custom_fields(host, client, fields);
    if (!r.is_ok()) return r;
    Json items = Json::array();
    for (auto &f : fields) items.push_back({{"id", f.id}, {"name", f.name}, {"key", f.key}, {"type", f.type}});
    return Result::ok({{"items", items}});
  }
  if (name == "workflows" || name == "campaigns") {
    std::string path = (name == "workflows" ? "/workflows/" : "/campaigns/") + std::string("?locationId=") + loc;
    return fetch_array(host, client, path, name.c_str(), [](const Json &w, Json &items) {
      std::string id = text(w, "id");
      if (id.empty()) return;
      std::string n = text(w, "name");
      items.push_back({{"id", id}, {"name", n.empty() ? id : n}, {"status", text(w, "status")}});
    });
  }
  return Result::permanent("GoHighLevel has no list '" + name + "' (lists: tags, custom_fields, workflows, campaigns)");
}

}  // namespace cartwire::ghl
