#include "payload.hpp"

#include <Poco/DateTime.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/DateTimeParser.h>
#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>
#include <Poco/Timestamp.h>

#include <cartwire/sdk/money.hpp>

namespace cartwire::thrivecart {

const Json *child(const Json *node, std::string_view key) {
  if (!node || !node->is_object()) return nullptr;
  auto it = node->find(key);
  return it == node->end() ? nullptr : &*it;
}

const Json *object(const Json *node) { return node && node->is_object() && !node->empty() ? node : nullptr; }

std::optional<std::string> text(const Json *node) {
  if (!node) return std::nullopt;
  std::string out;
  if (node->is_string()) {
    out = node->get<std::string>();
  } else if (node->is_number_integer()) {
    out = node->dump();
  } else if (node->is_number_float()) {
    double value = node->get<double>();
    // JSON deliveries may carry 4995.0 where forms carry "4995".
    out = value == static_cast<double>(static_cast<int64_t>(value)) ? std::to_string(static_cast<int64_t>(value))
                                                                    : node->dump();
  } else if (node->is_boolean()) {
    out = node->get<bool>() ? "true" : "false";
  }
  if (out.empty() || out == "null") return std::nullopt;
  return out;
}

std::optional<std::string> first_text(const Json *node, std::initializer_list<std::string_view> keys) {
  for (auto key : keys)
    if (auto value = text(child(node, key))) return value;
  return std::nullopt;
}

std::optional<int64_t> cents(const Json *node) {
  auto value = text(node);
  if (!value) return std::nullopt;
  std::string_view digits = *value;
  bool negative = !digits.empty() && digits.front() == '-';
  if (negative) digits.remove_prefix(1);
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  int64_t out = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    out = out * 10 + (c - '0');
  }
  return negative ? -out : out;
}

void put_money(Json &out, const std::string &name, const Json *src, const std::string &key) {
  auto amount = cents(child(src, key));
  if (!amount) return;
  out[name] = *amount;
  auto decimal = text(child(src, key + "_str"));
  out[name + "_str"] = decimal ? *decimal : sdk::cents_to_decimal(*amount);
}

std::optional<int64_t> unix_seconds(const std::optional<std::string> &value) {
  if (!value || value->empty() || value->size() > 12) return std::nullopt;
  int64_t out = 0;
  for (char c : *value) {
    if (c < '0' || c > '9') return std::nullopt;
    out = out * 10 + (c - '0');
  }
  return out;
}

std::optional<int64_t> iso8601_seconds(const std::optional<std::string> &value) {
  if (!value) return std::nullopt;
  Poco::DateTime parsed;
  int offset = 0;
  if (!Poco::DateTimeParser::tryParse(Poco::DateTimeFormat::ISO8601_FORMAT, *value, parsed, offset) &&
      !Poco::DateTimeParser::tryParse(Poco::DateTimeFormat::ISO8601_FRAC_FORMAT, *value, parsed, offset))
    return std::nullopt;
  parsed.makeUTC(offset);
  return parsed.timestamp().epochTime();
}

std::string rfc3339(int64_t unix_seconds) {
  Poco::Timestamp at = Poco::Timestamp::fromEpochTime(static_cast<std::time_t>(unix_seconds));
  return Poco::DateTimeFormatter::format(at, "%Y-%m-%dT%H:%M:%SZ");
}

std::string short_hash(std::string_view text) {
  Poco::SHA2Engine engine;
  engine.update(text.data(), static_cast<unsigned>(text.size()));
  return Poco::DigestEngine::digestToHex(engine.digest()).substr(0, 16);
}

}  // namespace cartwire::thrivecart
