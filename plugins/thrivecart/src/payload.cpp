#include "payload.hpp"

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>

#include <algorithm>
#include <iterator>
#include <utility>

#include <cartwire/sdk/datetime.hpp>
#include <cartwire/sdk/money.hpp>

namespace cartwire::thrivecart {

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
  // As ThriveCart writes it (2023-11-08T23:48:20+00:00), and as a spreadsheet rewrites an export's:
  // a space for the T, without seconds or a time, without a zone (UTC).
  auto read = sdk::read_date_time(*value, {.date_alone = true,
                                           .minutes_alone = true,
                                           .space_for_t = true,
                                           .zone = sdk::Zone::optional,
                                           .offset_without_colon = true});
  if (!read) return std::nullopt;
  return read.time->unix_seconds();
}

std::optional<std::string> item_name(const Json *node) {
  auto name = text(node);
  if (!name || name->find('&') == std::string::npos) return name;
  static const std::pair<std::string_view, char> kEscapes[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#039;", '\''}, {"&#39;", '\''}, {"&apos;", '\''}};
  std::string out;
  std::string_view rest = *name;
  while (!rest.empty()) {
    auto escape = std::find_if(std::begin(kEscapes), std::end(kEscapes),
                               [&](const auto &e) { return rest.substr(0, e.first.size()) == e.first; });
    if (escape == std::end(kEscapes)) {
      out += rest.front();
      rest.remove_prefix(1);
    } else {
      out += escape->second;
      rest.remove_prefix(escape->first.size());
    }
  }
  return out;
}

std::string short_hash(std::string_view text) {
  Poco::SHA2Engine engine;
  engine.update(text.data(), static_cast<unsigned>(text.size()));
  return Poco::DigestEngine::digestToHex(engine.digest()).substr(0, 16);
}

}  // namespace cartwire::thrivecart
