// The listener's own rules, whatever its handlers do.
#include <gtest/gtest.h>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <mutex>
#include <string>
#include <vector>

#include "http/body.hpp"
#include "http/listener.hpp"

using namespace cartwire;

namespace {

// Answers "served <uri>"; reads the body first only when `read` is set.
class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(bool read) : read_(read) {}
  Poco::Net::HTTPRequestHandler *createRequestHandler(const Poco::Net::HTTPServerRequest &request) override {
    std::lock_guard lock(mutex_);
    uris_.push_back(request.getURI());
    return new Handler(read_);
  }
  std::vector<std::string> uris() {
    std::lock_guard lock(mutex_);
    return uris_;
  }

 private:
  class Handler : public Poco::Net::HTTPRequestHandler {
   public:
    explicit Handler(bool read) : read_(read) {}
    void handleRequest(Poco::Net::HTTPServerRequest &request, Poco::Net::HTTPServerResponse &response) override {
      std::string body;
      if (read_) http::read_body(request, response, 1024, body);
      std::string text = "served " + request.getURI();
      response.setContentLength(static_cast<std::streamsize>(text.size()));
      response.send() << text;
    }

   private:
    bool read_;
  };
  bool read_;
  std::mutex mutex_;
  std::vector<std::string> uris_;
};

// Sends `bytes` on one connection and reads until the listener closes it (or 3 s pass).
std::string exchange(unsigned short port, const std::string &bytes) {
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
  socket.setReceiveTimeout(Poco::Timespan(3, 0));
  socket.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
  std::string out;
  char buffer[4096];
  try {
    while (int n = socket.receiveBytes(buffer, sizeof buffer)) out.append(buffer, static_cast<std::size_t>(n));
  } catch (const Poco::TimeoutException &) {
  }
  return out;
}

const std::string kNext = "GET /next HTTP/1.1\r\nHost: hub\r\n\r\n";

std::string post_with_next_as_body() {
  return "POST /first HTTP/1.1\r\nHost: hub\r\nContent-Length: " + std::to_string(kNext.size()) + "\r\n\r\n" + kNext;
}

}  // namespace

TEST(Listener, ABodyItsHandlerLeftUnreadEndsTheConnectionAndIsNeverTakenForARequest) {
  auto *factory = new Factory(false);
  http::Listener listener(Poco::Net::HTTPRequestHandlerFactory::Ptr(factory), "127.0.0.1", 0, 64, {});
  listener.start();
  std::string answer = exchange(listener.port(), post_with_next_as_body());
  EXPECT_NE(answer.find("served /first"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("served /next"), std::string::npos) << answer;
  EXPECT_EQ(factory->uris(), std::vector<std::string>{"/first"});
  listener.stop();
}

TEST(Listener, ABodyReadToItsEndKeepsTheConnectionForTheNextRequest) {
  auto *factory = new Factory(true);
  http::Listener listener(Poco::Net::HTTPRequestHandlerFactory::Ptr(factory), "127.0.0.1", 0, 64, {});
  listener.start();
  std::string body = "{\"order\":1}";
  std::string answer = exchange(listener.port(), "POST /first HTTP/1.1\r\nHost: hub\r\nContent-Length: " +
                                                     std::to_string(body.size()) + "\r\n\r\n" + body + kNext +
                                                     "GET /last HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n");
  EXPECT_NE(answer.find("served /first"), std::string::npos) << answer;
  EXPECT_NE(answer.find("served /next"), std::string::npos) << answer;
  EXPECT_NE(answer.find("served /last"), std::string::npos) << answer;
  EXPECT_EQ(factory->uris(), (std::vector<std::string>{"/first", "/next", "/last"}));
  listener.stop();
}
