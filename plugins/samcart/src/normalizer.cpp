#include "normalizer.hpp"

#include <optional>
#include <string>
#include <utility>

#include <cartwire/sdk/event.hpp>

#include "customer.hpp"
#include "delivery.hpp"

namespace cartwire::samcart {
namespace {

/** Facts shared by every event built from one post. */
struct Post {
  const Delivery &d;
  const Catalog &catalog;
  /** source_type, occurred_at, mode, customer, order, subscription, raw. */
  Json common = Json::object();
  /** Stands in for a missing id: stable across re-deliveries of the same body. */
  std::string fallback;
  /** UTC day the post arrived, for facts that can happen again later. */
  std::string day;

  std::string or_fallback(const std::string &value) const { return value.empty() ? fallback : value; }

  Json make(const std::string &type, std::string dedupe_key) const {
    Json event = common;
    event["type"] = type;
    event["dedupe_key"] = std::move(dedupe_key);
    return event;
  }

  Json item(const Product &p) const {
    auto kind = catalog.item_types.find(p.id);
    std::string type = kind == catalog.item_types.end() ? "product" : kind->second;
    Json out = {{"type", type}, {"id", p.id}, {"reference", p.id.empty() ? type : type + "-" + p.id}};
    if (p.name) out["name"] = *p.name;
    put_money(out, "amount", p.price);
    return out;
  }

  const Product *first_product() const { return d.products.empty() ? nullptr : &d.products.front(); }
};

const char *canonical_type(Kind kind) {
  switch (kind) {
    case Kind::purchase: return "product.purchased";
    case Kind::refund: return "product.refunded";
    case Kind::partial_refund: return "product.partially_refunded";
    case Kind::charged: return "subscription.charged";
    case Kind::charge_failed: return "subscription.charge_failed";
    case Kind::delinquent: return "subscription.delinquent";
    case Kind::recovered: return "subscription.recovered";
    case Kind::canceled: return "subscription.canceled";
    case Kind::restarted: return "subscription.restarted";
    case Kind::completed: return "subscription.completed";
    case Kind::other: break;
  }
  return "";
}

/** The last part of the canonical type, used in dedupe keys: "canceled", "charge_failed", … */
std::string short_name(Kind kind) {
  std::string type = canonical_type(kind);
  return type.substr(type.find('.') + 1);
}

bool is_subscription_kind(Kind kind) {
  return kind == Kind::charged || kind == Kind::charge_failed || kind == Kind::delinquent ||
         kind == Kind::recovered || kind == Kind::canceled || kind == Kind::restarted || kind == Kind::completed;
}

std::optional<Json> order_of(const Post &post) {
  const Delivery &d = post.d;
  if (d.order_id.empty()) return std::nullopt;
  Json out = {{"id", d.order_id}, {"currency", d.currency.value_or(post.catalog.currency)}};
  put_money(out, "total", d.total);
  return out;
}

std::optional<Json> subscription_of(const Post &post) {
  const Delivery &d = post.d;
  if (d.subscription_id.empty()) return std::nullopt;
  Json out = {{"id", d.subscription_id}};
  if (const Product *p = post.first_product()) {
    out["item_reference"] = post.item(*p)["reference"];
    put_money(out, "amount", p->price);
  }
  return out;
}

std::string mode_of(const Delivery &d) { return d.test.value_or(false) ? "test" : "live"; }

void purchase(const Post &post, std::vector<Json> &out) {
  const Delivery &d = post.d;
  std::string order = post.or_fallback(d.order_id);
  // Each product of an order (bump and upsell included) may come in its own
  // post; they share the order's key, so the order is recorded once.
  out.push_back(post.make("order.completed", "sc:order:" + order));
  for (const Product &p : d.products) {
    Json event = post.make("product.purchased", "sc:order:" + order + ":product:" + post.or_fallback(p.id));
    event["item"] = post.item(p);
    out.push_back(std::move(event));
  }
}

void refund(const Post &post, std::vector<std::string> &warnings, std::vector<Json> &out) {
  const Delivery &d = post.d;
  bool partial = post.d.kind == Kind::partial_refund;
  std::vector<Product> products = d.products;
  if (products.empty()) products.push_back(Product{});
  for (const Product &p : products) {
    Json item = post.item(p);
    std::string reference = item["reference"];
    Json details = Json::object();
    // The refunded amount's field name is unconfirmed. A full refund returns
    // the product's charge; a partial one without an amount is flagged.
    std::optional<Money> amount = products.size() == 1 ? d.refund_amount : std::nullopt;
    if (!amount && !partial) amount = p.price;
    put_money(details, "amount", amount);
    if (!amount) {
      details["amount_unknown"] = true;
      warnings.push_back("SamCart " + d.name + " for order " + post.or_fallback(d.order_id) + ", " + reference +
                         ": the post carries no refunded amount");
    }
    bool named = !p.id.empty() || p.name;
    if (named) details["item_reference"] = reference;
    std::string key = d.refund_id ? "sc:refund:" + *d.refund_id + (products.size() > 1 ? ":product:" + post.or_fallback(p.id) : "")
                                  : "sc:refund:" + post.or_fallback(d.order_id) + ":" + post.or_fallback(p.id) + ":" +
                                        short_name(d.kind);
    Json event = post.make(canonical_type(d.kind), key);
    if (named) event["item"] = std::move(item);
    event["refund"] = std::move(details);
    out.push_back(std::move(event));
  }
}

std::string subscription_key(const Post &post) {
  const Delivery &d = post.d;
  std::string subscription = post.or_fallback(d.subscription_id);
  switch (d.kind) {
    case Kind::charged: {
      const Product *p = post.first_product();
      std::optional<std::string> charge = p ? p->transaction_id : std::nullopt;
      if (!charge && !d.order_transactions.empty()) charge = d.order_transactions.front();
      return charge ? "sc:charge:" + *charge : "sc:charge:" + subscription + ":" + post.day;
    }
    case Kind::completed:
      return "sc:completed:" + subscription;  // a subscription completes once
    case Kind::charge_failed:
      // Dunning retries fail on different days; order.created_at is the
      // order's date and would fold them into one.
      return "sc:failed:" + subscription + ":" + post.day;
    default:
      // Cancellations, delinquency, recovery and restarts can all happen
      // again to the same subscription; the day tells them apart.
      return "sc:" + short_name(d.kind) + ":" + subscription + ":" + post.day;
  }
}

void subscription_event(const Post &post, std::vector<Json> &out) {
  const Delivery &d = post.d;
  Json event = post.make(canonical_type(d.kind), subscription_key(post));
  if (const Product *p = post.first_product()) {
    Json item = post.item(*p);
    // A charge without a product price is the order's total.
    if (!p->price && d.products.size() == 1 && (d.kind == Kind::charged || d.kind == Kind::charge_failed))
      put_money(item, "amount", d.total);
    event["item"] = std::move(item);
  }
  out.push_back(std::move(event));
}

}  // namespace

Normalized normalize(const Json &payload, const NormalizeContext &context) {
  Normalized result;
  Delivery d = read_delivery(payload);
  Post post{d, context.catalog, Json::object(), "h" + short_hash(payload.dump()), utc_day(context.now_unix)};

  int64_t when = context.now_unix;
  // order.created_at dates the order: it dates the purchase, not a later
  // charge, refund or cancellation of the same order.
  if (d.kind == Kind::purchase)
    if (auto created = date_seconds(d.created_at)) when = *created;
  post.common["source_type"] = d.name;
  post.common["occurred_at"] = rfc3339(when);
  post.common["mode"] = mode_of(d);
  if (auto customer = map_customer(d)) post.common["customer"] = *customer;
  if (auto order = order_of(post)) post.common["order"] = *order;
  if (auto subscription = subscription_of(post)) post.common["subscription"] = *subscription;
  if (!context.raw_apart) post.common["raw"] = payload;

  for (const std::string &where : d.unreadable)
    result.warnings.push_back("SamCart " + (d.name.empty() ? std::string("post") : d.name) + ": " + where +
                              " is not a decimal amount; left out of the event (kept in raw)");

  if (d.kind == Kind::purchase) {
    purchase(post, result.events);
  } else if (d.kind == Kind::refund || d.kind == Kind::partial_refund) {
    refund(post, result.warnings, result.events);
  } else if (is_subscription_kind(d.kind)) {
    subscription_event(post, result.events);
  } else {
    // Kept under SamCart's own name; the body itself is its identity.
    // SamCart's names are CamelCase: CheckoutFailed → samcart.checkout_failed.
    std::string part = sdk::event_type_words("samcart", d.name, "unknown");
    result.events.push_back(post.make("samcart." + part, "sc:" + part + ":" + post.fallback));
  }
  return result;
}

}  // namespace cartwire::samcart
