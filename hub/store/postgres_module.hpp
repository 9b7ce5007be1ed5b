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
  /** A new store on the database `conninfo` names (connected and migrated); throws when it cannot be. */
  Store *(*open)(const std::string &conninfo);
  /** The parts of a libpq connection string or URI that are set, by keyword; throws std::invalid_argument. */
  std::map<std::string, std::string> (*parse)(const std::string &conninfo);
};

inline constexpr const char kPostgresModuleSymbol[] = "cartwire_postgresql_module";
inline constexpr const char kPostgresModuleFile[] = "cartwire-postgresql.so";

}  // namespace cartwire::store
