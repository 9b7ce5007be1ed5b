/**
 * @file file_import.hpp
 * File import triggers: rows of a cart's export in, canonical events out.
 *
 * `cartwire import <source> <file>` reads the file (the hub owns the CSV
 * parsing, progress and storage) and hands the connector the header once,
 * then the rows in batches. The connector maps each row to the same
 * canonical events, with the same `dedupe_key`, that its webhook trigger
 * produces for the same fact, so that importing before or after the
 * webhooks, or twice, stores nothing twice.
 *
 * On the wire (operation "import", available since SDK 1.1.0; a plugin built
 * with an older SDK answers "unknown operation" and the hub says the
 * connector cannot import):
 *
 *   request:  {"trigger": "csv", "kind": "orders" | "", "date_format": "" | "DD/MM/YYYY" | "MM/DD/YYYY",
 *              "header": ["Order ID", ...],
 *              "rows": [{"line": 2, "fields": {"Order ID": "1514394", ...}}, ...]}
 *   response: {"kind": "orders", "error": "",
 *              "rows": [{"line": 2, "events": [...]}, {"line": 3, "error": "order_id is empty"}]}
 *
 * A request without rows only checks the header: the answer names the kind
 * of export (detected from the header when `kind` is empty) or carries an
 * `error` that lists the columns each kind expects. Rows arrive in file
 * order; `line` is the line of the file where the row starts. Calls may come
 * from any thread but never concurrently for one import.
 */
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cartwire/sdk/json.hpp"

namespace cartwire::sdk {

/** `date_format` of a file whose dates have the day first, as a spreadsheet writes 15/01/2026 in most locales. */
inline constexpr const char *kDayFirst = "DD/MM/YYYY";
/** `date_format` of a file whose dates have the month first (1/15/2026 10:00 AM, a US spreadsheet's). */
inline constexpr const char *kMonthFirst = "MM/DD/YYYY";

/**
 * One data row: the header's names (as written in the file) → the row's
 * values. A row shorter than the header (Excel leaves out the empty cells at
 * the end of some rows) lacks the names past its last value: a column the
 * row's event is identified by should then be refused as missing, while
 * others read as empty.
 */
struct ImportRow {
  int64_t line = 0;
  Json fields = Json::object();
};

/** A header check (no rows) or a batch of rows to map. */
struct ImportRequest {
  /** Name of the import trigger in the manifest, e.g. "csv". */
  std::string trigger;
  /** The kind of export asked for (e.g. "orders"); empty: detect it from the header. */
  std::string kind;
  /**
   * The order of day and month in the file's dates, from `cartwire import
   * --date-format`: kDayFirst, kMonthFirst, or empty when not given. A date
   * such as 01/02/2026 that a spreadsheet rewrote in its locale is read in
   * that order; without one, it is best refused with the option that reads
   * it. Unambiguous dates (ISO 8601, unix seconds) read the same either way.
   */
  std::string date_format;
  /** The column names as written in the file (BOM removed). */
  std::vector<std::string> header;
  std::vector<ImportRow> rows;

  static ImportRequest from_json(const Json &j) {
    ImportRequest r;
    r.trigger = j.value("trigger", "");
    r.kind = j.value("kind", "");
    r.date_format = j.value("date_format", "");
    if (auto it = j.find("header"); it != j.end() && it->is_array())
      for (auto &name : *it)
        if (name.is_string()) r.header.push_back(name.get<std::string>());
    if (auto it = j.find("rows"); it != j.end() && it->is_array())
      for (auto &row : *it) r.rows.push_back({row.value("line", int64_t{0}), row.value("fields", Json::object())});
    return r;
  }
  Json to_json() const {
    Json rows_json = Json::array();
    for (auto &row : rows) rows_json.push_back({{"line", row.line}, {"fields", row.fields}});
    return {{"trigger", trigger},
            {"kind", kind},
            {"date_format", date_format},
            {"header", header},
            {"rows", std::move(rows_json)}};
  }
};

/**
 * An imported event's field naming, as an array of text, the other dedupe
 * keys the same fact may be stored under, when the row cannot tell its key
 * exactly (a refund dated to the minute, whose webhook's key holds its
 * second). The hub stores the event only when none of them is stored, and
 * never stores this field. A webhook's or a poll's event may name them too
 * (a refund's webhook, the key an import dated to the minute stored it under).
 * Name them both ways (each event of the fact names the others' keys): the
 * one stored second is the one that finds the other.
 */
inline constexpr const char *kDedupeAlternatives = "dedupe_alternatives";

/** What one row became: its events (possibly none), or why it cannot be read. */
struct ImportedRow {
  int64_t line = 0;
  std::vector<Json> events;
  /** Non-empty when the row is unreadable; say which column and why, never quote a secret. */
  std::string error;
};

/**
 * The answer to an ImportRequest. `events` follow the same rules as a
 * webhook's (docs/events.md): each needs `type` and `dedupe_key`.
 */
struct ImportReply {
  /** The kind of export the header was read as. */
  std::string kind;
  /** Non-empty when the whole file is refused (unknown header, unknown kind, missing setting). */
  std::string error;
  std::vector<ImportedRow> rows;

  /** Refuse the file; nothing is stored. */
  static ImportReply refuse(const std::string &reason) {
    ImportReply r;
    r.error = reason;
    return r;
  }

  Json to_json() const {
    Json rows_json = Json::array();
    for (auto &row : rows) {
      Json out = {{"line", row.line}};
      if (row.error.empty()) out["events"] = row.events;
      else out["error"] = row.error;
      rows_json.push_back(std::move(out));
    }
    return {{"kind", kind}, {"error", error}, {"rows", std::move(rows_json)}};
  }
  static ImportReply from_json(const Json &j) {
    ImportReply r;
    r.kind = j.value("kind", "");
    r.error = j.value("error", "");
    if (auto it = j.find("rows"); it != j.end() && it->is_array()) {
      for (auto &row : *it) {
        ImportedRow out;
        out.line = row.value("line", int64_t{0});
        out.error = row.value("error", "");
        if (auto events = row.find("events"); events != row.end() && events->is_array())
          for (auto &e : *events) out.events.push_back(e);
        r.rows.push_back(std::move(out));
      }
    }
    return r;
  }
};

}  // namespace cartwire::sdk
