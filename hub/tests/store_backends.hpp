// The stores the store tests run against: each test of a suite instantiated
// with kStoreBackends runs once on a SQLite file and once on a PostgreSQL
// schema of its own.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "postgres.hpp"
#include "store/store.hpp"

namespace cartwire::testing {

inline const auto kStoreBackends = ::testing::Values(std::string("sqlite"), std::string("postgresql"));

class StoreBackend {
 public:
  explicit StoreBackend(const std::string &kind) {
    if (kind == "postgresql") {
      schema_ = std::make_unique<PostgresSchema>();
      return;
    }
    auto *test = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(test->test_suite_name()) + "-" + test->name();
    for (char &c : name)
      if (c == '/') c = '-';
    dir_ = std::filesystem::temp_directory_path() / ("cw-store-" + std::to_string(::getpid()) + "-" + name);
    std::filesystem::remove_all(dir_);
  }
  ~StoreBackend() {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  bool sqlite() const { return !schema_; }
  /** The PostgreSQL schema (not for "sqlite"). */
  const PostgresSchema &schema() const { return *schema_; }

  /** Opens the store (again): the same database each time. */
  std::unique_ptr<store::Store> open() const {
    if (schema_) return store::open_postgresql(schema_->conninfo());
    return store::open_sqlite((dir_ / "sub" / "hub.db").string());
  }

  /** One number straight from the database, behind the store's back; -1 for none. */
  int64_t scalar(const std::string &sql) const {
    if (schema_) return schema_->scalar(sql);
    sqlite3 *db = nullptr;
    sqlite3_open_v2((dir_ / "sub" / "hub.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt *stmt = nullptr;
    int64_t out = -1;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
      out = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }

  /** The SQLite file (for "sqlite"). */
  std::string sqlite_path() const { return (dir_ / "sub" / "hub.db").string(); }

  /** Changes the database behind the store's back (another connection); throws what went wrong. */
  void exec(const std::string &sql) const {
    if (schema_) return schema_->exec(sql);
    sqlite3 *db = nullptr;
    sqlite3_open_v2((dir_ / "sub" / "hub.db").c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
    sqlite3_busy_timeout(db, 5000);
    char *error = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    std::string message = error ? error : "";
    sqlite3_free(error);
    sqlite3_close(db);
    if (rc != SQLITE_OK) throw std::runtime_error(message + " in " + sql);
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<PostgresSchema> schema_;
};

}  // namespace cartwire::testing
