#include "payload.hpp"

#include <Poco/DateTimeFormatter.h>
#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>
#include <Poco/Timestamp.h>

#include <cartwire/sdk/datetime.hpp>
#include <cartwire/sdk/money.hpp>

namespace cartwire::samcart {

std::optional<bool> flag(const Json *node) {
  auto value = text(node);
  if (!value) return std::nullopt;
  std::string v = *value;
  for (auto &c : v)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (v == "true" || v == "1" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "no") return false;
  return std::nullopt;
}

std::optional<Money> money(const std::optional<std::string> &value) {
  if (!value) return std::nullopt;
  auto cents = sdk::decimal_to_cents(*value);
  if (!cents) return std::nullopt;
  return Money{*cents, sdk::cents_to_decimal(*cents)};
}

void put_money(Json &out, const std::string &name, const std::optional<Money> &amount) {
  if (!amount) return;
  out[name] = amount->cents;
  out[name + "_str"] = amount->text;
}

std::vector<std::string> split_list(const std::string &joined) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t end = joined.find(',', start);
    std::string part = joined.substr(start, end == std::string::npos ? std::string::npos : end - start);
    part.erase(0, part.find_first_not_of(" \t"));
    part.erase(part.find_last_not_of(" \t") + 1);
    parts.push_back(std::move(part));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return parts;
}

std::optional<int64_t> date_seconds(const std::optional<std::string> &value) {
  if (!value) return std::nullopt;
  // "2026-01-15 10:00:00" as SamCart writes it, or RFC 3339; spaces around, a lower-case z, +0530 for +05:30.
  // Without a zone the time counts as UTC.
  auto read = sdk::read_date_time(*value, {.space_for_t = true,
                                           .zone = sdk::Zone::optional,
                                           .offset_without_colon = true,
                                           .lower_case = true,
                                           .spaces = true});
  if (!read) return std::nullopt;
  return read.time->unix_seconds();
}

std::string utc_day(int64_t unix_seconds) {
  Poco::Timestamp at = Poco::Timestamp::fromEpochTime(static_cast<std::time_t>(unix_seconds));
  return Poco::DateTimeFormatter::format(at, "%Y-%m-%d");
}

std::string short_hash(std::string_view text) {
  Poco::SHA2Engine engine;
  engine.update(text.data(), static_cast<unsigned>(text.size()));
  return Poco::DigestEngine::digestToHex(engine.digest()).substr(0, 16);
}

}  // namespace cartwire::samcart
