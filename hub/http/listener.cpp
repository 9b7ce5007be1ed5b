#include "http/listener.hpp"

#include <Poco/Delegate.h>
#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/TCPServerConnectionFactory.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_map>

#include "http/body.hpp"

namespace cartwire::http {

/**
 * Shuts down connections that overrun their deadline. Each watched connection
 * has a slot whose deadline its own worker renews without a lock (twice per
 * request); only adding and removing a connection take the watchdog's mutex.
 */
class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;

  struct Slot {
    Poco::Net::StreamSocket socket;
    std::atomic<Clock::rep> deadline;
    bool cut = false;  // guarded by the watchdog's mutex
  };

  explicit Watchdog(std::chrono::milliseconds budget) : budget_(budget), thread_([this] { watch(); }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  /** The slot stays valid until remove(); the watchdog never frees it. */
  Slot *add(const Poco::Net::StreamSocket &socket) {
    auto slot = std::unique_ptr<Slot>(new Slot{socket, {deadline()}});
    std::lock_guard lock(mutex_);
    return watched_.emplace(slot.get(), std::move(slot)).first->first;
  }
  void renew(Slot &slot) const { slot.deadline.store(deadline(), std::memory_order_relaxed); }
  void remove(Slot *slot) {
    std::lock_guard lock(mutex_);
    watched_.erase(slot);
  }

 private:
  Clock::rep deadline() const { return (Clock::now() + budget_).time_since_epoch().count(); }

  static void cut(Poco::Net::StreamSocket &socket) {
    try {
      socket.shutdown();  // the worker blocked reading it wakes up to end of stream
    } catch (const Poco::Exception &) {
      // already closed by the client
    }
  }

  void watch() {
    std::unique_lock lock(mutex_);
    while (!closing_) {
      cv_.wait_for(lock, std::chrono::milliseconds(100));
      auto now = Clock::now().time_since_epoch().count();
      for (auto &[key, slot] : watched_) {
        if (!slot->cut && slot->deadline.load(std::memory_order_relaxed) <= now) {
          cut(slot->socket);
          slot->cut = true;
        }
      }
    }
  }

  std::chrono::milliseconds budget_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool closing_ = false;
  std::unordered_map<Slot *, std::unique_ptr<Slot>> watched_;
  std::thread thread_;
};

namespace {

// The connection the current worker thread serves, so handlers can renew its deadline.
struct Watched {
  Watchdog *watchdog = nullptr;
  Watchdog::Slot *slot = nullptr;
};
thread_local Watched current_connection;

void renew_current() {
  if (current_connection.watchdog) current_connection.watchdog->renew(*current_connection.slot);
}

}  // namespace

void keep_connection_alive() { renew_current(); }

namespace {

// The headers are in: the body and the answer get a fresh budget, and so does
// the next request on a kept-alive connection once this one is answered.
// A worker serves one connection at a time, so while other connections wait
// for a worker this one is closed after its answer: otherwise a client that
// keeps its connection open holds the worker, and the waiting clients get
// nothing until it goes quiet for the keep-alive timeout.
class RenewingHandler : public Poco::Net::HTTPRequestHandler {
 public:
  RenewingHandler(Poco::Net::HTTPRequestHandler *inner, bool others_waiting)
      : inner_(inner), others_waiting_(others_waiting) {}
  void handleRequest(Poco::Net::HTTPServerRequest &request, Poco::Net::HTTPServerResponse &response) override {
    if (others_waiting_) response.setKeepAlive(false);
    inner_->handleRequest(request, response);
    renew_current();
  }

 private:
  std::unique_ptr<Poco::Net::HTTPRequestHandler> inner_;
  bool others_waiting_;
};

class RenewingFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit RenewingFactory(Poco::Net::HTTPRequestHandlerFactory::Ptr inner) : inner_(std::move(inner)) {}
  Poco::Net::HTTPRequestHandler *createRequestHandler(const Poco::Net::HTTPServerRequest &request) override {
    renew_current();
    Poco::Net::HTTPRequestHandler *handler = inner_->createRequestHandler(request);
    return handler ? new RenewingHandler(handler, server_ && server_->queuedConnections() > 0) : nullptr;
  }
  void serve(const Poco::Net::TCPServer &server) { server_ = &server; }
  /** Fired by server_stopped(), with whether requests in progress are cut off. */
  Poco::BasicEvent<const bool> &stopped() { return serverStopped; }
  /** What HTTPServer::stopAll() does: tell the connections that the server stopped. */
  void server_stopped(bool abort_current) {
    const bool abort = abort_current;
    serverStopped(this, abort);
  }

 private:
  Poco::Net::HTTPRequestHandlerFactory::Ptr inner_;
  const Poco::Net::TCPServer *server_ = nullptr;
};

// Waits for the next request by reading it. Poco's hasMoreRequests() polls the
// socket first, and on Linux each poll creates, arms and closes an epoll
// instance: four system calls per request. The read has the same deadlines:
// the socket's receive timeout and the watchdog, whose shutdown ends it.
class Session : public Poco::Net::HTTPServerSession, public RawSource {
 public:
  Session(const Poco::Net::StreamSocket &socket, Poco::Net::HTTPServerParams::Ptr params)
      : HTTPServerSession(socket, params) {}

  // From the session's buffer, refilled a socket read at a time. get()'s
  // own end test cannot be used: it returns a signed char, and a byte 0xFF
  // would read as the end.
  int raw_get() override {
    if (buffered() == 0) refill();
    if (buffered() == 0) return -1;
    return static_cast<unsigned char>(static_cast<char>(get()));
  }
  int raw_read(char *buffer, std::streamsize length) override { return read(buffer, length); }

  /** False once the client closes, goes quiet past its deadline, or may not send another request. */
  bool next_request() {
    if (!first_ && !getKeepAlive()) return false;
    first_ = false;
    if (buffered() > 0) return true;
    try {
      peek();
    } catch (const Poco::Exception &) {
      return false;  // timed out or reset
    }
    return buffered() > 0;
  }

 private:
  bool first_ = true;
};

// Serves the requests of one connection, as Poco's HTTPServerConnection does,
// reading each next request through Session and renewing the watchdog.
class WatchedConnection : public Poco::Net::TCPServerConnection {
 public:
  WatchedConnection(const Poco::Net::StreamSocket &socket, Poco::Net::HTTPServerParams::Ptr params,
                    Poco::Net::HTTPRequestHandlerFactory::Ptr factory, Watchdog &watchdog)
      : TCPServerConnection(socket),
        params_(std::move(params)),
        factory_(std::move(factory)),
        watchdog_(watchdog) {
    renewing().stopped() += Poco::delegate(this, &WatchedConnection::server_stopped);
  }
  ~WatchedConnection() override {
    try {
      renewing().stopped() -= Poco::delegate(this, &WatchedConnection::server_stopped);
    } catch (...) {
      // a destructor must not throw
    }
  }

  void run() override {
    current_connection = {&watchdog_, watchdog_.add(socket())};
    struct Done {
      ~Done() {
        current_connection.watchdog->remove(current_connection.slot);
        current_connection = {};
      }
    } done;
    Session session(socket(), params_);
    while (!stopped_ && session.next_request()) {
      std::lock_guard lock(mutex_);
      if (stopped_ || !serve(session)) break;
    }
  }

 private:
  using Status = Poco::Net::HTTPResponse::HTTPStatus;

  RenewingFactory &renewing() { return static_cast<RenewingFactory &>(*factory_); }

  // One request and its answer; false when the connection must end.
  bool serve(Session &session) {
    try {
      Poco::Net::HTTPServerResponseImpl response(session);
      Poco::Net::HTTPServerRequestImpl request(response, session, params_);
      response.setDate(Poco::Timestamp());
      response.setVersion(request.getVersion());
      // A connection serves any number of requests while both sides keep it alive.
      response.setKeepAlive(params_->getKeepAlive() && request.getKeepAlive());
      std::unique_ptr<Poco::Net::HTTPRequestHandler> handler(factory_->createRequestHandler(request));
      if (!handler) {
        send_error(session, Status::HTTP_NOT_IMPLEMENTED);
        return false;
      }
      try {
        body_read_to_end() = false;
        handler->handleRequest(request, response);
        // A body the handler left unread would be read as the next request.
        session.setKeepAlive(response.getKeepAlive() && (body_read_to_end() || !body_to_read(request)));
        return true;
      } catch (const Poco::Exception &) {
        if (!response.sent()) send_error(session, Status::HTTP_INTERNAL_SERVER_ERROR);
        return false;
      }
    } catch (const Poco::Net::NoMessageException &) {
      return false;  // the client closed between requests
    } catch (const Poco::Net::MessageException &) {
      send_error(session, Status::HTTP_BAD_REQUEST);
      return false;
    } catch (const Poco::SyntaxException &) {
      send_error(session, Status::HTTP_BAD_REQUEST);  // a header Poco parses (Content-Length) is no number
      return false;
    } catch (const Poco::Exception &) {
      return false;  // the connection broke
    }
  }

  static void send_error(Session &session, Status status) {
    try {
      Poco::Net::HTTPServerResponseImpl response(session);
      response.setVersion(Poco::Net::HTTPMessage::HTTP_1_1);
      response.setStatusAndReason(status);
      response.setKeepAlive(false);
      response.send();
    } catch (const Poco::Exception &) {
      // the client is gone
    }
    session.setKeepAlive(false);
  }

  // A stop lets the request in progress finish, then ends the connection;
  // an idle one wakes from its read at once.
  void server_stopped(const bool &abort_current) {
    stopped_ = true;
    if (abort_current) {
      shutdown();
      return;
    }
    std::lock_guard lock(mutex_);
    shutdown();
  }
  void shutdown() {
    try {
      socket().shutdown();
    } catch (const Poco::Exception &) {
      // already closed
    }
  }

  Poco::Net::HTTPServerParams::Ptr params_;
  Poco::Net::HTTPRequestHandlerFactory::Ptr factory_;
  Watchdog &watchdog_;
  std::atomic<bool> stopped_{false};
  std::mutex mutex_;
};

class WatchedConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
 public:
  WatchedConnectionFactory(Poco::Net::HTTPServerParams::Ptr params, Poco::Net::HTTPRequestHandlerFactory::Ptr factory,
                           Watchdog &watchdog)
      : params_(std::move(params)), factory_(std::move(factory)), watchdog_(watchdog) {}
  Poco::Net::TCPServerConnection *createConnection(const Poco::Net::StreamSocket &socket) override {
    return new WatchedConnection(socket, params_, factory_, watchdog_);
  }

 private:
  Poco::Net::HTTPServerParams::Ptr params_;
  Poco::Net::HTTPRequestHandlerFactory::Ptr factory_;
  Watchdog &watchdog_;
};

// Runs `start`, which starts a thread through Poco: Poco's "cannot start
// thread" drops the reason pthread_create gave, which errno holds (from the
// clone or the mapping of the stack that failed); EAGAIN, pthread_create's for
// want of threads or memory, when it does not. Thrown as std::thread throws it.
template <class Start>
auto starting_thread(Start &&start) {
  errno = 0;
  try {
    return start();
  } catch (const Poco::SystemException &) {
    throw std::system_error(errno ? errno : EAGAIN, std::generic_category());
  }
}

}  // namespace

Listener::Listener(Poco::Net::HTTPRequestHandlerFactory::Ptr factory, const std::string &host, unsigned short port,
                   int backlog, const ListenerLimits &limits)
    : watchdog_(std::make_unique<Watchdog>(limits.read_timeout)),
      pool_(starting_thread([&] { return std::make_unique<Poco::ThreadPool>(1, limits.threads); })),
      factory_(new RenewingFactory(std::move(factory))) {
  Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(limits.threads);
  params->setMaxQueued(limits.max_queued);
  params->setKeepAlive(true);
  params->setTimeout(Poco::Timespan(limits.read_timeout.count() * 1000));
  // SO_REUSEADDR (a restart binds at once) but not SO_REUSEPORT, which Poco's
  // ServerSocket(address) also sets: a second hub on a port in use must fail,
  // not silently take half of the webhooks.
  Poco::Net::ServerSocket socket;
  socket.bind(Poco::Net::SocketAddress(host, port), /*reuseAddress=*/true, /*reusePort=*/false);
  socket.listen(backlog);
  server_ = std::make_unique<Poco::Net::TCPServer>(new WatchedConnectionFactory(params, factory_, *watchdog_), *pool_,
                                                   socket, params);
  static_cast<RenewingFactory &>(*factory_).serve(*server_);
}

Listener::~Listener() { stop(); }

void Listener::start() {
  starting_thread([&] { server_->start(); });
}

void Listener::stop() {
  if (stopped_) return;
  stopped_ = true;
  server_->stop();
  static_cast<RenewingFactory &>(*factory_).server_stopped(false);
  pool_->joinAll();
}

unsigned short Listener::port() const { return server_->port(); }

}  // namespace cartwire::http
