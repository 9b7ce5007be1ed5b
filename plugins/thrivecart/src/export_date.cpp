#include "export_date.hpp"

#include <cctype>
#include <chrono>
#include <string_view>
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

/** Reads a cell from its start: runs of digits and the characters between them. */
struct DateText {
  std::string_view text;
  std::size_t at = 0;

  bool end() const { return at == text.size(); }
  char lower() const { return end() ? '\0' : static_cast<char>(std::tolower(static_cast<unsigned char>(text[at]))); }
  bool next_is(char c) {
    if (end() || text[at] != c) return false;
    ++at;
    return true;
  }
  /** Moves past the run of `chars` from here; how many there were. */
  std::size_t skip(std::string_view chars) {
    std::size_t start = at;
    while (!end() && chars.find(text[at]) != std::string_view::npos) ++at;
    return at - start;
  }
  /** The run of digits from here when it has `least` to `most` of them; `length` is how many. */
  std::optional<int> number(std::size_t least, std::size_t most, std::size_t *length = nullptr) {
    std::size_t start = at;
    int n = 0;
    for (; !end() && text[at] >= '0' && text[at] <= '9'; ++at) {
      if (at - start == most) return std::nullopt;
      n = n * 10 + (text[at] - '0');
    }
    if (length) *length = at - start;
    if (at - start < least) return std::nullopt;
    return n;
  }
};

// 15/01/2026, 1/15/26, 15.01.2026 or 2026-1-15 (the same separator twice), then the time if any: a run of
// spaces or Ts, 10:00 or 10:00:30, then AM or PM (a.m., pm) after spaces if any.
std::optional<SheetDate> sheet_date(std::string_view value) {
  DateText in{value};
  SheetDate date;
  std::size_t first_length = 0, year_length = 0;
  auto first = in.number(1, 4, &first_length);
  if (!first || first_length == 3) return std::nullopt;
  char separator = in.end() ? '\0' : value[in.at];
  if (separator != '/' && separator != '.' && separator != '-') return std::nullopt;
  ++in.at;
  auto second = in.number(1, 2);
  if (!second || !in.next_is(separator)) return std::nullopt;
  date.year_first = first_length == 4;
  auto third = date.year_first ? in.number(1, 2) : in.number(2, 4, &year_length);
  if (!third || year_length == 3) return std::nullopt;
  date.first = static_cast<unsigned>(date.year_first ? *second : *first);
  date.second = static_cast<unsigned>(date.year_first ? *third : *second);
  date.year = date.year_first ? *first : *third + (year_length == 2 ? 2000 : 0);
  date.span = 86400;
  if (in.end()) return date;

  if (in.skip(" T") == 0) return std::nullopt;
  auto hour = in.number(1, 2);
  if (!hour || !in.next_is(':')) return std::nullopt;
  auto minute = in.number(2, 2);
  if (!minute) return std::nullopt;
  date.hour = *hour;
  date.minute = *minute;
  date.span = 60;
  if (in.next_is(':')) {
    auto second_of_minute = in.number(2, 2);
    if (!second_of_minute) return std::nullopt;
    date.sec = *second_of_minute;
    date.span = 1;
  }
  if (in.end()) return date;
  in.skip(" ");
  char half = in.lower();
  if (half != 'a' && half != 'p') return std::nullopt;
  ++in.at;
  in.next_is('.');
  if (in.lower() != 'm') return std::nullopt;
  ++in.at;
  in.next_is('.');
  if (!in.end()) return std::nullopt;
  date.half = half;
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
  if (auto iso = iso8601_seconds(value)) {
    // 2026-01-15 is the whole day, 2026-01-15 10:00 the whole minute.
    int64_t span = value.size() == 10 ? 86400 : value.size() > 16 && value[16] == ':' ? 1 : 60;
    return at(iso, span);
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
