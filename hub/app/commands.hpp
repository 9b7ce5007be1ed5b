// The commands of the cartwire executable, apart from option parsing.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "plugins/registry.hpp"
#include "store/store.hpp"

namespace cartwire::app {

/**
 * Validate the configuration against the connectors and the cached lists; prints diagnostics.
 * `allow_unset`: the file was loaded with unset variables allowed, so an empty storage.url is not read.
 */
int check(const config::HubConfig &cfg, const plugins::Registry &registry, const config::Diagnostics &loaded = {},
          bool allow_unset = false);

/** Fetch resource lists of one integration (all of them, or the named ones) into the store. */
int refresh(const config::HubConfig &cfg, const plugins::Registry &registry, const std::string &integration,
            const std::vector<std::string> &lists);

/**
 * Run the hub until `wait_for_stop` returns. SIGHUP (and POST /api/reload)
 * reloads hub.yaml and loads plugins added to the registry's folder.
 */
int serve(const config::HubConfig &cfg, plugins::Registry &registry, const std::function<void()> &wait_for_stop);

/** Options of `cartwire import`. */
struct ImportCommand {
  std::string kind;  // empty: detected from the header
  bool dry_run = false;
  bool run_rules = false;
  std::vector<std::pair<std::string, std::string>> columns;  // --column "Written Name=name"
  std::string encoding;                                      // empty: UTF-8
  std::string date_format;                                   // DD/MM/YYYY, MM/DD/YYYY; empty: none
};

/**
 * Import a cart's CSV export through the file import trigger of a source's
 * connector: events with the dedupe keys of its webhooks, jobs only with
 * run_rules. Progress on stderr (rewritten in place on a terminal); report on stdout.
 */
int import_file(const config::HubConfig &cfg, const plugins::Registry &registry, const std::string &source_id,
                const std::string &path, const ImportCommand &command);

int64_t wall_clock_ms();

/**
 * Open (and migrate) the store `storage` names. Without `migrate`, a shared
 * database whose schema is not this hub's is refused, not changed (commands
 * that only read). With `node`, a SQLite file is held for that node before
 * anything in it is read (Store::hold_node). Throws when it cannot.
 */
std::unique_ptr<store::Store> open_store(const config::StorageConfig &storage, bool migrate = true,
                                         const std::string &node = "");

/** Where the store is, for messages: the file, or the database without its password. */
std::string describe(const config::StorageConfig &storage);

}  // namespace cartwire::app
