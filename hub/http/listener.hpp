// An HTTP listener that slow or idle clients cannot hold on to, shared by the
// webhook and admin listeners.
#pragma once

#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/ThreadPool.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>

namespace cartwire::http {

class Watchdog;

/**
 * For a handler whose work outlasts read_timeout (a reload waiting for running
 * attempts): renews the deadline of the connection the calling thread serves,
 * so the watchdog does not cut it off before the answer. Does nothing off a
 * listener's thread.
 */
void keep_connection_alive();

/**
 * Runs `work` on another thread and waits for it, keeping the calling
 * thread's connection alive meanwhile; returns what it returns, or throws what
 * it throws.
 */
template <class Work>
auto keeping_connection_alive(Work &&work) {
  auto done = std::async(std::launch::async, std::forward<Work>(work));
  while (done.wait_for(std::chrono::milliseconds(200)) != std::future_status::ready) keep_connection_alive();
  return done.get();
}

struct ListenerLimits {
  /** Worker threads: connections served at once. */
  int threads = 16;
  /** Accepted connections waiting for a worker; more are closed at once. */
  int max_queued = 1024;
  /** Budget for one request: its headers, then its body and the answer, each within this time. */
  std::chrono::milliseconds read_timeout{10000};
};

/**
 * Poco's timeout applies to each read, so a client sending a byte at a time
 * would keep a worker thread forever. Here a watchdog shuts down a connection
 * whose request has not arrived within read_timeout (headers; then body and
 * answer), which frees its worker. Each listener has its own thread pool, so
 * one listener's clients cannot starve the other's.
 */
class Listener {
 public:
  /**
   * Starts its watchdog and a worker, then listens on host:port. A thread that
   * cannot be started throws std::system_error (before the port is taken); a
   * port that cannot be listened on, Poco's exception.
   */
  Listener(Poco::Net::HTTPRequestHandlerFactory::Ptr factory, const std::string &host, unsigned short port,
           int backlog, const ListenerLimits &limits);
  ~Listener();
  Listener(const Listener &) = delete;
  Listener &operator=(const Listener &) = delete;

  /** Accepts connections, on a thread of its own: std::system_error when it cannot be started. */
  void start();
  /** Stop accepting, end idle keep-alive connections, wait for requests in progress. */
  void stop();
  unsigned short port() const;

 private:
  std::unique_ptr<Watchdog> watchdog_;
  std::unique_ptr<Poco::ThreadPool> pool_;
  Poco::Net::HTTPRequestHandlerFactory::Ptr factory_;
  std::unique_ptr<Poco::Net::TCPServer> server_;
  bool stopped_ = false;
};

}  // namespace cartwire::http
