// Which rules fire for an event, and the parameters they send.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <cartwire/sdk/json.hpp>

#include "config/config.hpp"

namespace cartwire::rules {

using Json = sdk::Json;

/** The value at a dotted path ("customer.address.zip"), or nullptr. */
const Json *lookup(const Json &event, std::string_view path);

/** The value at a path as text: strings as they are, numbers and booleans printed, others "". */
std::string field_text(const Json &event, std::string_view path);

/** The item reference an event is about: item.reference, else subscription.item_reference, else refund.item_reference. */
std::string product_reference(const Json &event);

/**
 * Render {{path}} templates in rule parameters against an event. A value that
 * is exactly one template keeps the field's JSON type (a number stays a number);
 * templates inside longer text are replaced by the field's text. A missing
 * field renders as "" (or null when it stands alone).
 */
Json render(const Json &params, const Json &event);

/** Template paths used in parameters (for checking them against known event fields). */
std::vector<std::string> template_paths(const Json &params);

/**
 * Rules indexed for matching: by event type, then product rules by exact
 * reference; prefix rules and filters are checked only on the candidates, so
 * matching cost does not grow with the number of product rules.
 */
class Matcher {
 public:
  explicit Matcher(const std::vector<config::Rule> &rules);
  std::vector<const config::Rule *> match(const Json &event) const;
  std::size_t size() const { return rules_.size(); }

 private:
  struct ByType {
    std::vector<const config::Rule *> general;  // global rules and prefix product rules
    std::unordered_map<std::string, std::vector<const config::Rule *>> by_product;
  };
  void collect(const ByType &bucket, const Json &event, const std::string &reference,
               std::vector<const config::Rule *> &out) const;

  std::vector<config::Rule> rules_;
  std::unordered_map<std::string, ByType> by_type_;
  ByType any_type_;
};

/** Does one rule's filter set (and product reference) accept the event? */
bool accepts(const config::Rule &rule, const Json &event, const std::string &reference);

}  // namespace cartwire::rules
