// A local HTTP server for end-to-end tests: records every request and answers
// with a scripted status. Stands in for a customer's Notify URL endpoint.
#pragma once

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <thread>
#include <vector>

#include "listen.hpp"

namespace cartwire::testing {

struct Recorded {
  std::string method;
  std::string uri;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

struct Reply {
  int status = 200;
  std::string body = R"({"ok":true})";
  std::map<std::string, std::string> headers;
  /** How long to hold the answer (a slow remote); other requests are served meanwhile. */
  std::chrono::milliseconds delay{0};
};

class Sink {
 public:
  using Responder = std::function<Reply(const Recorded &)>;

  /** Listen on 127.0.0.1:`port` (0 = any free port). */
  explicit Sink(unsigned short port = 0)
      : Sink(listen_alone(port), "http") {}

  /** Serve on a socket of the caller's (a SecureServerSocket for https). */
  Sink(Poco::Net::ServerSocket socket, std::string scheme) : scheme_(std::move(scheme)) {
    socket.setReuseAddress(true);
    auto *params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(8);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), socket, params);
    server_->start();
  }
  ~Sink() {
    // Answers still held (Reply::delay) end now; their threads use this sink until they return.
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    server_->stopAll(true);
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return holding_ == 0; });
  }

  unsigned short port() const { return server_->port(); }
  std::string url(const std::string &path = "/notify") const {
    return scheme_ + "://127.0.0.1:" + std::to_string(port()) + path;
  }
  void respond_with(Responder responder) {
    std::lock_guard lock(mutex_);
    responder_ = std::move(responder);
  }
  std::vector<Recorded> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }
  /** Wait until at least `n` requests arrived; false on timeout. */
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(15)) const {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
  }

 private:
  class Handler : public Poco::Net::HTTPRequestHandler {
   public:
    explicit Handler(Sink &sink) : sink_(sink) {}
    void handleRequest(Poco::Net::HTTPServerRequest &request, Poco::Net::HTTPServerResponse &response) override {
      Recorded r;
      r.method = request.getMethod();
      r.uri = request.getURI();
      for (auto &[name, value] : request) {
        std::string lower = name;
        for (auto &c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.headers[lower] = value;
      }
      Poco::StreamCopier::copyToString(request.stream(), r.body);
      Reply reply;
      {
        std::lock_guard lock(sink_.mutex_);
        if (sink_.responder_) reply = sink_.responder_(r);
        sink_.requests_.push_back(r);
      }
      sink_.cv_.notify_all();
      if (reply.delay.count() > 0) {
        std::unique_lock lock(sink_.mutex_);
        ++sink_.holding_;
        sink_.cv_.wait_for(lock, reply.delay, [&] { return sink_.stopping_; });
        --sink_.holding_;
        sink_.cv_.notify_all();
        if (sink_.stopping_) return;
      }
      response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(reply.status));
      for (auto &[k, v] : reply.headers) response.set(k, v);
      response.setContentType("application/json");
      response.setContentLength(static_cast<std::streamsize>(reply.body.size()));
      response.send() << reply.body;
    }

   private:
    Sink &sink_;
  };
  class Factory : public Poco::Net::HTTPRequestHandlerFactory {
   public:
    explicit Factory(Sink &sink) : sink_(sink) {}
    Poco::Net::HTTPRequestHandler *createRequestHandler(const Poco::Net::HTTPServerRequest &) override {
      return new Handler(sink_);
    }

   private:
    Sink &sink_;
  };

  std::string scheme_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  std::vector<Recorded> requests_;
  Responder responder_;
  bool stopping_ = false;
  int holding_ = 0;  // answers held for their delay
};

}  // namespace cartwire::testing
