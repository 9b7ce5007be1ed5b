#include "lists.hpp"

namespace cartwire::thinkific {
namespace {

std::string id_text(const Json &value) {
  auto id = id_of(value);
  return id ? std::to_string(*id) : (value.is_string() ? value.get<std::string>() : value.dump());
}

std::string name_of(const Json &item) {
  auto it = item.find("name");
  return it != item.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result list_courses(const Api &api) {
  Result r = api.collect("/courses");
  if (!r.is_ok()) return r;
  Json items = Json::array();
  for (auto &course : r.data["items"]) {
    Json item = {{"id", id_text(course.value("id", Json()))}, {"name", name_of(course)}};
    if (course.contains("slug") && course["slug"].is_string()) item["key"] = course["slug"];
    if (course.contains("product_id") && !course["product_id"].is_null())
      item["product_id"] = id_text(course["product_id"]);
    items.push_back(std::move(item));
  }
  return Result::ok({{"items", std::move(items)}});
}

Result list_bundles(const Api &api) {
  Result r = api.collect("/products");
  if (!r.is_ok()) return r;
  Json items = Json::array();
  for (auto &product : r.data["items"]) {
    if (product.value("productable_type", "") != "Bundle") continue;
    items.push_back({{"id", id_text(product.value("productable_id", Json()))},
                     {"name", name_of(product)},
                     {"product_id", id_text(product.value("id", Json()))},
                     {"status", product.value("status", "")}});
  }
  return Result::ok({{"items", std::move(items)}});
}

Result list_custom_profile_fields(const Api &api, Definitions &definitions) {
  Result r = definitions.get(api, true);
  if (!r.is_ok()) return r;
  Json items = Json::array();
  for (auto &definition : r.data["items"]) items.push_back(definition_item(definition));
  return Result::ok({{"items", std::move(items)}});
}

}  // namespace cartwire::thinkific
