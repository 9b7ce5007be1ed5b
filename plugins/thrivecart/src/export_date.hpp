#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace cartwire::thrivecart {

/** Which comes first in a date such as 01/02/2026 (--date-format); unknown: such dates are refused. */
enum class DayMonth { unknown, day_first, month_first };

/** An export cell read as a date: its Unix seconds, or why it is none. */
struct ExportDate {
  std::optional<int64_t> seconds;
  /** Set when `seconds` is not: what is wrong, said after the cell ("is not a date", "has its day first: ..."). */
  std::string problem;
  /**
   * The seconds the date written spans from `seconds` on: 1 with its seconds, 60 for a time without them
   * (15/01/2026 10:00, a spreadsheet's default display), 86400 for a day without a time.
   */
  int64_t span = 1;
};

/**
 * Unix seconds from digits, ISO 8601, "YYYY-MM-DD[ HH:MM[:SS]]" read as UTC,
 * or a spreadsheet's date in the order `order` gives (15/01/2026 10:00,
 * 1/15/2026 10:00 AM, 15.01.26, 2026/1/15 10:00). Without an order, a date
 * with its day or month first is refused with the --date-format that reads it.
 */
ExportDate read_export_date(const std::string &value, DayMonth order);

}  // namespace cartwire::thrivecart
