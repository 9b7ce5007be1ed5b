// The seam between the hub and its PostgreSQL module (cartwire-postgresql.so),
// the one part of the hub that links libpq: a hub on the embedded SQLite
// store never maps it.
#pragma once

#include <map>
#include <string>

#include "store/store.hpp"

namespace cartwire::store {

/** Exported by the module under kPostgresModuleSymbol. */
struct PostgresModule {
  /**
   * A new store on the database `conninfo` names, connected and, with
   * `migrate`, migrated (without: refused unless its schema is this hub's).
   * Throws when it cannot be.
   */
  Store *(*open)(const std::string &conninfo, bool migrate);
  /** The parts of a libpq connection string or URI that are set, by keyword; throws std::invalid_argument. */
  std::map<std::string, std::string> (*parse)(const std::string &conninfo);
};

inline constexpr const char kPostgresModuleSymbol[] = "cartwire_postgresql_module";

/**
 * Advisory lock keys of the nodes' protocol: the first of two int4 keys (see
 * postgres_store.cpp). The second is lock_key() of what is locked.
 */
inline constexpr int kMigrationLock = 0x43570001;
inline constexpr int kClaimLock = 0x43570002;
inline constexpr int kDedupeLock = 0x43570003;    // of a dedupe_key
inline constexpr int kOrderingLock = 0x43570004;  // of an ordering_key
inline constexpr int kNodeLock = 0x43570005;      // of a node name

/**
 * SQL of an advisory lock's second key: a hash of the hub's schema and `what`
 * (an SQL text expression), so that hubs in two schemas of one database never
 * wait for each other nor share a node name.
 */
inline std::string lock_key(const std::string &what = "''") {
  return "hashtext(COALESCE(current_schema(), '') || '/' || " + what + ")";
}
inline constexpr const char kPostgresModuleFile[] = "cartwire-postgresql.so";

}  // namespace cartwire::store
