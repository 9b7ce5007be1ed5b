// ThriveCart account-webhook bodies (as ThriveCart documents them), form-encoded
// as ThriveCart sends them, for end-to-end tests.
#pragma once

#include <Poco/URI.h>

#include <string>
#include <utility>
#include <vector>

namespace cartwire::testing::thrivecart {

using Fields = std::vector<std::pair<std::string, std::string>>;

inline std::string encode(const Fields &fields) {
  std::string out;
  for (auto &[k, v] : fields) {
    std::string key, value;
    Poco::URI::encode(k, "[]", key);  // brackets stay literal, as PHP clients send them
    Poco::URI::encode(v, "&=+%#?/:@,", value);
    out += (out.empty() ? "" : "&") + key + "=" + value;
  }
  return out;
}

struct Customer {
  std::string email = "ann@example.com";
  std::string first_name = "Ann";
  std::string last_name = "Lee";
  Fields custom;  // extra customer[...] keys, e.g. {"custom_fields][company", "Acme"}
};

struct Item {
  std::string type;  // product | bump | upsell | downsell
  std::string id;
  std::string name;
  int cents;
};

inline std::string money(int cents) {
  std::string frac = std::to_string(cents % 100);
  return std::to_string(cents / 100) + "." + (frac.size() < 2 ? "0" : "") + frac;
}

inline void add_common(Fields &f, const std::string &event, const std::string &secret, const std::string &order_id,
                       const Customer &c) {
  f.insert(f.end(), {{"event", event},
                     {"mode", "live"},
                     {"mode_int", "2"},
                     {"thrivecart_account", "acme"},
                     {"thrivecart_secret", secret},
                     {"base_product", "12"},
                     {"order_id", order_id},
                     {"invoice_id", "000000004"},
                     {"currency", "USD"},
                     {"customer_id", "4244502"},
                     {"customer[email]", c.email},
                     {"customer[name]", c.first_name + " " + c.last_name},
                     {"customer[first_name]", c.first_name},
                     {"customer[last_name]", c.last_name},
                     {"customer[address][country]", "US"},
                     {"customer[address][zip]", "10001"}});
  for (auto &[k, v] : c.custom) f.push_back({"customer[" + k + "]", v});
}

/** order.success with the given charged items (the first is the front-end product). */
inline std::string order_success(const std::string &secret, const std::string &order_id, const std::vector<Item> &items,
                                 const Customer &c = {}) {
  Fields f;
  add_common(f, "order.success", secret, order_id, c);
  int total = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::string p = "order[charges][" + std::to_string(i) + "]";
    const Item &it = items[i];
    f.insert(f.end(), {{p + "[item_type]", it.type},
                       {p + "[reference]", it.id},
                       {p + "[name]", it.name},
                       {p + "[amount]", std::to_string(it.cents)},
                       {p + "[amount_str]", money(it.cents)},
                       {p + "[type]", "single"}});
    f.push_back({"purchase_map[" + std::to_string(i) + "]", it.type + "-" + it.id});
    total += it.cents;
  }
  f.insert(f.end(), {{"order_timestamp", "1768471200"},
                     {"order[total]", std::to_string(total)},
                     {"order[total_str]", money(total)},
                     {"order[processor]", "stripe"}});
  return encode(f);
}

/** order.subscription_payment (a rebill) of item `type-id`. */
inline std::string rebill(const std::string &secret, const std::string &order_id, const std::string &invoice_id,
                          const Item &item, const Customer &c = {}) {
  Fields f;
  add_common(f, "order.subscription_payment", secret, order_id, c);
  for (auto &[k, v] : f)
    if (k == "invoice_id") v = invoice_id;
  f.insert(f.end(), {{"subscription_id", "sub_" + order_id},
                     {"date_unix", "1771149600"},
                     {"subscription[type]", item.type},
                     {"subscription[id]", item.id},
                     {"subscription[name]", item.name},
                     {"subscription[amount]", std::to_string(item.cents)},
                     {"subscription[amount_str]", money(item.cents)},
                     {"subscription[frequency]", "month"},
                     {"subscription[invoice_id]", invoice_id}});
  return encode(f);
}

/** order.rebill_failed of item `type-id` of subscription sub_<order_id>, at `date_unix`. */
inline std::string rebill_failed(const std::string &secret, const std::string &order_id, const std::string &date_unix,
                                 const Item &item, const Customer &c = {}) {
  Fields f;
  add_common(f, "order.rebill_failed", secret, order_id, c);
  f.insert(f.end(), {{"subscription_id", "sub_" + order_id},
                     {"date_unix", date_unix},
                     {"subscription[type]", item.type},
                     {"subscription[id]", item.id},
                     {"subscription[name]", item.name},
                     {"subscription[amount]", std::to_string(item.cents)},
                     {"subscription[amount_str]", money(item.cents)}});
  return encode(f);
}

/**
 * order.refund of `cents` of item `type-id` at `date_unix`: the refund object
 * as ThriveCart knows it (type, id, amount), without the order's charges, so
 * the hub tells full from partial by the item's stored purchase.
 */
inline std::string refund(const std::string &secret, const std::string &order_id, const Item &item, int cents,
                          const Customer &c = {}, const std::string &date_unix = "1771149600") {
  Fields f;
  add_common(f, "order.refund", secret, order_id, c);
  f.insert(f.end(), {{"date_unix", date_unix},
                     {"refund[type]", item.type},
                     {"refund[id]", item.id},
                     {"refund[amount]", std::to_string(cents)}});
  return encode(f);
}

/** order.subscription_cancelled of item `type-id`. */
inline std::string cancel(const std::string &secret, const std::string &order_id, const Item &item,
                          const Customer &c = {}) {
  Fields f;
  add_common(f, "order.subscription_cancelled", secret, order_id, c);
  f.insert(f.end(), {{"subscription_id", "sub_" + order_id},
                     {"date_unix", "1771236000"},
                     {"subscription[type]", item.type},
                     {"subscription[id]", item.id},
                     {"subscription[name]", item.name}});
  return encode(f);
}

}  // namespace cartwire::testing::thrivecart
