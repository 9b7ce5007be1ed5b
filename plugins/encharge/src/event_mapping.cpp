#include "event_mapping.hpp"

#include <cartwire/sdk/money.hpp>

#include <cstdint>
#include <optional>

namespace cartwire::encharge {
namespace {

using sdk::object_at;

std::string text(const Json &obj, const char *key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  return "";
}

bool all_digits(const std::string &s) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return !(s.size() > 1 && s[0] == '0');  // "007" is a name, not a number
}

// Cents from `obj[key]` (integer, or integer text), else from the decimal `obj[str_key]`.
std::optional<int64_t> cents(const Json &obj, const char *key, const char *str_key) {
  auto it = obj.find(key);
  if (it != obj.end()) {
    if (it->is_number_integer()) return it->get<int64_t>();
    if (it->is_string()) {
      std::string s = it->get<std::string>();
      if (all_digits(s) || s == "0") return std::stoll(s);
    }
  }
  auto str = obj.find(str_key);
  if (str != obj.end() && str->is_string()) return sdk::decimal_to_cents(str->get<std::string>());
  return std::nullopt;
}

bool starts_with(const std::string &s, const std::string &prefix) { return s.rfind(prefix, 0) == 0; }

bool is_refund(const std::string &type) {
  return type == "product.refunded" || type == "product.partially_refunded";
}

}  // namespace

Json id_value(const Json &value) {
  if (value.is_string() && all_digits(value.get<std::string>())) return std::stoll(value.get<std::string>());
  return value;
}

bool from_thrivecart(const Json &event) {
  static const char *const kNames[] = {"order.success", "order.subscription_payment", "order.refund",
                                       "order.rebill_failed", "order.subscription_cancelled"};
  std::string source_type = text(event, "source_type");
  for (const char *name : kNames)
    if (source_type == name) return true;
  // Events imported from ThriveCart's CSV exports share the webhook's dedupe keys.
  if (starts_with(text(event, "dedupe_key"), "tc:")) return true;
  return object_at(event, "raw").contains("thrivecart_account");
}

std::string thrivecart_name(const Json &event) {
  if (!from_thrivecart(event)) return "";
  std::string type = text(event, "type");
  if (type == "order.completed") return "ThriveCart order";
  if (type == "product.purchased") return "ThriveCart purchase";
  if (type == "subscription.charged") return "ThriveCart rebill";
  if (is_refund(type)) return "ThriveCart refund";
  return "";
}

Json event_properties(const Json &event) {
  std::string type = text(event, "type");
  const Json &item = object_at(event, "item");
  const Json &order = object_at(event, "order");
  const Json &subscription = object_at(event, "subscription");
  const Json &refund = object_at(event, "refund");

  std::string item_type = text(item, "type");
  std::string item_id = text(item, "id");
  std::string reference = text(item, "reference");
  if (reference.empty()) {
    if (is_refund(type)) reference = text(refund, "item_reference");
    if (reference.empty()) reference = text(subscription, "item_reference");
  }
  // A reference is "<type>-<id>" (upsell-13); either half can be recovered from it.
  if (auto dash = reference.rfind('-'); dash != std::string::npos && dash > 0) {
    if (item_type.empty()) item_type = reference.substr(0, dash);
    if (item_id.empty()) item_id = reference.substr(dash + 1);
  }
  if (reference.empty() && !item_type.empty() && !item_id.empty()) reference = item_type + "-" + item_id;

  // Which amount the agreed mapping means: the order total for an order, the
  // refunded cents for a refund, the charged item otherwise.
  std::optional<int64_t> amount;
  if (type == "order.completed") amount = cents(order, "total", "total_str");
  if (is_refund(type)) amount = cents(refund, "amount", "amount_str");
  // A partial refund's item may show what was bought (SamCart's does); only
  // the refund says what went back, and without it no amount is sent.
  if (!amount && type != "product.partially_refunded") amount = cents(item, "amount", "amount_str");
  if (!amount && starts_with(type, "subscription.")) amount = cents(subscription, "amount", "amount_str");

  Json props = Json::object();
  if (!item_type.empty()) props["item_type"] = item_type;
  if (!item_id.empty()) props["item_id"] = id_value(Json(item_id));
  if (!reference.empty()) props["item_reference"] = reference;
  if (amount) {
    props["amount"] = *amount;
    props["amount_str"] = sdk::cents_to_decimal(*amount);
  }
  if (order.contains("id") && !order["id"].is_null()) props["order_id"] = id_value(order["id"]);
  if (std::string currency = text(order, "currency"); !currency.empty()) props["currency"] = currency;
  if (subscription.contains("id") && !subscription["id"].is_null()) props["subscription_id"] = subscription["id"];
  if (is_refund(type)) props["partial"] = type == "product.partially_refunded";
  return props;
}

}  // namespace cartwire::encharge
