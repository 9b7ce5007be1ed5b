#include "export_date.hpp"

#include <Poco/DateTime.h>
#include <Poco/DateTimeParser.h>

#include <cctype>
#include <chrono>
#include <regex>
#include <utility>

#include "payload.hpp"

namespace cartwire::thrivecart {
namespace {

/**
 * A date as a spreadsheet rewrites it in its locale: 15/01/2026 10:00,
 * 1/15/2026 10:00:00 PM, 15.01.2026, 15-01-2026, and with the year's last two
 * digits (01/15/26 10:00 AM, 15.01.26), which are of this century; day and
 * month in the order written. Or with the year first, then the month
 * (2026/1/15 10:00, as in Japanese, Chinese or Korean), which is no question
 * of order.
 */
struct SheetDate {
  unsigned first = 0, second = 0;
  int year = 0, hour = 0, minute = 0, sec = 0;
  int64_t span = 1;  // 60 without seconds, 86400 without a time
  char half = 0;  // 'a' or 'p' after a time said AM or PM
  bool year_first = false;  // first is the month
};

std::optional<SheetDate> sheet_date(const std::string &value) {
  static const std::string time = R"((?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?: *([AaPp])\.?[Mm]\.?)?)?)";
  static const std::regex day_or_month_first(R"((\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2}))" + time),
      year_first(R"((\d{4})([/.-])(\d{1,2})\2(\d{1,2}))" + time);
  // The longest is "12/31/2026  11:59:59 P.M."; std::regex recurses once a character, so a long cell
  // (a run of spaces) would overflow the stack.
  constexpr std::size_t kLongest = 40;
  if (value.size() > kLongest) return std::nullopt;
  std::smatch m;
  bool by_year = false;
  if (!std::regex_match(value, m, day_or_month_first)) {
    if (!std::regex_match(value, m, year_first)) return std::nullopt;
    by_year = true;
  }
  auto number = [&](int group) { return m[group].matched ? std::stoi(m[group].str()) : 0; };
  SheetDate date;
  if (by_year) {
    date.year = number(1);
    date.first = static_cast<unsigned>(number(3));
    date.second = static_cast<unsigned>(number(4));
  } else {
    date.first = static_cast<unsigned>(number(1));
    date.second = static_cast<unsigned>(number(3));
    date.year = number(4) + (m[4].length() == 2 ? 2000 : 0);
  }
  date.hour = number(5);
  date.minute = number(6);
  date.sec = number(7);
  date.span = !m[5].matched ? 86400 : m[7].matched ? 1 : 60;
  if (m[8].matched) date.half = static_cast<char>(std::tolower(static_cast<unsigned char>(m[8].str()[0])));
  date.year_first = by_year;
  return date;
}

/** Unix seconds of `date` (as UTC) read with its day or its month first; nullopt when that is no date or time. */
std::optional<int64_t> sheet_seconds(const SheetDate &date, bool day_first) {
  namespace chrono = std::chrono;
  chrono::year_month_day ymd{chrono::year{date.year}, chrono::month{day_first ? date.second : date.first},
                             chrono::day{day_first ? date.first : date.second}};
  int hour = date.hour;
  if (date.half) {
    if (hour < 1 || hour > 12) return std::nullopt;
    hour = hour % 12 + (date.half == 'p' ? 12 : 0);
  }
  if (!ymd.ok() || hour > 23 || date.minute > 59 || date.sec > 59) return std::nullopt;
  chrono::sys_seconds at = chrono::sys_days{ymd} + chrono::hours{hour} + chrono::minutes{date.minute} +
                           chrono::seconds{date.sec};
  return at.time_since_epoch().count();
}

const char *date_format(bool day_first) { return day_first ? "DD/MM/YYYY" : "MM/DD/YYYY"; }

ExportDate fail(std::string problem) { return {std::nullopt, std::move(problem)}; }

ExportDate at(std::optional<int64_t> seconds, int64_t span) { return {seconds, "", span}; }

}  // namespace

ExportDate read_export_date(const std::string &value, DayMonth order) {
  if (auto unix = unix_seconds(value)) return at(unix, 1);
  // Poco's parser skips what it does not understand; insist on a date first.
  auto digits = [&](std::size_t from, std::size_t count) {
    if (value.size() < from + count) return false;
    for (std::size_t i = from; i < from + count; ++i)
      if (!std::isdigit(static_cast<unsigned char>(value[i]))) return false;
    return true;
  };
  bool dated = digits(0, 4) && value[4] == '-' && digits(5, 2) && value[7] == '-' && digits(8, 2);
  bool timed = value.size() == 10 || (value.size() >= 16 && (value[10] == ' ' || value[10] == 'T') &&
                                       digits(11, 2) && value[13] == ':' && digits(14, 2));
  if (dated && timed) {
    int64_t span = value.size() == 10 ? 86400 : value.size() >= 19 && value[16] == ':' && digits(17, 2) ? 1 : 60;
    if (auto iso = iso8601_seconds(value)) return at(iso, span);
    for (const char *format : {"%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"}) {
      Poco::DateTime parsed;
      int offset = 0;
      if (Poco::DateTimeParser::tryParse(format, value, parsed, offset)) return at(parsed.timestamp().epochTime(), span);
    }
  }
  auto date = sheet_date(value);
  if (!date) {
    // The spreadsheet's form named as the file's --date-format reads it, or with the option that does.
    std::string sheet = order == DayMonth::day_first     ? "15/01/2026 10:00"
                        : order == DayMonth::month_first ? "1/15/2026 10:00 AM"
                                                         : "15/01/2026 10:00 with --date-format DD/MM/YYYY";
    return fail("is not a date (use 2026-01-15 10:00:00, ISO 8601, unix seconds, or " + sheet + ")");
  }
  if (date->year_first) {
    if (auto seconds = sheet_seconds(*date, false)) return at(seconds, date->span);
    return fail("is not a date");
  }
  bool day_first = sheet_seconds(*date, true).has_value(), month_first = sheet_seconds(*date, false).has_value();
  if (order != DayMonth::unknown) {
    bool asked = order == DayMonth::day_first;
    if (auto seconds = sheet_seconds(*date, asked)) return at(seconds, date->span);
    if (asked ? month_first : day_first)
      return fail(std::string("is not a ") + date_format(asked) + " date but " + date_format(!asked) +
                  ": import the file with --date-format " + date_format(!asked));
  }
  if (day_first && month_first)
    return fail("has its day or its month first: import the file with --date-format DD/MM/YYYY or "
                "--date-format MM/DD/YYYY, the order the spreadsheet writes dates in");
  if (day_first || month_first)
    return fail(std::string("has its ") + (day_first ? "day" : "month") +
                " first: import the file with --date-format " + date_format(day_first));
  return fail("is not a date");
}

}  // namespace cartwire::thrivecart
