// Outbound HTTP for every connector: one place for timeouts, TLS and connection reuse.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <Poco/Net/HTTPClientSession.h>
#include <cartwire/sdk/http.hpp>

namespace cartwire::http {

/**
 * Performs requests with Poco, keeping idle keep-alive sessions per
 * scheme://host:port for reuse. Thread-safe.
 */
class Client {
 public:
  explicit Client(std::size_t max_idle_per_host = 16) : max_idle_(max_idle_per_host) {}
  sdk::HttpResponse perform(const sdk::HttpRequest &request);

 private:
  std::unique_ptr<Poco::Net::HTTPClientSession> take(const std::string &key, const std::string &scheme,
                                                     const std::string &host, unsigned short port);
  void give_back(const std::string &key, std::unique_ptr<Poco::Net::HTTPClientSession> session);

  std::mutex mutex_;
  std::map<std::string, std::vector<std::unique_ptr<Poco::Net::HTTPClientSession>>> idle_;
  std::size_t max_idle_;
};

}  // namespace cartwire::http
