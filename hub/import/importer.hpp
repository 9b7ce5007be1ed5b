// `cartwire import`: a cart's CSV export through its connector's file import
// trigger into the store, as the same events (and dedupe keys) as its webhooks.
#pragma once

#include <Poco/TextEncoding.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <istream>
#include <stdexcept>
#include <string>
#include <vector>

#include "plugins/instance.hpp"
#include "store/store.hpp"

namespace cartwire::import {

struct ImportOptions {
  /** The kind of export (e.g. "orders"); empty: the connector detects it from the header. */
  std::string kind;
  /** Read and map everything, look up which events are already stored, store nothing. */
  bool dry_run = false;
  /**
   * Columns renamed before the connector reads the header: the name written
   * in the file (matched ignoring case and surrounding spaces) → the name the
   * connector reads (e.g. "Transaction ID" → "order_id").
   */
  std::vector<std::pair<std::string, std::string>> columns;
  /**
   * The order of day and month in the file's dates (sdk::kDayFirst or
   * sdk::kMonthFirst), for the connector; empty: dates such as 01/02/2026 are
   * refused with the option that reads them.
   */
  std::string date_format;
  /** The file's text encoding, of one byte per character (Windows-1252, ...), read as such; null: UTF-8. */
  const Poco::TextEncoding *encoding = nullptr;
  /** Rows per batch: one connector call and one store transaction each. */
  std::size_t batch_rows = 1000;
  /** Unreadable rows kept with their reason; past this they are only counted. */
  std::size_t problems_kept = 1000;
  /** Read after every batch: once set (Ctrl-C), the import ends there, keeping what it stored. */
  const std::atomic<bool> *stop = nullptr;
  /** Told once, when it happens, of what makes the import slower and how to avoid it. */
  std::function<void(const std::string &)> notice;
};

struct RowProblem {
  int64_t line = 0;
  std::string reason;
};

struct ImportStats {
  std::string kind;
  uint64_t rows = 0;
  uint64_t events_new = 0;
  /** Events whose dedupe_key was stored before this import (by a webhook or an earlier import). */
  uint64_t events_present = 0;
  /** Events an earlier row of this file gave already (each row of an order names the order). */
  uint64_t events_repeated = 0;
  uint64_t jobs = 0;
  uint64_t rows_unreadable = 0;
  /** Rows read and mapped that gave no event (a subscription still active, say). */
  uint64_t rows_without_events = 0;
  /** The first problems_kept unreadable rows, in file order. */
  std::vector<RowProblem> problems;
  uint64_t bytes_read = 0;
  /** What to do about the file, said once after its unreadable rows (how to convert text that is not UTF-8). */
  std::string advice;
  /** The line of the last row read when `stop` ended the import early; 0 when it read the whole file. */
  int64_t stopped_after_line = 0;
};

/** The whole file is refused (no header, a header the connector does not know, an unusable connector). */
class ImportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/** The store failed mid-file: what the rows before were, and where they end. */
class StoreFailed : public std::runtime_error {
 public:
  StoreFailed(const std::string &what, ImportStats stored, int64_t stored_through_line)
      : std::runtime_error(what), stats(std::move(stored)), through_line(stored_through_line) {}
  /** The counts of the rows stored before (rows read counts the failed batch's too). */
  ImportStats stats;
  /** Every row up to this line is stored (0: none); the ones after it are not. */
  int64_t through_line;
};

/** The jobs an event creates under the rules; empty function: record events only. */
using Planner = std::function<std::vector<store::NewJob>(const sdk::Json &event)>;

/**
 * Import the CSV in `in` through `source` (an instance of a connector with a
 * trigger of kind "import") under the source id `source_id`. `progress` is
 * called after every batch. Throws ImportError when the file is refused
 * before any row is stored, and StoreFailed when the store fails (storing a
 * batch, or looking up the purchase of a refund). A batch whose locks the
 * store's lock table cannot hold (store::LockTableFull) is stored in parts,
 * halved until they fit, and so are the batches after it, the parts doubling
 * again once a batch's worth of rows is stored in parts; `options.notice` is
 * told once.
 */
ImportStats run_import(std::istream &in, plugins::Instance &source, const std::string &source_id,
                       store::Store &store, const Planner &plan, const ImportOptions &options, int64_t now_ms,
                       const std::function<void(const ImportStats &)> &progress);

}  // namespace cartwire::import
