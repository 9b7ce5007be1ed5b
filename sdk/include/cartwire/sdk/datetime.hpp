/**
 * @file datetime.hpp
 * Date-times as RFC 3339 writes them (2026-01-15T10:00:00Z), and the
 * variants of ISO 8601 that senders and APIs use beside it, read and checked.
 *
 * The reader goes once over the text: its time grows with the text's length
 * and its stack does not, so a value of any length, from a payload or a
 * template, is answered at once. A date-time of the right form is also
 * checked for range: a month from 01 to 12, a day its month has (2026-02-29
 * is none, 2028-02-29 is), an hour to 23, a minute to 59, a second to 60 (a
 * leap second) and an offset to 23:59 either way.
 */
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cartwire::sdk {

/** What may follow a date-time's time. */
enum class Zone {
  utc,       ///< Z only: 2026-01-15T10:00:00Z, as an event's `occurred_at`
  required,  ///< Z or an offset: 2026-01-15T11:00:00+01:00
  optional,  ///< Z, an offset or nothing (2026-01-15T10:00:00, read as UTC)
};

/**
 * The form a date-time is read in. The default is RFC 3339's: a date, a T, a
 * time with its seconds, a fraction of a second of 1 to 9 digits if any
 * (2026-01-15T10:00:00.250Z), and Z or an offset written ±hh:mm. Each field
 * widens or narrows it; name those you set:
 * `sdk::read_date_time(text, {.date_alone = true, .zone = sdk::Zone::optional})`.
 */
struct DateTimeForm {
  /** A date without a time, 2026-01-15, as well (the day's start; it has no zone). */
  bool date_alone = false;
  /** A time without its seconds, 2026-01-15T10:00Z, as well. */
  bool minutes_alone = false;
  /** A space in place of the T, 2026-01-15 10:00:00, as well. */
  bool space_for_t = false;
  /** Z only, Z or an offset, or either or nothing. */
  Zone zone = Zone::required;
  /** An offset without its colon, +0530, as well as +05:30. */
  bool offset_without_colon = false;
  /** A lower-case t and z, which RFC 3339 allows, as well. */
  bool lower_case = false;
  /** Spaces, tabs and line ends before and after the date-time and between its time and its zone. */
  bool spaces = false;
};

/** A date-time read by read_date_time(): each part is in its range. */
struct DateTime {
  int year = 1970;
  int month = 1, day = 1;
  int hour = 0, minute = 0;
  int second = 0;      ///< 60 in a leap second
  int nanosecond = 0;  ///< the fraction of the second: .25 is 250000000
  /** Minutes east of UTC (+05:30 is 330, Z is 0); nullopt when none is written, which counts as UTC. */
  std::optional<int> offset_minutes;

  /** Seconds since 1970-01-01T00:00:00Z, the fraction left out; a leap second counts as the next minute's start. */
  int64_t unix_seconds() const {
    namespace chrono = std::chrono;
    chrono::sys_days date{chrono::year{year} / chrono::month{static_cast<unsigned>(month)} /
                          chrono::day{static_cast<unsigned>(day)}};
    return int64_t{date.time_since_epoch().count()} * 86400 + hour * 3600 + minute * 60 + second -
           int64_t{offset_minutes.value_or(0)} * 60;
  }

  /** Milliseconds since 1970-01-01T00:00:00Z, the fraction cut to whole milliseconds. */
  int64_t unix_milliseconds() const { return unix_seconds() * 1000 + nanosecond / 1000000; }
};

/** What read_date_time() gives: the date-time, or why the text is none. */
struct DateTimeRead {
  std::optional<DateTime> time;
  /**
   * Empty when `time` is set or when the text is not of the form at all;
   * otherwise the part of a date-time of the form that is out of its range,
   * said for a person: "there is no day 30 in February 2026", "there is no
   * hour 24", "there is no offset +24:00".
   */
  std::string out_of_range;

  explicit operator bool() const { return time.has_value(); }
};

namespace detail {

/** Reads `count` digits of `text` from `at` into `out`, moving `at` past them; false when they are not all there. */
inline bool date_time_digits(std::string_view text, std::size_t &at, std::size_t count, int &out) {
  if (text.size() - at < count) return false;
  out = 0;
  for (std::size_t end = at + count; at < end; ++at) {
    if (text[at] < '0' || text[at] > '9') return false;
    out = out * 10 + (text[at] - '0');
  }
  return true;
}

inline bool date_time_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/** 7 → "07", as the parts of a date-time are written. */
inline std::string two_digits(int n) { return (n < 10 ? "0" : "") + std::to_string(n); }

/** 999 → "0999": a year as a date-time writes it, in four digits. */
inline std::string four_digits(int n) {
  std::string digits = std::to_string(n);
  return std::string(digits.size() < 4 ? 4 - digits.size() : 0, '0') + digits;
}

}  // namespace detail

/** `text` read as a date-time of `form`: see DateTimeForm for the forms and DateTimeRead for the answer. */
inline DateTimeRead read_date_time(std::string_view text, const DateTimeForm &form = {}) {
  using detail::date_time_digits;
  if (form.spaces) {
    while (!text.empty() && detail::date_time_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && detail::date_time_space(text.back())) text.remove_suffix(1);
  }
  std::size_t at = 0;
  auto next_is = [&](char c) {
    if (at == text.size() || text[at] != c) return false;
    ++at;
    return true;
  };
  DateTime t;
  if (!date_time_digits(text, at, 4, t.year) || !next_is('-') || !date_time_digits(text, at, 2, t.month) ||
      !next_is('-') || !date_time_digits(text, at, 2, t.day))
    return {};
  if (at == text.size()) {
    if (!form.date_alone) return {};
  } else {
    char t_char = text[at++];
    if (t_char != 'T' && !(t_char == 't' && form.lower_case) && !(t_char == ' ' && form.space_for_t)) return {};
    if (!date_time_digits(text, at, 2, t.hour) || !next_is(':') || !date_time_digits(text, at, 2, t.minute))
      return {};
    if (next_is(':')) {
      if (!date_time_digits(text, at, 2, t.second)) return {};
      if (next_is('.')) {
        std::size_t start = at;
        while (at < text.size() && at - start < 9 && text[at] >= '0' && text[at] <= '9')
          t.nanosecond = t.nanosecond * 10 + (text[at++] - '0');
        if (at == start) return {};
        for (std::size_t digits = at - start; digits < 9; ++digits) t.nanosecond *= 10;
      }
    } else if (!form.minutes_alone) {
      return {};
    }
    if (form.spaces)
      while (at < text.size() && detail::date_time_space(text[at])) ++at;
    if (at == text.size()) {
      if (form.zone != Zone::optional) return {};
    } else {
      char sign = text[at++];
      int hours = 0, minutes = 0;
      if (sign == '+' || sign == '-') {
        if (form.zone == Zone::utc || !date_time_digits(text, at, 2, hours)) return {};
        if (!next_is(':') && !form.offset_without_colon) return {};
        if (!date_time_digits(text, at, 2, minutes)) return {};
        if (hours > 23 || minutes > 59)
          return {std::nullopt, std::string("there is no offset ") + sign + detail::two_digits(hours) + ":" +
                                    detail::two_digits(minutes)};
        t.offset_minutes = (sign == '-' ? -1 : 1) * (hours * 60 + minutes);
      } else if (sign == 'Z' || (sign == 'z' && form.lower_case)) {
        t.offset_minutes = 0;
      } else {
        return {};
      }
      if (at != text.size()) return {};
    }
  }
  static const char *const months[] = {"January", "February", "March",     "April",   "May",      "June",
                                       "July",    "August",   "September", "October", "November", "December"};
  namespace chrono = std::chrono;
  if (t.month < 1 || t.month > 12) return {std::nullopt, "there is no month " + detail::two_digits(t.month)};
  chrono::month month{static_cast<unsigned>(t.month)};
  auto last = chrono::year_month_day_last{chrono::year{t.year}, chrono::month_day_last{month}}.day();
  if (t.day < 1 || static_cast<unsigned>(t.day) > static_cast<unsigned>(last))
    return {std::nullopt, "there is no day " + detail::two_digits(t.day) + " in " + months[t.month - 1] + " " +
                              detail::four_digits(t.year)};
  if (t.hour > 23) return {std::nullopt, "there is no hour " + detail::two_digits(t.hour)};
  if (t.minute > 59) return {std::nullopt, "there is no minute " + detail::two_digits(t.minute)};
  if (t.second > 60) return {std::nullopt, "there is no second " + detail::two_digits(t.second)};
  return {t, ""};
}

}  // namespace cartwire::sdk
