// A remote that misbehaves on cue: for each request a script decides whether
// it answers (any status and headers, e.g. 429 with Retry-After), answers
// slowly, hangs past the client's timeout, or resets the connection. It
// records when each request arrived and how many were in flight at once.
#pragma once

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "listen.hpp"

namespace cartwire::testing {

struct Fault {
  enum class Kind { answer, slow, hang, reset, held };
  Kind kind = Kind::answer;
  int status = 200;
  std::map<std::string, std::string> headers;
  std::string body = R"({"ok":true})";
  /** slow: wait this long, then answer; hang: wait this long, then reset without answering. */
  std::chrono::milliseconds delay{0};

  static Fault answer(int status, std::map<std::string, std::string> headers = {}) {
    Fault f;
    f.status = status;
    f.headers = std::move(headers);
    return f;
  }
  static Fault slow(std::chrono::milliseconds delay, int status = 200) {
    Fault f = answer(status);
    f.kind = Kind::slow;
    f.delay = delay;
    return f;
  }
  static Fault hang(std::chrono::milliseconds delay) {
    Fault f;
    f.kind = Kind::hang;
    f.delay = delay;
    return f;
  }
  static Fault reset() {
    Fault f;
    f.kind = Kind::reset;
    return f;
  }
  /** Answered once the test calls FaultRemote::release() (or the remote stops). */
  static Fault held(int status = 200) {
    Fault f = answer(status);
    f.kind = Kind::held;
    return f;
  }
};

struct Hit {
  int number = 0;  // 1-based arrival order
  std::string path;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  int64_t arrived_ms = 0;  // wall clock, comparable with the hub's timestamps
  std::chrono::steady_clock::time_point arrived;
  Fault::Kind served = Fault::Kind::answer;
};

class FaultRemote {
 public:
  /** Decides the fate of each request; `hit.number` counts from 1. */
  using Script = std::function<Fault(const Hit &)>;

  FaultRemote() {
    Poco::Net::ServerSocket socket = listen_alone();
    auto *params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(32);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), socket, params);
    server_->start();
  }
  ~FaultRemote() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    server_->stopAll(true);
  }

  std::string url(const std::string &path = "/in") const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + path;
  }
  void script(Script s) {
    std::lock_guard lock(mutex_);
    script_ = std::move(s);
  }
  std::vector<Hit> hits() const {
    std::lock_guard lock(mutex_);
    return hits_;
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return hits_.size();
  }
  /** The requests held (Fault::held) are answered, and those held from now on at once. */
  void release() {
    {
      std::lock_guard lock(mutex_);
      released_ = true;
    }
    cv_.notify_all();
  }
  /** The most requests that were being served at the same moment. */
  int max_in_flight() const {
    std::lock_guard lock(mutex_);
    return max_in_flight_;
  }

 private:
  class Handler : public Poco::Net::HTTPRequestHandler {
   public:
    explicit Handler(FaultRemote &remote) : remote_(remote) {}
    void handleRequest(Poco::Net::HTTPServerRequest &request, Poco::Net::HTTPServerResponse &response) override {
      Hit hit;
      hit.arrived = std::chrono::steady_clock::now();
      hit.arrived_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      hit.path = request.getURI();
      for (auto &[name, value] : request) {
        std::string lower = name;
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
        hit.headers[lower] = value;
      }
      Poco::StreamCopier::copyToString(request.stream(), hit.body);
      Fault fault;
      {
        std::lock_guard lock(remote_.mutex_);
        hit.number = static_cast<int>(remote_.hits_.size()) + 1;
        if (remote_.script_) fault = remote_.script_(hit);
        hit.served = fault.kind;
        remote_.hits_.push_back(hit);
        remote_.max_in_flight_ = std::max(remote_.max_in_flight_, ++remote_.in_flight_);
      }
      if (fault.kind == Fault::Kind::slow || fault.kind == Fault::Kind::hang) {
        std::unique_lock lock(remote_.mutex_);
        remote_.cv_.wait_for(lock, fault.delay, [&] { return remote_.stopping_; });
      }
      if (fault.kind == Fault::Kind::held) {
        std::unique_lock lock(remote_.mutex_);
        remote_.cv_.wait(lock, [&] { return remote_.stopping_ || remote_.released_; });
      }
      {
        std::lock_guard lock(remote_.mutex_);
        --remote_.in_flight_;
      }
      if (fault.kind == Fault::Kind::hang || fault.kind == Fault::Kind::reset) {
        // SO_LINGER 0: close() sends RST instead of FIN.
        auto &socket = static_cast<Poco::Net::HTTPServerRequestImpl &>(request).socket();
        socket.setLinger(true, 0);
        socket.close();
        return;
      }
      response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(fault.status));
      for (auto &[k, v] : fault.headers) response.set(k, v);
      response.setContentType("application/json");
      response.setContentLength(static_cast<std::streamsize>(fault.body.size()));
      response.send() << fault.body;
    }

   private:
    FaultRemote &remote_;
  };
  class Factory : public Poco::Net::HTTPRequestHandlerFactory {
   public:
    explicit Factory(FaultRemote &remote) : remote_(remote) {}
    Poco::Net::HTTPRequestHandler *createRequestHandler(const Poco::Net::HTTPServerRequest &) override {
      return new Handler(remote_);
    }

   private:
    FaultRemote &remote_;
  };

  std::unique_ptr<Poco::Net::HTTPServer> server_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool released_ = false;
  std::vector<Hit> hits_;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
  Script script_;
};

}  // namespace cartwire::testing
