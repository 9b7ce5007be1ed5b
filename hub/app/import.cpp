// `cartwire import`: options, progress (in place on a terminal) and the closing report
// around import::run_import.
#include <Poco/String.h>
#include <Poco/TextEncoding.h>
#include <Poco/Util/Application.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "app/commands.hpp"
#include "engine/engine.hpp"
#include "import/importer.hpp"

namespace cartwire::app {
namespace {

using Poco::Util::Application;
using Clock = std::chrono::steady_clock;

std::string duration_text(double seconds) {
  auto s = static_cast<long>(seconds + 0.5);
  char out[32];
  std::snprintf(out, sizeof out, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  return out;
}

/**
 * Progress: rows, rate, share of the file and time left. On a terminal, one
 * line rewritten in place; elsewhere (a log file, a pipe) a line of its own
 * each time another tenth of the file is read.
 */
class ProgressLine {
 public:
  ProgressLine(uint64_t file_size, bool terminal)
      : file_size_(file_size), terminal_(terminal), started_(Clock::now()), last_(started_) {}

  void update(const import::ImportStats &stats) {
    auto now = Clock::now();
    double share = file_size_ ? static_cast<double>(stats.bytes_read) / static_cast<double>(file_size_) : 0;
    int tenth = static_cast<int>(share * 10);
    if (terminal_ ? now - last_ < std::chrono::milliseconds(250) : tenth <= tenths_ || share >= 1) return;
    last_ = now;
    tenths_ = tenth;
    double elapsed = std::chrono::duration<double>(now - started_).count();
    double rate = elapsed > 0 ? static_cast<double>(stats.rows) / elapsed : 0;
    std::string eta = share > 0 ? duration_text(elapsed / share - elapsed) : "?";
    std::fprintf(stderr, "%s%llu rows  %.0f rows/s  %.0f%%  ETA %s%s", terminal_ ? "\r\033[K" : "",
                 static_cast<unsigned long long>(stats.rows), rate, share * 100, eta.c_str(), terminal_ ? "" : "\n");
    std::fflush(stderr);
    shown_ = terminal_;
  }

  void clear() {
    if (shown_) std::fputs("\r\033[K", stderr);
  }

 private:
  uint64_t file_size_;
  bool terminal_;
  Clock::time_point started_, last_;
  int tenths_ = 0;
  bool shown_ = false;
};

/** What a workbook given for a CSV file is, from its first bytes; empty for anything else. */
std::string workbook(std::istream &in) {
  char start[4] = {};
  in.read(start, sizeof start);
  std::string magic(start, static_cast<std::size_t>(in.gcount()));
  in.clear();
  in.seekg(0);
  if (magic == "PK\x03\x04") return "a spreadsheet workbook (.xlsx or .ods)";
  if (magic == "\xD0\xCF\x11\xE0") return "an Excel 97-2003 workbook (.xls)";
  return "";
}

// Ctrl-C (SIGINT): the import ends after the batch in progress, so that what
// it stored is reported; a second Ctrl-C ends it at once.
std::atomic<bool> interrupted{false};

extern "C" void on_interrupt(int) { interrupted = true; }

void stop_on_interrupt() {
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  action.sa_flags = SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
}

}  // namespace

int import_file(const config::HubConfig &cfg, const plugins::Registry &registry, const std::string &source_id,
                const std::string &path, const ImportCommand &command) {
  auto src = cfg.sources.find(source_id);
  if (src == cfg.sources.end()) {
    std::string known;
    for (auto &[id, _] : cfg.sources) known += (known.empty() ? "" : ", ") + id;
    std::cerr << "cartwire import: no source '" << source_id << "' in " << cfg.file
              << " (sources: " << (known.empty() ? "none" : known) << ")\n";
    return Application::EXIT_USAGE;
  }
  const plugins::Plugin *plugin = registry.find(src->second.connector);
  if (!plugin) {
    std::cerr << "cartwire import: connector '" << src->second.connector << "' is not loaded from "
              << cfg.plugins_dir << "\n";
    return Application::EXIT_CONFIG;
  }
  Poco::TextEncoding::Ptr encoding;
  if (!command.encoding.empty()) {
    encoding = Poco::TextEncoding::find(command.encoding);
    if (!encoding) {
      std::cerr << "cartwire import: --encoding " << command.encoding
                << ": no such encoding (e.g. windows-1252, iso-8859-1, iso-8859-15)\n";
      return Application::EXIT_USAGE;
    }
    // The reader splits the bytes into fields before they are decoded: one byte must be one character.
    const auto &bytes = encoding->characterMap();
    if (!encoding->isA("UTF-8") && std::any_of(std::begin(bytes), std::end(bytes), [](int c) { return c < -1; })) {
      std::cerr << "cartwire import: --encoding " << command.encoding
                << ": not an encoding of one byte per character; save the export as \"CSV UTF-8\" instead\n";
      return Application::EXIT_USAGE;
    }
  }
  std::string date_format = Poco::toUpper(command.date_format);
  if (!date_format.empty() && date_format != sdk::kDayFirst && date_format != sdk::kMonthFirst) {
    std::cerr << "cartwire import: --date-format " << command.date_format << ": say " << sdk::kDayFirst
              << " (15/01/2026 10:00) or " << sdk::kMonthFirst << " (1/15/2026 10:00 AM), the order of day and "
              << "month in the file's dates\n";
    return Application::EXIT_USAGE;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "cartwire import: cannot read " << path << "\n";
    return Application::EXIT_NOINPUT;
  }
  if (std::string kind = workbook(in); !kind.empty()) {
    std::cerr << "cartwire import: " << path << ": this is " << kind
              << ", not CSV: open it and save it as \"CSV UTF-8\" (Excel) or as \"Text CSV\" in UTF-8 (LibreOffice)\n";
    return Application::EXIT_DATAERR;
  }
  std::error_code size_error;
  uint64_t file_size = std::filesystem::file_size(path, size_error);

  // A dry run writes nothing: without a store yet, every event is new.
  bool memory = command.dry_run && cfg.storage.driver == "sqlite" && !std::filesystem::exists(cfg.storage.path);
  std::unique_ptr<store::Store> store;
  try {
    store = memory ? store::open_sqlite(":memory:") : open_store(cfg.storage, /*migrate=*/!command.dry_run);
  } catch (const std::exception &e) {
    std::cerr << "cartwire import: cannot open the store at " << describe(cfg.storage) << ": " << e.what() << "\n";
    return Application::EXIT_CANTCREAT;
  }
  plugins::HostServices services;
  services.clock_ms = wall_clock_ms;
  std::unique_ptr<plugins::Instance> source;
  try {
    source = std::make_unique<plugins::Instance>(*plugin, source_id, src->second.settings, services,
                                                 *engine::hub_secrets(cfg, registry, engine::Unlisted::by_name));
  } catch (const std::exception &e) {
    std::cerr << "cartwire import: source '" << source_id << "': the connector refused its settings: " << e.what()
              << "\n";
    return Application::EXIT_CONFIG;
  }
  std::unique_ptr<engine::Engine> rules;
  import::Planner plan;
  if (command.run_rules) {
    rules = std::make_unique<engine::Engine>(cfg, registry, *store, services);
    plan = [&rules](const sdk::Json &event) { return rules->plan(event); };
  }

  import::ImportOptions options;
  options.kind = command.kind;
  options.dry_run = command.dry_run;
  options.columns = command.columns;
  options.date_format = date_format;
  if (encoding && !encoding->isA("UTF-8")) options.encoding = encoding.get();
  options.stop = &interrupted;
  stop_on_interrupt();
  ProgressLine line(file_size, isatty(STDERR_FILENO));
  options.notice = [&line](const std::string &text) {
    line.clear();
    std::cerr << "cartwire import: " << text << "\n";
  };
  import::ImportStats stats;
  auto started = Clock::now();
  try {
    stats = import::run_import(in, *source, source_id, *store, plan, options, wall_clock_ms(),
                               [&](const import::ImportStats &s) { line.update(s); });
  } catch (const import::ImportError &e) {
    line.clear();
    std::cerr << "cartwire import: " << path << ": " << e.what() << "\n";
    return Application::EXIT_DATAERR;
  } catch (const import::StoreFailed &e) {
    line.clear();
    std::cerr << "cartwire import: " << path << ": storing the rows after line " << e.through_line
              << " failed: " << e.what() << "\n";
    std::cout << path << ": "
              << (e.through_line ? "the rows up to line " + std::to_string(e.through_line) + " are stored (" +
                                       std::to_string(e.stats.events_new) + " new event(s), " +
                                       std::to_string(e.stats.jobs) + " job(s)), the ones after it are not"
                                 : std::string("nothing is stored"))
              << ". Run the same import again once the store can be written: what is stored is recognised, not "
                 "repeated.\n";
    return Application::EXIT_IOERR;
  } catch (const std::exception &e) {
    line.clear();
    std::cerr << "cartwire import: " << path << ": " << e.what() << "\n";
    return Application::EXIT_SOFTWARE;
  }
  line.clear();
  double seconds = std::chrono::duration<double>(Clock::now() - started).count();

  for (auto &problem : stats.problems) std::cout << path << ":" << problem.line << ": " << problem.reason << "\n";
  if (stats.rows_unreadable > stats.problems.size())
    std::cout << "... and " << stats.rows_unreadable - stats.problems.size() << " more unreadable row(s)\n";
  if (!stats.advice.empty()) std::cout << path << ": " << stats.advice << "\n";
  std::cout << (command.dry_run ? "dry run, nothing stored: " : "") << stats.kind << " export " << path << ": "
            << stats.rows << " row(s) read, " << stats.events_new << " event(s) " << (command.dry_run ? "would be " : "")
            << "new, " << stats.events_present << " already present, " << stats.events_repeated
            << " repeated in the file, " << stats.rows_unreadable << " row(s) unreadable"
            << (stats.rows_without_events ? ", " + std::to_string(stats.rows_without_events) +
                                                " row(s) with nothing to record (see docs/import.md)"
                                          : "")
            << "; " << stats.jobs << " job(s) " << (command.dry_run ? "would be " : "")
            << "created" << (command.run_rules ? "" : " (rules not run: add --run-rules)") << "; "
            << duration_text(seconds) << ", "
            << static_cast<uint64_t>(seconds > 0 ? static_cast<double>(stats.rows) / seconds : 0) << " rows/s\n";
  if (stats.stopped_after_line) {
    std::cout << path << ": interrupted after line " << stats.stopped_after_line
              << (command.dry_run ? "; nothing stored" : ": the rows up to it are stored")
              << ". Run the same import again to read the whole file"
              << (command.dry_run ? ".\n" : ": what is stored is recognised, not repeated.\n");
    return 128 + SIGINT;
  }
  return stats.rows_unreadable ? Application::EXIT_DATAERR : Application::EXIT_OK;
}

}  // namespace cartwire::app
