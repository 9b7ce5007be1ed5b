#include "normalizer.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include <cartwire/sdk/event.hpp>
#include <cartwire/sdk/file_import.hpp>

#include "customer.hpp"
#include "payload.hpp"

namespace cartwire::thrivecart {
namespace {

/** Facts shared by every event built from one payload. */
struct Delivery {
  const Json &payload;
  std::string event;
  std::string account;
  std::string order_id;
  std::string subscription_id;
  /** The delivery's own date for keys: `date_unix` as sent, or a stand-in that is stable across re-deliveries. */
  std::string date_key;
  /** source_type, occurred_at, mode, customer, order, subscription, raw. */
  Json common = Json::object();
  /** Stands in for a missing identifier so a key stays stable without colliding (hashes the payload). */
  std::string fallback() const { return "h" + short_hash(payload.dump()); }

  std::string key(std::initializer_list<std::string> parts) const {
    std::string out = "tc:" + account;
    for (auto &part : parts) out += ":" + part;
    return out;
  }
  Json make(const std::string &type, std::string dedupe_key) const {
    Json event = common;
    event["type"] = type;
    event["dedupe_key"] = std::move(dedupe_key);
    return event;
  }
  std::string or_fallback(const std::string &value) const { return value.empty() ? fallback() : value; }
};

/** One item charged now, keyed by (item_type, reference). */
struct Charge {
  std::string type, id;
  const Json *row;
};

std::optional<int64_t> occurred_unix(const Json &p) {
  const Json *order = child(p, "order");
  // The top-level date belongs to this delivery; a rebill or refund may still
  // carry the dates of the order it belongs to.
  for (auto value : {unix_seconds(text(p, "date_unix")), iso8601_seconds(text(p, "date_iso8601")),
                     unix_seconds(text(p, "order_timestamp")), unix_seconds(text(child(order, "date_unix"))),
                     iso8601_seconds(text(child(order, "date_iso8601")))})
    if (value) return value;
  return std::nullopt;
}

std::string mode_of(const Json &p) {
  auto mode = text(p, "mode");
  if (mode == "live" || mode == "test") return *mode;
  auto mode_int = text(p, "mode_int");
  if (mode_int == "1") return "test";
  // Deliveries that carry no mode at all are the live-only ones (affiliate events).
  return "live";
}

Json item_of(const std::string &type, const std::string &id) {
  Json item = {{"type", type}, {"id", id}};
  item["reference"] = type.empty() || id.empty() ? type + id : type + "-" + id;
  return item;
}

std::optional<Json> order_of(const Delivery &d) {
  const Json *order = child(d.payload, "order");
  if (d.order_id.empty() && !object(order)) return std::nullopt;
  Json out = Json::object();
  if (!d.order_id.empty()) out["id"] = d.order_id;
  if (auto invoice = text(d.payload, "invoice_id").value_or(text(child(order, "invoice_id")).value_or(""));
      !invoice.empty())
    out["invoice_id"] = invoice;
  if (auto currency = text(d.payload, "currency").value_or(text(child(order, "currency")).value_or(""));
      !currency.empty())
    out["currency"] = currency;
  put_money(out, "total", order, "total");
  return out;
}

std::optional<Json> subscription_of(const Delivery &d) {
  const Json *sub = object(child(d.payload, "subscription"));
  if (!sub && d.subscription_id.empty()) return std::nullopt;
  Json out = Json::object();
  if (!d.subscription_id.empty()) out["id"] = d.subscription_id;
  auto type = text(child(sub, "type")), id = text(child(sub, "id"));
  if (type && id) out["item_reference"] = *type + "-" + *id;
  put_money(out, "amount", sub, "amount");
  if (auto frequency = text(child(sub, "frequency"))) out["frequency"] = *frequency;
  if (const Json *rebills = child(sub, "remaining_rebills")) {
    // null means unlimited, which is a fact worth keeping, unlike an absent key.
    auto count = cents(rebills);
    out["remaining_rebills"] = count ? Json(*count) : Json(nullptr);
  }
  return out;
}

Delivery read(const Json &payload, const NormalizeContext &context) {
  Delivery d{payload, text(payload, "event").value_or(""), "", "", "", "", Json::object()};
  d.account = text(payload, "thrivecart_account").value_or(context.account);
  d.order_id = text(payload, "order_id").value_or(text(child(child(payload, "order"), "id")).value_or(""));
  d.subscription_id = text(payload, "subscription_id").value_or("");
  auto when = occurred_unix(payload);
  if (auto date_unix = text(payload, "date_unix")) {
    d.date_key = *date_unix;
  } else {
    d.date_key = when ? std::to_string(*when) : d.fallback();
  }
  d.common["source_type"] = d.event;
  d.common["occurred_at"] = rfc3339(when.value_or(context.now_unix));
  d.common["mode"] = mode_of(payload);
  if (auto customer = map_customer(payload)) d.common["customer"] = *customer;
  if (auto order = order_of(d)) d.common["order"] = *order;
  if (auto subscription = subscription_of(d)) d.common["subscription"] = *subscription;
  if (!context.raw_apart) d.common["raw"] = context.raw ? *context.raw : payload;
  return d;
}

/**
 * The items charged now. A subscription bought with its first payment shows
 * up twice (a `single` row and a `recurring` descriptor with the same
 * reference); one item is one purchase, so the non-recurring row wins.
 */
std::vector<Charge> charges_of(const Json &payload) {
  std::vector<Charge> out;
  const Json *rows = child(child(payload, "order"), "charges");
  if (!rows || !rows->is_structured()) return out;
  for (const Json &row : *rows) {
    auto type = text(row, "item_type"), id = text(row, "reference");
    if (!type || !id) continue;
    bool recurring = text(row, "type") == "recurring";
    auto same = std::find_if(out.begin(), out.end(), [&](const Charge &c) { return c.type == *type && c.id == *id; });
    if (same == out.end()) {
      out.push_back({*type, *id, &row});
    } else if (text(*same->row, "type") == "recurring" && !recurring) {
      same->row = &row;
    }
  }
  return out;
}

/**
 * purchase_map (or purchase_map_flat) as items: every item the order bought,
 * charged now or not (a free trial's is charged later).
 */
std::vector<Json> purchase_map_items(const Json &payload) {
  std::vector<std::string> refs;
  if (const Json *map = child(payload, "purchase_map"); map && map->is_structured()) {
    for (const Json &entry : *map)
      if (auto ref = text(&entry)) refs.push_back(*ref);
  } else if (auto flat = text(payload, "purchase_map_flat")) {
    std::size_t start = 0;
    while (start <= flat->size()) {
      std::size_t end = std::min(flat->find(',', start), flat->size());
      std::string ref = flat->substr(start, end - start);
      ref.erase(0, ref.find_first_not_of(" \t"));
      ref.erase(ref.find_last_not_of(" \t") + 1);
      if (!ref.empty()) refs.push_back(ref);
      start = end + 1;
    }
  }
  const Json *names = child(payload, "purchases");
  std::vector<Json> items;
  for (std::size_t i = 0; i < refs.size(); ++i) {
    std::size_t dash = refs[i].find('-');
    Json item = dash == std::string::npos ? item_of("", refs[i]) : item_of(refs[i].substr(0, dash), refs[i].substr(dash + 1));
    item["reference"] = refs[i];
    if (names && names->is_array() && i < names->size())
      if (auto name = item_name(&(*names)[i])) item["name"] = *name;
    if (std::none_of(items.begin(), items.end(), [&](const Json &seen) { return seen["reference"] == refs[i]; }))
      items.push_back(std::move(item));
  }
  return items;
}

void order_success(const Delivery &d, std::vector<Json> &out) {
  const Json &p = d.payload;
  std::string order_key = d.or_fallback(d.order_id);
  Json completed = d.make("order.completed", d.key({"order", order_key}));
  auto base = text(p, "base_product");
  Json item = item_of("product", base.value_or(""));
  if (auto name = item_name(child(p, "base_product_name"))) item["name"] = *name;
  put_money(item, "amount", child(p, "order"), "total");
  if (base) completed["item"] = std::move(item);
  out.push_back(std::move(completed));

  std::vector<Json> items;
  for (const Charge &charge : charges_of(p)) {
    Json it = item_of(charge.type, charge.id);
    if (auto name = item_name(child(charge.row, "name"))) it["name"] = *name;
    put_money(it, "amount", charge.row, "amount");
    items.push_back(std::move(it));
  }
  // An item bought but not charged now (a free trial, a first payment deferred) was bought all the same:
  // it is in purchase_map, with no amount.
  for (Json &bought : purchase_map_items(p))
    if (std::none_of(items.begin(), items.end(), [&](const Json &it) { return it["reference"] == bought["reference"]; }))
      items.push_back(std::move(bought));
  for (Json &it : items) {
    Json purchased = d.make("product.purchased", d.key({"order", order_key, "item", it["reference"].get<std::string>()}));
    purchased["item"] = std::move(it);
    out.push_back(std::move(purchased));
  }
}

std::optional<Json> subscription_item(const Delivery &d) {
  const Json *sub = object(child(d.payload, "subscription"));
  auto type = text(child(sub, "type")), id = text(child(sub, "id"));
  if (!type && !id) return std::nullopt;
  Json item = item_of(type.value_or(""), id.value_or(""));
  if (auto name = item_name(child(sub, "name"))) item["name"] = *name;
  put_money(item, "amount", sub, "amount");
  return item;
}

Json with_subscription_item(Json event, const Delivery &d) {
  if (auto item = subscription_item(d)) event["item"] = std::move(*item);
  return event;
}

Json subscription_charged(const Delivery &d) {
  auto invoice = text(d.payload, "invoice_id");
  if (!invoice) invoice = text(child(child(d.payload, "subscription"), "invoice_id"));
  std::string key = !d.order_id.empty() && invoice ? d.key({"rebill", d.order_id, *invoice})
                                                   : d.key({"rebill", d.or_fallback(d.subscription_id), d.date_key});
  return with_subscription_item(d.make("subscription.charged", key), d);
}

Json refund(const Delivery &d) {
  const Json *refund = child(d.payload, "refund");
  std::string type = text(child(refund, "type")).value_or(""), id = text(child(refund, "id")).value_or("");
  auto amount = cents(child(refund, "amount"));
  Json item = item_of(type, id);
  std::string reference = item["reference"];
  Json details = Json::object();
  put_money(details, "amount", refund, "amount");
  if (!reference.empty()) details["item_reference"] = reference;

  // ThriveCart does not flag partial refunds. When the payload carries the
  // item's charge, its amount decides; otherwise the refund says it is
  // unverified, and the hub compares it with the stored purchase of the item
  // (docs/events.md, "Refunds").
  bool partial = false, compared = false;
  for (const Charge &charge : charges_of(d.payload)) {
    if (charge.type != type || charge.id != id) continue;
    if (auto name = item_name(child(charge.row, "name"))) item["name"] = *name;
    auto charged = cents(child(charge.row, "amount"));
    partial = amount && charged && *amount < *charged;
    compared = amount && charged;
  }
  if (!compared && amount && !reference.empty()) details["unverified"] = true;
  if (amount) {
    item["amount"] = details["amount"];
    item["amount_str"] = details["amount_str"];
  }
  auto key = [&](const std::string &date) {
    return d.key({"refund", d.or_fallback(d.order_id), reference, amount ? std::to_string(*amount) : "", date});
  };
  Json event = d.make(partial ? "product.partially_refunded" : "product.refunded", key(d.date_key));
  // A spreadsheet drops a date's seconds: an import of its copy of the export stored this refund at the start of
  // its minute (sdk::kDedupeAlternatives), the one other key it may be stored under.
  if (auto at = unix_seconds(d.date_key); at && *at % 60 != 0)
    event[sdk::kDedupeAlternatives] = Json::array({key(std::to_string(*at - *at % 60))});
  if (!reference.empty()) event["item"] = std::move(item);
  if (!details.empty()) event["refund"] = std::move(details);
  return event;
}

}  // namespace

std::vector<Json> normalize(const Json &payload, const NormalizeContext &context) {
  Delivery d = read(payload, context);
  std::vector<Json> out;
  if (d.event == "order.success") {
    order_success(d, out);
  } else if (d.event == "order.subscription_payment") {
    out.push_back(subscription_charged(d));
    // No account webhook says a limited subscription (a payment plan) is paid
    // off; its last rebill leaves no rebills remaining. Keyed as the import's.
    if (cents(child(object(child(payload, "subscription")), "remaining_rebills")) == 0)
      out.push_back(with_subscription_item(
          d.make("subscription.completed", d.key({"completed", d.or_fallback(d.subscription_id)})), d));
  } else if (d.event == "order.refund") {
    out.push_back(refund(d));
  } else if (d.event == "order.subscription_cancelled") {
    out.push_back(with_subscription_item(
        d.make("subscription.canceled", d.key({"cancel", d.or_fallback(d.subscription_id)})), d));
  } else if (d.event == "order.subscription_completed") {
    // Not an account-webhook name: the limited-subscriptions import raises it
    // for a subscription whose last rebill was taken.
    out.push_back(with_subscription_item(
        d.make("subscription.completed", d.key({"completed", d.or_fallback(d.subscription_id)})), d));
  } else if (d.event == "order.rebill_failed") {
    out.push_back(with_subscription_item(
        d.make("subscription.charge_failed", d.key({"rebill_failed", d.or_fallback(d.subscription_id), d.date_key})),
        d));
  } else {
    // Unknown names are kept, namespaced; the payload itself is their identity.
    out.push_back(d.make("thrivecart." + sdk::event_type_words("thrivecart", d.event, "unnamed"), d.key({d.event, d.fallback()})));
  }
  return out;
}

}  // namespace cartwire::thrivecart
