#include "payload.hpp"

#include <Poco/DateTimeFormatter.h>
#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>
#include <Poco/Timestamp.h>

#include <regex>

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

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace

std::optional<int64_t> date_seconds(const std::optional<std::string> &value) {
  // The longest is "2026-01-15T10:00:00.123456789+05:30" with a few spaces around it: std::regex recurses
  // once a character, so a longer value from a sender (a run of spaces, of digits) would overflow the stack.
  constexpr std::size_t kLongest = 64;
  if (!value || value->size() > kLongest) return std::nullopt;
  static const std::regex kDate(
      R"(\s*(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?\s*(Z|z|[+-]\d{2}:?\d{2})?\s*)");
  std::smatch m;
  if (!std::regex_match(*value, m, kDate)) return std::nullopt;
  auto num = [&](int i) { return static_cast<int64_t>(std::stoi(m[i].str())); };
  int64_t year = num(1), month = num(2), day = num(3), hour = num(4), minute = num(5), second = num(6);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  int64_t offset = 0;
  std::string zone = m[7].str();
  if (zone.size() > 1) {
    std::string digits;
    for (char c : zone.substr(1))
      if (c != ':') digits += c;
    offset = (std::stoi(digits.substr(0, 2)) * 60 + std::stoi(digits.substr(2, 2))) * 60;
    if (zone[0] == '-') offset = -offset;
  }
  // Without an offset the time counts as UTC.
  return days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
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
