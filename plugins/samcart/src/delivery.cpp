#include "delivery.hpp"

#include <map>

namespace cartwire::samcart {
namespace {

std::string folded(const std::string &name) {
  std::string out;
  for (char c : name) out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

// Classic `type` values (observed, plus the likely names of the two
// unconfirmed triggers) and the alternative envelope's `event_type` values.
const std::map<std::string, Kind> kKinds = {
    {"order", Kind::purchase},
    {"refund", Kind::refund},
    {"partialrefund", Kind::partial_refund},
    {"recurringpaymentsucceeded", Kind::charged},
    {"recurringpaymentfailed", Kind::charge_failed},
    {"subscriptiondelinquent", Kind::delinquent},
    {"subscriptionrecovered", Kind::recovered},
    {"recurringpaymentrecovered", Kind::recovered},
    {"cancel", Kind::canceled},
    {"subscriptionrestarted", Kind::restarted},
    {"subscriptioncompleted", Kind::completed},
    {"order.completed", Kind::purchase},
    {"order.refunded", Kind::refund},
    {"subscription.charged", Kind::charged},
    {"charge.failed", Kind::charge_failed},
};

/** Reads an amount, remembering `where` when a value is present but unreadable. */
std::optional<Money> amount(Delivery &d, const std::optional<std::string> &value, const std::string &where) {
  if (!value) return std::nullopt;
  auto out = money(value);
  if (!out) d.unreadable.push_back(where);
  return out;
}

std::vector<std::string> texts(const Json *node) {
  std::vector<std::string> out;
  if (node && node->is_array()) {
    for (const Json &entry : *node)
      if (auto value = text(&entry)) out.push_back(*value);
  } else if (auto value = text(node)) {
    for (auto &part : split_list(*value))
      if (!part.empty()) out.push_back(part);
  }
  return out;
}

/**
 * The classic `product` object. One handler splits `id` and `price` on
 * commas, so a multi-product post may join its values; names, prices and
 * transaction ids are split only when they give as many parts as the ids
 * (a single product's "1,299.00" is a price, not a list).
 */
std::vector<Product> classic_products(Delivery &d, const Json *product) {
  std::vector<Product> out;
  if (!object(product)) return out;
  auto id = text(child(product, "id"));
  std::vector<std::string> ids = id ? split_list(*id) : std::vector<std::string>{""};
  auto name = text(child(product, "name"));
  auto price = text(child(product, "price"));
  auto transaction = text(child(product, "transaction_id"));
  auto part = [&](const std::optional<std::string> &joined, std::size_t i) -> std::optional<std::string> {
    if (!joined) return std::nullopt;
    if (ids.size() == 1) return joined;
    auto parts = split_list(*joined);
    if (parts.size() != ids.size() || parts[i].empty()) return std::nullopt;
    return parts[i];
  };
  for (std::size_t i = 0; i < ids.size(); ++i) {
    Product p;
    p.id = ids[i];
    p.name = part(name, i);
    p.price = amount(d, part(price, i), "product.price");
    p.transaction_id = part(transaction, i);
    if (!p.id.empty() || p.name || p.price) out.push_back(std::move(p));
  }
  return out;
}

std::vector<Product> listed_products(Delivery &d, const Json *products) {
  std::vector<Product> out;
  if (!products || !products->is_array()) return out;
  for (const Json &row : *products) {
    if (!object(&row)) continue;
    Product p;
    p.id = text(row, "id").value_or(text(row, "product_id").value_or(""));
    p.name = text(row, "name");
    p.price = amount(d, text(row, "price"), "products[].price");
    p.transaction_id = text(row, "transaction_id");
    out.push_back(std::move(p));
  }
  return out;
}

std::optional<bool> test_flag(const Json *node) {
  if (auto mode = text(child(node, "mode")); mode == "test" || mode == "live") return *mode == "test";
  for (const char *key : {"test_mode", "test_order", "is_test"})
    if (auto value = flag(child(node, key))) return value;
  return std::nullopt;
}

/** Refunded amount: its field name is unconfirmed, so the likely spellings are all read. */
const std::initializer_list<std::string_view> kRefundAmountKeys = {"refund_amount", "refunded_amount",
                                                                   "amount_refunded"};

void read_classic(Delivery &d, const Json &p) {
  d.name = text(p, "type").value_or("");
  d.customer = object(child(p, "customer"));
  d.order = object(child(p, "order"));
  d.custom_fields = child(d.order, "custom_fields");
  d.order_id = text(child(d.order, "id")).value_or("");
  d.total = amount(d, text(child(d.order, "total")), "order.total");
  d.currency = first_text(d.order, {"currency"});
  if (!d.currency) d.currency = text(p, "currency");
  d.subscription_id = text(child(d.order, "subscription_id")).value_or(text(p, "subscription_id").value_or(""));
  d.order_transactions = texts(child(d.order, "transaction_id"));
  d.created_at = text(child(d.order, "created_at"));
  d.products = classic_products(d, child(p, "product"));
  if (d.products.empty()) d.products = listed_products(d, child(p, "products"));
  d.refund_id = text(p, "refund_transaction_id");
  auto refunded = first_text(&p, kRefundAmountKeys);
  if (!refunded) refunded = first_text(d.order, kRefundAmountKeys);
  if (!refunded) refunded = first_text(child(p, "product"), kRefundAmountKeys);
  d.refund_amount = amount(d, refunded, "refund amount");
  d.test = test_flag(&p);
  if (!d.test) d.test = test_flag(d.order);
}

void read_alternative(Delivery &d, const Json &p, const Json *data) {
  d.name = text(p, "event_type").value_or("");
  d.customer = object(child(data, "customer"));
  d.order = data;
  d.custom_fields = child(data, "custom_fields");
  d.order_id = first_text(data, {"order_id", "id"}).value_or("");
  d.total = amount(d, first_text(data, {"order_total", "total"}), "data.order_total");
  d.currency = text(child(data, "currency"));
  d.subscription_id = text(child(data, "subscription_id")).value_or("");
  d.order_transactions = texts(child(data, "transaction_id"));
  d.created_at = first_text(data, {"created_at", "order_date"});
  d.products = listed_products(d, child(data, "products"));
  d.refund_id = first_text(data, {"refund_transaction_id", "refund_id"});
  d.refund_amount = amount(d, first_text(data, kRefundAmountKeys), "data.refund_amount");
  d.test = test_flag(data);
  if (!d.test) d.test = test_flag(&p);
}

}  // namespace

Kind kind_of(const std::string &name) {
  auto it = kKinds.find(folded(name));
  return it == kKinds.end() ? Kind::other : it->second;
}

Delivery read_delivery(const Json &payload) {
  Delivery d;
  const Json *data = object(child(payload, "data"));
  if (text(payload, "event_type") && data && !text(payload, "type")) {
    read_alternative(d, payload, data);
  } else {
    read_classic(d, payload);
  }
  d.kind = kind_of(d.name);
  return d;
}

}  // namespace cartwire::samcart
