// Execution-log search at scale: fills a store with N events, N jobs and N
// attempts (generated with SQL, 4 events per customer), then times searches
// by email through Store::search_jobs and Store::search_events, the calls
// the admin API makes.
//
//   cartwire_search DB ROWS [QUERIES]     DB is created or extended to ROWS rows
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "store/store.hpp"

using namespace Poco::Data::Keywords;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

void fill(const std::string &path, int64_t rows) {
  cartwire::store::open_sqlite(path);  // creates the schema
  Poco::Data::Session s("SQLite", path);
  s << "PRAGMA synchronous=OFF", now;
  s << "PRAGMA cache_size=-1048576", now;
  Poco::Int64 have = 0;
  s << "SELECT COUNT(*) FROM attempts", into(have), now;
  if (have >= rows) return;
  if (have > 0) throw std::runtime_error(path + " holds " + std::to_string(have) + " attempts; remove it first");
  Poco::Int64 n = rows, customers = std::max<int64_t>(1, rows / 4);
  auto start = Clock::now();
  s.begin();
  s << "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?) "
       "INSERT INTO events(id, source, type, dedupe_key, occurred_at, received_at, mode, email, order_id, item_ref, body) "
       "SELECT i, 'thrivecart', 'order.completed', 'thrivecart:order:' || i, '2025-01-15T14:32:07Z', "
       "1736951527000 + i * 1000, 'live', 'customer' || (i % ?) || '@example.com', '' || (4815162342 + i), "
       "'product-' || (i % 500), '{\"type\":\"order.completed\"}' FROM k",
      use(n), use(customers), now;
  s << "INSERT INTO jobs(id, event_id, rule, integration, action, params, state, attempts, due_at, created_at, "
       "updated_at) SELECT id, id, 'notify-every-order', 'sink', 'post', '{}', "
       "CASE WHEN id % 50 = 0 THEN 'failed' ELSE 'succeeded' END, 1, received_at, received_at, received_at + 120 "
       "FROM events",
      now;
  s << "INSERT INTO attempts(job_id, number, started_at, duration_ms, outcome, error, exchanges) "
       "SELECT id, 1, created_at, 12, CASE WHEN state = 'failed' THEN 'permanent' ELSE 'ok' END, NULL, "
       "'[{\"request\":{\"method\":\"POST\"},\"response\":{\"status\":200}}]' FROM jobs",
      now;
  s.commit();
  std::printf("generated %lld events, jobs and attempts in %.1f s\n", static_cast<long long>(rows), ms_since(start) / 1000);
}

struct Timing {
  double p50, p99, max;
};

template <typename F>
Timing time_queries(int queries, F &&query) {
  std::vector<double> ms;
  for (int i = 0; i < queries; ++i) {
    auto start = Clock::now();
    query(i);
    ms.push_back(ms_since(start));
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 99 / 100)], ms.back()};
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 3) {
    std::cerr << "usage: cartwire_search DB ROWS [QUERIES]\n";
    return 2;
  }
  std::string path = argv[1];
  int64_t rows = std::stoll(argv[2]);
  int queries = argc > 3 ? std::stoi(argv[3]) : 200;
  Poco::Data::SQLite::Connector::registerConnector();
  fill(path, rows);
  auto store = cartwire::store::open_sqlite(path);
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> customer(0, std::max<int64_t>(1, rows / 4) - 1);
  std::size_t found = 0;
  auto by_email = [&](int) {
    cartwire::store::Search q;
    q.email = "Customer" + std::to_string(customer(rng)) + "@Example.com";  // stored lower-cased
    found += store->search_jobs(q).size();
  };
  auto events_by_email = [&](int) {
    cartwire::store::Search q;
    q.email = "customer" + std::to_string(customer(rng)) + "@example.com";
    found += store->search_events(q).size();
  };
  auto failed_by_email = [&](int) {
    cartwire::store::Search q;
    q.email = "customer" + std::to_string(customer(rng)) + "@example.com";
    q.states = {"failed", "dead"};
    found += store->search_jobs(q).size();
  };
  for (auto &[name, fn] : std::vector<std::pair<std::string, std::function<void(int)>>>{
           {"jobs by email", by_email}, {"events by email", events_by_email}, {"failed jobs by email", failed_by_email}}) {
    found = 0;
    Timing t = time_queries(queries, fn);
    std::printf("SEARCH rows=%lld query=\"%s\" queries=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f rows_found=%zu\n",
                static_cast<long long>(rows), name.c_str(), queries, t.p50, t.p99, t.max, found);
  }
  return 0;
}
