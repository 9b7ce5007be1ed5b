#pragma once

#include <optional>
#include <string>
#include <vector>

#include "payload.hpp"

namespace cartwire::samcart {

/** What a post reports, whatever SamCart calls it. */
enum class Kind {
  purchase,
  refund,
  partial_refund,
  charged,
  charge_failed,
  delinquent,
  recovered,
  canceled,
  restarted,
  completed,
  other,
};

/** `type` (classic) or `event_type` (alternative envelope) → Kind, case-insensitively. */
Kind kind_of(const std::string &name);

/** One product of a post; a post usually carries one. */
struct Product {
  std::string id;
  std::optional<std::string> name;
  std::optional<Money> price;
  std::optional<std::string> transaction_id;
};

/**
 * The facts of one post, read from either envelope: the classic Notify URL
 * body (`type`, `customer`, `order`, `product`, …) or the alternative
 * `{"event_type", "data": {…}}` one. Pointers refer into the payload, which
 * must outlive the Delivery.
 */
struct Delivery {
  /** SamCart's own name for what happened; "" when the post names nothing. */
  std::string name;
  Kind kind = Kind::other;
  const Json *customer = nullptr;
  /** Where shipping_* fields live (`order`, or `data`). */
  const Json *order = nullptr;
  /** `order.custom_fields`: a list of {name, slug, value} or an object. */
  const Json *custom_fields = nullptr;
  std::string order_id;
  std::optional<Money> total;
  std::optional<std::string> currency;
  std::string subscription_id;
  /** Processor transaction ids of the order, in the order sent. */
  std::vector<std::string> order_transactions;
  std::optional<std::string> created_at;
  std::vector<Product> products;
  std::optional<std::string> refund_id;
  std::optional<Money> refund_amount;
  /** Test order, when the post says either way. */
  std::optional<bool> test;
  /** Amounts that were present but could not be read, by field path. */
  std::vector<std::string> unreadable;
};

Delivery read_delivery(const Json &payload);

}  // namespace cartwire::samcart
