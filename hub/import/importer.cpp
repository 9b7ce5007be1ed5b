#include "import/importer.hpp"

#include <Poco/TextConverter.h>
#include <Poco/TextIterator.h>
#include <Poco/UTF8Encoding.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <unordered_set>

#include "engine/engine.hpp"
#include "import/csv_reader.hpp"
#include "rules/matcher.hpp"

namespace cartwire::import {
namespace {

using sdk::Json;

/**
 * Excel writes a CSV this many rows at a time (the header and the 15 rows below it, then 16 by 16); in each, it
 * leaves out the cells at the end of the rows that are empty in all of them.
 */
constexpr int64_t kExcelRows = 16;

bool is_utf8(const std::string &text) {
  static const Poco::UTF8Encoding utf8;
  Poco::TextIterator end(text);
  for (Poco::TextIterator it(text, utf8); it != end; ++it)
    if (*it < 0) return false;
  return true;
}

const std::string kSaveAsUtf8 =
    "Save the export as \"CSV UTF-8\", or import it again with --encoding windows-1252 (Excel's \"CSV\" on Windows) "
    "or the encoding it was saved in";

/** Whether `text` starts with a UTF-16 byte order mark. */
bool utf16(const std::string &text) { return text.rfind("\xff\xfe", 0) == 0 || text.rfind("\xfe\xff", 0) == 0; }

/** Reads, maps and stores one file; keeps the running counts. */
class Run {
 public:
  Run(std::istream &in, plugins::Instance &source, const std::string &source_id, store::Store &store,
      const Planner &plan, const ImportOptions &options, int64_t now_ms)
      : reader_(in), source_(source), source_id_(source_id), store_(store), plan_(plan), options_(options),
        now_ms_(now_ms) {}

  ImportStats go(const std::function<void(const ImportStats &)> &progress) {
    read_header();
    // The rows Excel writes together (kExcelRows of them, the header's first) are all as long as the longest
    // of them: each is read once the others are, and checked against the longest.
    std::vector<CsvRecord> together;
    int64_t group = 0;
    std::size_t widest = header_.size();
    CsvRecord record;
    sdk::ImportRequest batch = request();
    bool stopped = false;
    auto take = [&] {
      for (auto &held : together)
        if (!read(held, widest, batch, progress)) {
          stopped = true;
          break;
        }
      together.clear();
    };
    while (!stopped && reader_.next(record)) {
      if ((record.row - 1) / kExcelRows != group) {
        take();
        group = (record.row - 1) / kExcelRows;
        widest = 0;
      }
      // A last line cut short is no row Excel wrote: it is reported (check).
      bool cut = record.unterminated && record.fields.size() < header_.size();
      if (record.error.empty() && !cut) widest = std::max(widest, record.fields.size());
      together.push_back(std::move(record));
    }
    if (!stopped) take();
    flush(batch);
    stats_.bytes_read = reader_.bytes_read();
    if (progress) progress(stats_);
    // The reader finds some problems and the connector others, a batch later.
    std::stable_sort(stats_.problems.begin(), stats_.problems.end(),
                     [](const RowProblem &a, const RowProblem &b) { return a.line < b.line; });
    return stats_;
  }

 private:
  sdk::ImportRequest request() const {
    sdk::ImportRequest r;
    r.trigger = trigger_;
    r.kind = stats_.kind.empty() ? options_.kind : stats_.kind;
    r.date_format = options_.date_format;
    r.header = header_;
    return r;
  }

  /** One row read: into the batch, or reported; false when a Ctrl-C stops the import after it. */
  bool read(CsvRecord &record, std::size_t widest, sdk::ImportRequest &batch,
            const std::function<void(const ImportStats &)> &progress) {
    ++stats_.rows;
    decode(record.fields);
    if (auto problem = check(record, widest)) {
      unreadable(record.line, *problem);
    } else {
      sdk::ImportRow row{record.line, Json::object()};
      for (std::size_t i = 0; i < record.fields.size(); ++i) row.fields[header_[i]] = std::move(record.fields[i]);
      batch.rows.push_back(std::move(row));
    }
    // Every batch_rows rows read, readable or not (a full batch among them): progress, and a Ctrl-C is heard.
    if (stats_.rows % options_.batch_rows != 0) return true;
    flush(batch);
    if (!options_.dry_run) stored_through_ = record.line;
    batch.rows.clear();
    stats_.bytes_read = reader_.bytes_read();
    if (progress) progress(stats_);
    if (!options_.stop || !*options_.stop) return true;
    stats_.stopped_after_line = record.line;
    return false;
  }

  void read_header() {
    const plugins::Manifest &manifest = source_.plugin().manifest;
    for (auto &t : manifest.triggers)
      if (t.kind == "import" && trigger_.empty()) trigger_ = t.name;
    if (trigger_.empty())
      throw ImportError("source '" + source_id_ + "': connector " + manifest.id + " has no file import trigger");
    CsvRecord record;
    if (!reader_.next(record)) throw ImportError("the file is empty: the first line must name the columns");
    if (!record.error.empty()) throw ImportError("line " + std::to_string(record.line) + ": " + record.error);
    decode(record.fields);
    if (auto bad = std::find_if(record.fields.begin(), record.fields.end(), [](auto &f) { return !is_utf8(f); });
        bad != record.fields.end())
      throw ImportError("line " + std::to_string(record.line) + ": the header is not UTF-8 text" +
                        (utf16(record.fields.front())
                             ? " but UTF-16 (Excel's \"Unicode Text\", whose columns are separated by tabs). Save "
                               "the export as \"CSV UTF-8\" instead"
                             : ". " + kSaveAsUtf8));
    header_ = std::move(record.fields);
    named_ = header_.size();
    while (named_ > 0 && folded(header_[named_ - 1]).empty()) --named_;
    rename_columns();
    sdk::ImportReply reply = source_.import(request());
    if (!reply.error.empty()) throw ImportError(reply.error);
    stats_.kind = reply.kind;
  }

  /** The fields in UTF-8, from the encoding the options name. */
  void decode(std::vector<std::string> &fields) const {
    if (!options_.encoding) return;
    static const Poco::UTF8Encoding utf8;
    Poco::TextConverter converter(*options_.encoding, utf8);
    for (auto &field : fields) {
      std::string text;
      converter.convert(field, text);
      field = std::move(text);
    }
  }

  static std::string folded(const std::string &name) {
    std::size_t start = name.find_first_not_of(" \t"), end = name.find_last_not_of(" \t");
    std::string out = start == std::string::npos ? "" : name.substr(start, end - start + 1);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
  }

  void rename_columns() {
    for (auto &[written, name] : options_.columns) {
      std::string wanted = folded(written);
      auto it = std::find_if(header_.begin(), header_.end(), [&](auto &h) { return folded(h) == wanted; });
      if (it == header_.end()) {
        std::string columns;
        for (auto &h : header_) columns += (columns.empty() ? "" : ", ") + h;
        throw ImportError("--column " + written + "=" + name + ": the file has no column '" + written +
                          "' (columns: " + columns + ")");
      }
      *it = name;
    }
  }

  std::optional<std::string> check(CsvRecord &record, std::size_t widest) {
    if (!record.error.empty()) return record.error;
    // Cells past the named columns are a spreadsheet's: as many as the header has, when they are empty.
    if (record.fields.size() >= named_ && std::all_of(record.fields.begin() + static_cast<std::ptrdiff_t>(named_),
                                                      record.fields.end(), [](auto &f) { return f.empty(); }))
      record.fields.resize(header_.size());
    if (record.fields.size() > header_.size())
      return "has " + std::to_string(record.fields.size()) + " field(s), the header has " +
             std::to_string(header_.size());
    // A shorter row is one whose empty cells at its end Excel left out: the connector reads it without
    // them, and refuses it when they hold what identifies its event. But the last line of a file cut
    // short ends so too, without a line end: that row is not read with its end missing.
    if (record.fields.size() < header_.size() && record.unterminated)
      return "the file ends in this row, after " + std::to_string(record.fields.size()) + " of the header's " +
             std::to_string(header_.size()) + " fields and without a line end: it looks cut short (export it again)";
    for (std::size_t i = 0; i < record.fields.size(); ++i)
      if (!is_utf8(record.fields[i])) {
        stats_.advice = kSaveAsUtf8;
        return "column '" + header_[i] + "' is not UTF-8 text";
      }
    // Excel leaves out the empty cells at the end of the rows it writes together, of all of them alike: a row
    // shorter than another of them lacks a separator before its end, and its values after it are shifted.
    if (record.fields.size() < header_.size() && record.fields.size() < widest) {
      std::size_t last = record.fields.size() - 1;
      std::string value = record.fields[last].size() > 40 ? record.fields[last].substr(0, 40) + "..."
                                                            : record.fields[last];
      return "has " + std::to_string(record.fields.size()) + " of the header's " + std::to_string(header_.size()) +
             " fields where the rows around it have " + std::to_string(std::min(widest, header_.size())) +
             ": a separator looks missing, and the values after it would be read in the columns before theirs "
             "(its last, '" + sdk::valid_utf8(value) + "', as '" + header_[last] + "')";
    }
    return std::nullopt;
  }

  void unreadable(int64_t line, std::string reason) {
    ++stats_.rows_unreadable;
    if (stats_.problems.size() < options_.problems_kept) stats_.problems.push_back({line, std::move(reason)});
  }

  // A call of the store (a batch stored, a purchase looked up): when it fails, the import ends
  // saying which rows are stored.
  template <typename Call>
  auto storing(Call &&call) {
    try {
      return call();
    } catch (const std::exception &e) {
      throw StoreFailed(e.what(), stats_, stored_through_);
    }
  }

  void flush(const sdk::ImportRequest &batch) {
    if (batch.rows.empty()) return;
    sdk::ImportReply reply = source_.import(batch);
    if (!reply.error.empty()) throw ImportError(reply.error);
    std::vector<store::NewEvent> events;
    std::vector<int64_t> lines;  // of each event's row
    for (auto &row : reply.rows) {
      if (!row.error.empty()) {
        unreadable(row.line, row.error);
        continue;
      }
      if (row.events.empty()) ++stats_.rows_without_events;
      std::vector<store::NewEvent> staged;
      for (auto &event : row.events) {
        if (!event.is_object() || !event.contains("type") || !event.contains("dedupe_key") ||
            !event["dedupe_key"].is_string()) {
          staged.clear();
          unreadable(row.line, "the connector produced an event without type or dedupe_key");
          break;
        }
        engine::complete_event(event, source_id_, now_ms_);
        if (!source_.redactor().empty()) source_.redactor().scrub(event);  // no secret of the hub is stored
        store::NewEvent ne;
        // Looked up by the accept, in the transaction storing the event (or by a dry run's count).
        ne.alternatives = engine::take_alternatives(event);
        if (plan_ && !engine::unverified_refund(event)) ne.jobs = plan_(event);  // those: once settled, below
        ne.event = std::move(event);
        staged.push_back(std::move(ne));
      }
      for (auto &ne : staged) {
        events.push_back(std::move(ne));
        lines.push_back(row.line);
      }
    }
    settle_refunds(events);
    if (options_.dry_run) return count_dry(events);
    store_events(events, lines);
  }

  // A batch's events into the store, all of a row's in one transaction: the whole batch in one, unless the
  // store's lock table cannot hold its locks. Then it is stored in parts, halved until they fit (down to a
  // row), and the batches after it in parts of that size; the user is told once. The table is shared with
  // the server's other sessions, which may have held much of it for a while only: once a batch's worth of
  // rows is stored in parts, the part size doubles, part after part, up to a whole batch. A doubled size
  // that fails again is halved, and the rows stored before the next try double too, so that a table too
  // small for good is rarely tried again (a try that fails may fail another session's transaction).
  void store_events(std::vector<store::NewEvent> &events, const std::vector<int64_t> &lines) {
    std::vector<std::size_t> starts;  // where each row's events start, then the end
    for (std::size_t i = 0; i < events.size(); ++i)
      if (i == 0 || lines[i] != lines[i - 1]) starts.push_back(i);
    starts.push_back(events.size());
    const std::size_t rows = starts.size() - 1;
    for (std::size_t row = 0; row < rows;) {
      std::size_t n = std::min(part_rows_, rows - row);
      auto first = events.begin() + static_cast<std::ptrdiff_t>(starts[row]),
           last = events.begin() + static_cast<std::ptrdiff_t>(starts[row + n]);
      std::vector<store::NewEvent> part(std::make_move_iterator(first), std::make_move_iterator(last));
      auto accepted = storing([&]() -> std::optional<std::vector<store::Accepted>> {
        try {
          return store_.accept(part, now_ms_);
        } catch (const store::LockTableFull &) {
          if (n == 1) throw;
          return std::nullopt;
        }
      });
      if (!accepted) {
        std::move(part.begin(), part.end(), first);  // nothing of it is stored: again, in halves
        if (!told_ && options_.notice) options_.notice(lock_table_advice(options_.batch_rows));
        told_ = true;
        if (grown_) rows_before_growing_ *= 2;
        grown_ = false;
        part_rows_ = (n + 1) / 2;
        rows_in_parts_ = 0;
        continue;
      }
      count(*accepted);
      if (part_rows_ != SIZE_MAX && (rows_in_parts_ += n) >= rows_before_growing_ && n == part_rows_) {
        part_rows_ = part_rows_ * 2 >= options_.batch_rows ? SIZE_MAX : part_rows_ * 2;
        grown_ = true;
      }
      row += n;
      if (row < rows) stored_through_ = lines[starts[row]] - 1;  // the rows before the next part's first
    }
  }

  static std::string lock_table_advice(std::size_t rows) {
    return "the database server's lock table is too small to store " + std::to_string(rows) +
           " rows at once (\"out of shared memory\"): each batch is stored in smaller parts instead, which is "
           "slower. The table is shared by all the server's sessions and holds about max_locks_per_transaction times "
           "max_connections locks; to store whole batches, raise max_locks_per_transaction (ALTER SYSTEM SET "
           "max_locks_per_transaction = 256, or in postgresql.conf) and restart the server";
  }

  void count(const std::vector<store::Accepted> &accepted) {
    for (auto &a : accepted) {
      stats_.jobs += a.jobs;
      if (!a.duplicate) {
        ++stats_.events_new;
        created_.push_back(a.event_id);
      } else if (std::binary_search(created_.begin(), created_.end(), a.event_id)) {
        ++stats_.events_repeated;
      } else {
        ++stats_.events_present;
      }
    }
  }

  // Refunds their rows could not qualify are compared with the purchase of
  // their item: from this batch (an export lists an order before its refund),
  // else from the store (a dry run's earlier batches, which it did not store:
  // from what it kept of them). The type decides which rules match, so this
  // comes before planning.
  void settle_refunds(std::vector<store::NewEvent> &events) {
    std::map<std::pair<std::string, std::string>, const Json *> bought;
    for (auto &ne : events) {
      if (ne.event.value("type", "") == "product.purchased") {
        const Json *order = rules::lookup(ne.event, "order.id"), *item = rules::lookup(ne.event, "item.reference");
        if (order && order->is_string() && item && item->is_string())
          bought.emplace(std::pair{order->get<std::string>(), item->get<std::string>()}, &ne.event);
      }
      auto refund = engine::unverified_refund(ne.event);
      if (!refund) continue;
      if (auto it = bought.find(*refund); it != bought.end()) {
        engine::settle_refund(ne.event, *it->second);
      } else if (auto stored = storing([&] { return store_.purchase(source_id_, refund->first, refund->second); })) {
        engine::settle_refund(ne.event, *stored);
      } else if (auto kept = dry_bought_.find(*refund); kept != dry_bought_.end()) {
        engine::settle_refund(ne.event, kept->second);
      }
      if (plan_) ne.jobs = plan_(ne.event);  // by its settled type
    }
    if (!options_.dry_run) return;
    for (auto &[item, purchase] : bought) dry_bought_.emplace(item, engine::refund_basis(*purchase));
  }

  // As the accept would count them: an event is present when its key, or one its row names for the same
  // fact (store::NewEvent::alternatives), is stored, and repeated when an earlier event of the file would be.
  void count_dry(const std::vector<store::NewEvent> &events) {
    std::vector<std::string> keys;
    for (auto &ne : events) {
      keys.push_back(ne.event["dedupe_key"].get<std::string>());
      keys.insert(keys.end(), ne.alternatives.begin(), ne.alternatives.end());
    }
    std::set<std::string> stored = storing([&] { return store_.stored_keys(keys); });
    for (auto &ne : events) {
      const std::string &key = ne.event["dedupe_key"].get_ref<const std::string &>();
      auto named = [&](const auto &known) {
        return known.count(key) ||
               std::any_of(ne.alternatives.begin(), ne.alternatives.end(), [&](auto &k) { return known.count(k); });
      };
      if (named(stored)) {
        ++stats_.events_present;
      } else if (named(seen_)) {
        ++stats_.events_repeated;
      } else {
        seen_.insert(key);
        ++stats_.events_new;
        stats_.jobs += ne.jobs.size();
      }
    }
  }

  CsvReader reader_;
  plugins::Instance &source_;
  const std::string &source_id_;
  store::Store &store_;
  const Planner &plan_;
  const ImportOptions &options_;
  int64_t now_ms_;
  std::string trigger_;
  std::vector<std::string> header_;
  /** The header's columns up to its last named one. */
  std::size_t named_ = 0;
  ImportStats stats_;
  /** The line of the last row of the last batch stored; 0 while none is (a dry run stores none). */
  int64_t stored_through_ = 0;
  /** Ids of the events this import stored, ascending (ids only grow): tells repeats from earlier facts. */
  std::vector<int64_t> created_;
  /** Rows stored in one transaction at most: fewer than a batch once the store's lock table was found small. */
  std::size_t part_rows_ = SIZE_MAX;
  /** Rows stored in parts since a part last failed, and how many before the part size doubles. */
  std::size_t rows_in_parts_ = 0, rows_before_growing_ = options_.batch_rows;
  /** Whether part_rows_ was doubled since a part last failed; whether the user was told of the parts. */
  bool grown_ = false, told_ = false;
  /** Dry runs store nothing, so the keys of the events they count new are remembered here. */
  std::unordered_set<std::string> seen_;
  /** And the purchases of their earlier batches (order id, item reference), as far as a refund reads them. */
  std::map<std::pair<std::string, std::string>, Json> dry_bought_;
};

}  // namespace

ImportStats run_import(std::istream &in, plugins::Instance &source, const std::string &source_id,
                       store::Store &store, const Planner &plan, const ImportOptions &options, int64_t now_ms,
                       const std::function<void(const ImportStats &)> &progress) {
  return Run(in, source, source_id, store, plan, options, now_ms).go(progress);
}

}  // namespace cartwire::import
