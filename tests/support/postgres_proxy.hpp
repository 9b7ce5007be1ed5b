// A TCP proxy in front of the tests' PostgreSQL server (its Unix socket), for
// a test of a network cut: cut() closes the side of every connection made so
// far that faces the hub, and keeps the side that faces the server open, so
// that the server goes on with those sessions (and their locks) as it would
// until its keepalives gave up on the peer. Connections made after a cut are
// passed on as before.
#pragma once

#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace cartwire::testing {

class PostgresProxy {
 public:
  /** A proxy to the server `conninfo` reaches through its Unix socket (host= a directory). */
  explicit PostgresProxy(const std::string &conninfo) : server_(socket_path(conninfo)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0 ||
        ::listen(listener_, 64) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr *>(&address), &length) != 0)
      throw std::runtime_error(std::string("the proxy cannot listen: ") + std::strerror(errno));
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { accept_all(); });
  }
  ~PostgresProxy() {
    ::shutdown(listener_, SHUT_RDWR);  // ends the accept under way
    acceptor_.join();
    ::close(listener_);
    std::lock_guard lock(mutex_);
    for (auto &link : links_) {
      ::shutdown(link->client, SHUT_RDWR);
      ::shutdown(link->server, SHUT_RDWR);
      for (auto &t : link->relays) t.join();
      ::close(link->client);
      ::close(link->server);
    }
  }
  PostgresProxy(const PostgresProxy &) = delete;
  PostgresProxy &operator=(const PostgresProxy &) = delete;

  /** `conninfo`, reaching its server through this proxy. */
  std::string through(const std::string &conninfo) const {
    return conninfo + " host=127.0.0.1 port=" + std::to_string(port_);
  }

  /** Closes the hub's side of every connection made so far; the server's side stays open. */
  void cut() {
    std::lock_guard lock(mutex_);
    for (auto &link : links_) ::shutdown(link->client, SHUT_RDWR);
  }

 private:
  struct Link {
    int client = -1, server = -1;
    std::vector<std::thread> relays;
  };

  static std::string socket_path(const std::string &conninfo) {
    char *error = nullptr;
    PQconninfoOption *options = PQconninfoParse(conninfo.c_str(), &error);
    if (!options) {
      std::string why = error ? error : "out of memory";
      PQfreemem(error);
      throw std::runtime_error("the proxy cannot read the connection string: " + why);
    }
    std::string host, port = "5432";
    for (PQconninfoOption *o = options; o->keyword; ++o) {
      if (!o->val || !*o->val) continue;
      if (std::string(o->keyword) == "host") host = o->val;
      if (std::string(o->keyword) == "port") port = o->val;
    }
    PQconninfoFree(options);
    if (host.empty() || host[0] != '/') throw std::runtime_error("the proxy needs a server on a Unix socket");
    return host + "/.s.PGSQL." + port;
  }

  void accept_all() {
    for (;;) {
      int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0) return;
      int server = ::socket(AF_UNIX, SOCK_STREAM, 0);
      sockaddr_un address{};
      address.sun_family = AF_UNIX;
      std::strncpy(address.sun_path, server_.c_str(), sizeof address.sun_path - 1);
      if (server < 0 || ::connect(server, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) {
        ::close(client);
        if (server >= 0) ::close(server);
        continue;
      }
      std::lock_guard lock(mutex_);
      auto link = std::make_unique<Link>();
      link->client = client;
      link->server = server;
      link->relays.emplace_back([client, server] { relay(client, server); });
      link->relays.emplace_back([client, server] { relay(server, client); });
      links_.push_back(std::move(link));
    }
  }

  // Bytes from `from` to `to` until either side ends; neither is closed here.
  static void relay(int from, int to) {
    char buffer[16384];
    for (;;) {
      ssize_t n = ::recv(from, buffer, sizeof buffer, 0);
      if (n <= 0) return;
      for (ssize_t sent = 0; sent < n;) {
        ssize_t m = ::send(to, buffer + sent, static_cast<std::size_t>(n - sent), MSG_NOSIGNAL);
        if (m <= 0) return;
        sent += m;
      }
    }
  }

  std::string server_;
  int listener_ = -1;
  unsigned short port_ = 0;
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Link>> links_;
};

}  // namespace cartwire::testing
