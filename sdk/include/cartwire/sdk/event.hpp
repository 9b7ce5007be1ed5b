/**
 * @file event.hpp
 * Checks of a canonical event (docs/events.md) that a sender wrote itself.
 *
 * A cart's connector builds its events and knows their shape; events that
 * arrive already in Cartwire's shape (the json connector's senders, the
 * admin API's test events) are checked here first, so that the hub never
 * stores an event rules and connectors cannot read.
 */
#pragma once

#include <regex>
#include <string>
#include <utility>

#include <cartwire/sdk/datetime.hpp>
#include <cartwire/sdk/json.hpp>

namespace cartwire::sdk {

/**
 * A canonical type ("product.purchased") or a sender's own in the same form
 * ("myshop.cart.abandoned"): lower-case words joined by dots, at most 100
 * characters.
 */
inline bool is_event_type(const std::string &type) {
  static const std::regex shape(R"([a-z][a-z0-9_]*(\.[a-z0-9_]+)+)");
  return type.size() <= 100 && std::regex_match(type, shape);
}

/**
 * A source's own name for something that happened, as the words that follow
 * `prefix.` in an event type ("samcart" and "CheckoutFailed" give
 * "checkout_failed", for samcart.checkout_failed): lower case, a capital
 * after a small letter or a digit starting a new word; any other character
 * becomes '_', empty words go, and the type is cut to 100 characters. A name
 * with no word left gives `fallback`.
 */
inline std::string event_type_words(const std::string &prefix, const std::string &name, const std::string &fallback) {
  const std::size_t room = 100 - prefix.size() - 1;
  std::string out;
  unsigned char before = 0;
  for (unsigned char c : name) {
    bool small_before = (before >= 'a' && before <= 'z') || (before >= '0' && before <= '9');
    if (c >= 'A' && c <= 'Z' && small_before) out += '_';
    before = c;
    bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    char mapped = word ? static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c) : c == '.' ? '.' : '_';
    if (mapped == '.' && (out.empty() || out.back() == '.')) continue;
    out += mapped;
  }
  if (out.size() > room) out.resize(room);
  while (!out.empty() && out.back() == '.') out.pop_back();
  return out.empty() ? fallback : out;
}

/**
 * RFC 3339 in UTC with a Z, as every event's occurred_at (a fraction of 1 to
 * 9 digits allowed), and a date and time that exist (read_date_time()).
 */
inline bool is_event_time(const std::string &text) { return bool(read_date_time(text, {.zone = Zone::utc})); }

/**
 * Why `event` is not a canonical event a sender may give the hub, or "" when
 * it is one. It needs a `type` that is not the hub's own (hub.*) and a
 * `customer.email`; `occurred_at`, `mode` and `dedupe_key` are checked when
 * present, `customer`, `order`, `item`, `subscription` and `refund` must be
 * objects, and their amounts (`order.total`, `item.amount`,
 * `subscription.amount`, `refund.amount`) whole cents. The hub's own fields
 * (`id`, `source`, `raw`) are not looked at: whoever takes the event
 * replaces them.
 */
inline std::string event_problem(const Json &event) {
  if (!event.is_object()) return "an event must be a JSON object";
  std::string type = event.value("type", Json()).is_string() ? event["type"].get<std::string>() : "";
  if (!is_event_type(type)) return "\"type\" must be an event type such as product.purchased";
  if (type.rfind("hub.", 0) == 0) return "\"type\" " + type + " is the hub's own (hub.* types are raised by the hub)";
  for (const char *part : {"customer", "order", "item", "subscription", "refund"})
    if (event.contains(part) && !event[part].is_object()) return "\"" + std::string(part) + "\" must be a JSON object";
  const Json &customer = object_at(event, "customer");
  if (customer.contains("email") && !customer["email"].is_string())
    return "\"customer.email\" must be text such as ann@example.com";
  std::string email = customer.value("email", "");
  if (email.find('@') == std::string::npos) return "\"customer.email\" is required: it joins the customer across tools";
  if (event.contains("occurred_at")) {
    const Json &at = event["occurred_at"];
    DateTimeRead read = at.is_string() ? read_date_time(at.get_ref<const std::string &>(), {.zone = Zone::utc})
                                       : DateTimeRead{};
    if (!read)
      return "\"occurred_at\" must be UTC in RFC 3339, e.g. 2026-01-15T10:00:00Z" +
             (read.out_of_range.empty() ? "" : " (" + read.out_of_range + ")");
  }
  if (event.contains("mode") && event["mode"] != "live" && event["mode"] != "test")
    return "\"mode\" must be live or test";
  if (event.contains("dedupe_key")) {
    const Json &key = event["dedupe_key"];
    std::size_t length = key.is_string() ? key.get_ref<const std::string &>().size() : 0;
    if (length < 1 || length > 200) return "\"dedupe_key\" must be a text of 1 to 200 characters";
  }
  // Money is in integer cents, beside a decimal text (*_str) for people.
  static const std::pair<const char *, const char *> amounts[] = {
      {"order", "total"}, {"item", "amount"}, {"subscription", "amount"}, {"refund", "amount"}};
  for (auto &[part, field] : amounts) {
    const Json &money = object_at(event, part);
    if (money.contains(field) && !money[field].is_number_integer())
      return "\"" + std::string(part) + "." + field + "\" must be a whole number of cents, e.g. 4995 for 49.95";
  }
  return {};
}

}  // namespace cartwire::sdk
