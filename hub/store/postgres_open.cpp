// The PostgreSQL store as the hub reaches it: through its module.
#include "modules/module.hpp"
#include "store/postgres_module.hpp"
#include "store/store.hpp"

namespace cartwire::store {
namespace {

const PostgresModule &module() {
  return *static_cast<const PostgresModule *>(
      modules::symbol(kPostgresModuleFile, kPostgresModuleSymbol, "PostgreSQL store"));
}

}  // namespace

std::unique_ptr<Store> open_postgresql(const std::string &conninfo, bool migrate) {
  return std::unique_ptr<Store>(module().open(conninfo, migrate));
}

std::map<std::string, std::string> postgresql_parts(const std::string &conninfo) { return module().parse(conninfo); }

std::string describe_postgresql(const std::string &conninfo) {
  // Only the parts that say where: a password is a secret.
  std::string where;
  try {
    auto parts = postgresql_parts(conninfo);
    for (const char *key : {"host", "hostaddr", "port", "dbname", "user"})
      if (auto it = parts.find(key); it != parts.end()) where += (where.empty() ? "" : " ") + it->first + "=" + it->second;
  } catch (const std::exception &) {
    return "postgresql (storage.url cannot be read)";
  }
  return "postgresql (" + (where.empty() ? std::string("libpq defaults") : where) + ")";
}

}  // namespace cartwire::store
