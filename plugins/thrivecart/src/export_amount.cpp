#include "export_amount.hpp"

#include <algorithm>
#include <cctype>

#include <cartwire/sdk/money.hpp>

namespace cartwire::thrivecart {
namespace {

void trim_spaces(std::string &text) {
  text.erase(0, text.find_first_not_of(' '));
  text.erase(text.find_last_not_of(' ') + 1);
}

/** Takes a currency sign or code off either end of `text`: "€49,95", "49.95 USD". */
void strip_currency(std::string &text) {
  auto code = [&](std::size_t at) {
    return std::all_of(text.begin() + at, text.begin() + at + 3, [](unsigned char c) { return std::isupper(c); });
  };
  auto ends_with = [&](const std::string &end) {
    return text.size() > end.size() && text.compare(text.size() - end.size(), end.size(), end) == 0;
  };
  for (std::string sign : {"$", "\xE2\x82\xAC", "\xC2\xA3"}) {
    if (text.rfind(sign, 0) == 0) {
      text.erase(0, sign.size());
    } else if (ends_with(sign)) {
      text.erase(text.size() - sign.size());
    } else {
      continue;
    }
    return trim_spaces(text);
  }
  if (text.size() > 4 && code(0) && text[3] == ' ') {
    text.erase(0, 3);
  } else if (text.size() > 4 && code(text.size() - 3) && text[text.size() - 4] == ' ') {
    text.erase(text.size() - 3);
  }
  trim_spaces(text);
}

}  // namespace

std::optional<int64_t> export_cents(std::string text) {
  for (std::string space : {"\xC2\xA0", "\xE2\x80\xAF", "\t"})  // no-break and narrow no-break spaces
    for (std::size_t at; (at = text.find(space)) != std::string::npos;) text.replace(at, space.size(), " ");
  trim_spaces(text);
  bool negative = false;
  auto strip_sign = [&] {
    if (text.empty() || (text.front() != '-' && text.front() != '+')) return;
    negative = text.front() == '-';
    text.erase(0, 1);
    trim_spaces(text);
  };
  strip_sign();
  strip_currency(text);
  strip_sign();

  std::size_t last = text.find_last_of(",.");
  bool decimal = last != std::string::npos && text.find(text[last]) == last &&
                 (text.size() - last != 4 || text.find(text[last] == '.' ? ',' : '.') != std::string::npos);
  std::string integer = decimal ? text.substr(0, last) : text;
  std::string fraction = decimal ? text.substr(last + 1) : "";
  auto digits = [](const std::string &s) {
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
  };
  if (!digits(fraction) || (decimal && fraction.empty())) return std::nullopt;
  std::size_t separator = integer.find_first_of(",. ");
  std::string plain = integer.substr(0, separator);
  if (separator != std::string::npos) {
    // Grouped thousands: one separator, not the decimal one, between groups of three.
    char group = integer[separator];
    if (plain.empty() || plain.size() > 3 || plain[0] == '0' || (decimal && group == text[last])) return std::nullopt;
    for (std::size_t at = separator; at < integer.size(); at += 4) {
      std::string three = integer.substr(at + 1, 3);
      if (integer[at] != group || three.size() != 3 || !digits(three) ||
          (at + 4 < integer.size() && integer[at + 4] != group))
        return std::nullopt;
      plain += three;
    }
  }
  if (!digits(plain) || (plain.empty() && fraction.empty())) return std::nullopt;
  return sdk::decimal_to_cents((negative ? "-" : "") + plain + (decimal ? "." + fraction : ""));
}

}  // namespace cartwire::thrivecart
