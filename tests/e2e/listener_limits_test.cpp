// The listeners against hostile clients, over raw sockets: clients that
// connect and say nothing, or trickle a request a byte at a time, are cut off
// after read_timeout so they cannot hold every worker; oversized and malformed
// requests get a 4xx answer, and the hub runs on.
#include <gtest/gtest.h>

#include <Poco/Net/StreamSocket.h>

#include <atomic>
#include <memory>
#include <thread>

#include "../support/hub_process.hpp"
#include "../support/thrivecart_payloads.hpp"

using namespace cartwire::testing;
using Clock = std::chrono::steady_clock;

namespace {

Poco::Net::StreamSocket connect_to(unsigned short port) {
  Poco::Net::StreamSocket s;
  s.connect(Poco::Net::SocketAddress("127.0.0.1", port), Poco::Timespan(5, 0));
  return s;
}

/** Send raw bytes, read until the server closes or `timeout`; returns what came back. */
std::string raw_exchange(unsigned short port, const std::string &bytes, Poco::Timespan timeout = Poco::Timespan(10, 0)) {
  Poco::Net::StreamSocket s = connect_to(port);
  s.setReceiveTimeout(timeout);
  std::size_t sent = 0;
  try {
    while (sent < bytes.size()) sent += static_cast<std::size_t>(s.sendBytes(bytes.data() + sent, static_cast<int>(
                                                                                 bytes.size() - sent)));
  } catch (const Poco::Exception &) {
    // the server may answer and close before reading everything
  }
  std::string out;
  char buffer[4096];
  try {
    for (int n; (n = s.receiveBytes(buffer, sizeof buffer)) > 0;) out.append(buffer, static_cast<std::size_t>(n));
  } catch (const Poco::Exception &) {
  }
  return out;
}

int status_of(const std::string &answer) {
  if (answer.compare(0, 5, "HTTP/") != 0 || answer.size() < 12) return 0;
  return std::stoi(answer.substr(9, 3));
}

/**
 * Holds `idle` connections that send nothing and `trickling` ones that send a
 * request a byte every 200 ms, and notes when the server cut each trickler off.
 */
class SlowClients {
 public:
  SlowClients(unsigned short port, int idle, int trickling) {
    for (int i = 0; i < idle; ++i) idle_.push_back(connect_to(port));
    cut_after_ms_ = std::vector<std::atomic<long long>>(static_cast<std::size_t>(trickling));
    for (int i = 0; i < trickling; ++i) {
      cut_after_ms_[static_cast<std::size_t>(i)] = -1;
      threads_.emplace_back([this, port, i] { trickle(port, cut_after_ms_[static_cast<std::size_t>(i)]); });
    }
  }
  ~SlowClients() {
    stop_ = true;
    for (auto &t : threads_) t.join();
  }
  /** How many trickling clients are connected and have sent their first byte. */
  int trickling() const { return trickling_; }
  /** Milliseconds until each trickling client was cut off; -1 when it never was. */
  std::vector<long long> cut_after_ms() {
    stop_ = true;
    for (auto &t : threads_) t.join();
    threads_.clear();
    std::vector<long long> out;
    for (auto &v : cut_after_ms_) out.push_back(v);
    return out;
  }

 private:
  void trickle(unsigned short port, std::atomic<long long> &cut_after) {
    const std::string request = "POST /hooks/thrivecart HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(200, 'a');
    auto started = Clock::now();
    try {
      Poco::Net::StreamSocket s = connect_to(port);
      for (std::size_t i = 0; !stop_ && Clock::now() - started < std::chrono::seconds(8); ++i) {
        s.sendBytes(&request[i % request.size()], 1);
        if (i == 0) ++trickling_;
        // The server closing its side shows as a readable socket with nothing to read.
        if (s.poll(Poco::Timespan(0, 200000), Poco::Net::Socket::SELECT_READ | Poco::Net::Socket::SELECT_ERROR)) {
          char c;
          if (s.receiveBytes(&c, 1) <= 0) break;
        }
      }
    } catch (const Poco::Exception &) {
      // reset by the server
    }
    if (!stop_ || Clock::now() - started < std::chrono::seconds(8))
      cut_after = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  }

  std::vector<Poco::Net::StreamSocket> idle_;
  std::vector<std::atomic<long long>> cut_after_ms_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<int> trickling_{0};
};

class ListenerLimits : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_port_ = free_port();
    hub_ = std::make_unique<HubProcess>("limits", "", std::map<std::string, std::string>{{"ADMIN_TOKEN", "limits-admin-token-1"}});
    // Small limits on both listeners (the whole file, since server: carries them).
    std::ofstream(hub_->config_path())
        << "server:\n  listen: 127.0.0.1:" << hub_->port() << "\n  threads: 2\n  read_timeout: 1s\n"
        << "  max_body_bytes: 2048\n"
        << "admin:\n  listen: 127.0.0.1:" << admin_port_ << "\n  token: \"${ADMIN_TOKEN}\"\n  read_timeout: 1s\n"
        << "  max_body_bytes: 2048\n"
        << "storage:\n  path: " << hub_->db_path() << "\nplugins:\n  dir: " << CARTWIRE_PLUGIN_DIR << "\n"
        << "sources:\n  thrivecart:\n    connector: thrivecart\n    settings: {secret: limits-word}\n";
    hub_->start();
    ASSERT_TRUE(eventually([&] {
      try {
        return http("GET", admin_port_, "/healthz").status == 200;
      } catch (...) {
        return false;
      }
    }));
  }

  /** With `idle` silent and `trickling` slow clients on `port`, a normal request is still answered. */
  void expect_served_despite(unsigned short port, int idle, int trickling) {
    SlowClients slow(port, idle, trickling);
    // The idle ones are connected; the request below comes after every trickling one began too.
    ASSERT_TRUE(eventually([&] { return slow.trickling() == trickling; }));
    auto started = Clock::now();
    EXPECT_EQ(http("GET", port, "/healthz").status, 200);
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    std::cout << "[ limits   ] port " << port << ": /healthz answered after " << waited << " ms behind " << idle
              << " idle and " << trickling << " trickling clients\n";
    for (long long cut : slow.cut_after_ms()) {
      EXPECT_GE(cut, 0) << "a trickling client was never cut off";
      EXPECT_LT(cut, 4000) << "read_timeout is 1 s";
    }
  }

  unsigned short admin_port_ = 0;
  std::unique_ptr<HubProcess> hub_;
};

}  // namespace

TEST_F(ListenerLimits, SlowClientsCannotHoldTheWebhookWorkers) {
  expect_served_despite(hub_->port(), 4, 3);  // server.threads: 2
}

TEST_F(ListenerLimits, SlowClientsCannotHoldTheAdminWorkers) {
  expect_served_despite(admin_port_, 4, 9);  // the admin listener has 8 workers
}

TEST_F(ListenerLimits, OversizedAndMalformedRequestsGet4xx) {
  unsigned short port = hub_->port();
  std::string big(10000, 'x');
  EXPECT_EQ(status_of(raw_exchange(port, "POST /hooks/thrivecart HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n" +
                                         big)),
            413);
  EXPECT_EQ(status_of(raw_exchange(port, "POST /hooks/thrivecart HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                     "2710\r\n" + big + "\r\n0\r\n\r\n")),
            413);
  EXPECT_EQ(status_of(raw_exchange(port, "POST /hooks/thrivecart HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n")),
            413);
  EXPECT_EQ(status_of(raw_exchange(port, "NONSENSE\r\n\r\n")), 400);
  EXPECT_EQ(status_of(raw_exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: " + std::string(20000, 'a') +
                                         "\r\n\r\n")),
            400);
  std::string many;
  for (int i = 0; i < 300; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(status_of(raw_exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + "\r\n")), 400);
  EXPECT_EQ(status_of(raw_exchange(port, "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n")), 400);
  EXPECT_EQ(status_of(raw_exchange(port, "POST /hooks/%zz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")) / 100, 4);
  EXPECT_EQ(status_of(raw_exchange(port, "POST /hooks/nosuch HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")), 404);
  std::string bad_query =
      raw_exchange(port, "POST /hooks/thrivecart?a=%zz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(status_of(bad_query), 400) << bad_query;
  EXPECT_NE(bad_query.find("malformed query string"), std::string::npos) << bad_query;
  // A body that is not a ThriveCart form at all: refused with a reason, not a crash.
  std::string junk = "\x01\x02%%%&&&===[[[]]]";
  int junk_status = status_of(raw_exchange(port, "POST /hooks/thrivecart HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                             "application/x-www-form-urlencoded\r\nContent-Length: " +
                                                 std::to_string(junk.size()) + "\r\n\r\n" + junk));
  EXPECT_EQ(junk_status / 100, 4) << junk_status;
  // The admin listener has the same limits.
  EXPECT_EQ(status_of(raw_exchange(admin_port_, "POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n" +
                                                big)),
            413);
  EXPECT_EQ(status_of(raw_exchange(admin_port_, "NONSENSE\r\n\r\n")), 400);
  // A client that stops halfway through a genuine order is cut off after
  // read_timeout, and the half it sent is not taken for the whole.
  std::string order = thrivecart::order_success("limits-word", "9001", {{"product", "12", "Course", 4995}});
  auto started = Clock::now();
  std::string partial = raw_exchange(port, "POST /hooks/thrivecart HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                       "application/x-www-form-urlencoded\r\nContent-Length: " +
                                           std::to_string(order.size()) + "\r\n\r\n" + order.substr(0, order.size() * 2 / 3));
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count(), 4000);
  EXPECT_TRUE(partial.empty() || status_of(partial) == 400) << partial;
  EXPECT_EQ(hub_->count("SELECT COUNT(*) FROM events"), 0) << "a truncated body was accepted";
  // Still alive and serving.
  EXPECT_EQ(http("GET", port, "/healthz").status, 200);
  EXPECT_EQ(http("GET", admin_port_, "/healthz").status, 200);
}

std::string chunk(const std::string &data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx", data.size());
  return size + std::string("\r\n") + data + "\r\n";
}

TEST_F(ListenerLimits, AChunkedBodyCutShortIsRefusedAndNothingOfItStored) {
  unsigned short port = hub_->port();
  const std::string head = "POST /hooks/thrivecart HTTP/1.1\r\nHost: x\r\nContent-Type: "
                           "application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string order = thrivecart::order_success("limits-word", "888", {{"product", "12", "Course", 4995}});
  std::size_t cut = order.find("order_id=88") + std::string("order_id=88").size();
  ASSERT_NE(cut, std::string::npos);
  // A malformed chunk-size line after the first chunk: the order id so far reads 88.
  std::string bad = raw_exchange(port, head + chunk(order.substr(0, cut)) + "zz\r\n" + order.substr(cut) + "\r\n0\r\n\r\n");
  EXPECT_EQ(status_of(bad), 400) << bad;
  EXPECT_NE(bad.find("malformed body framing"), std::string::npos) << bad;
  // The client stops after a chunk and closes its side, without the last chunk.
  {
    Poco::Net::StreamSocket s = connect_to(port);
    s.setReceiveTimeout(Poco::Timespan(5, 0));
    std::string first = head + chunk(order.substr(0, cut));
    s.sendBytes(first.data(), static_cast<int>(first.size()));
    s.shutdownSend();
    std::string answer;
    char buffer[4096];
    try {
      for (int n; (n = s.receiveBytes(buffer, sizeof buffer)) > 0;) answer.append(buffer, static_cast<std::size_t>(n));
    } catch (const Poco::Exception &) {
    }
    EXPECT_EQ(status_of(answer), 400) << answer;
    EXPECT_NE(answer.find("incomplete body"), std::string::npos) << answer;
  }
  EXPECT_EQ(hub_->count("SELECT COUNT(*) FROM events"), 0) << "part of an order was taken for the whole";
  // The same order whole, in two chunks with an extension and a trailer, is taken.
  std::string whole = raw_exchange(port, head + chunk(order.substr(0, cut)) + "" +
                                             [&] {
                                               std::string rest = order.substr(cut);
                                               char size[32];
                                               std::snprintf(size, sizeof size, "%zX;note=x", rest.size());
                                               return size + std::string("\r\n") + rest + "\r\n";
                                             }() +
                                             "0\r\nX-Trailer: y\r\n\r\n");
  EXPECT_EQ(status_of(whole), 200) << whole;
  EXPECT_EQ(hub_->count("SELECT COUNT(*) FROM events WHERE order_id = '888'"), 2);
  // A byte 0xFF in a chunk extension is text (obs-text), not the end of the connection.
  std::string ping = raw_exchange(port, "POST /hooks/thrivecart HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                                        "Connection: close\r\n\r\n0;n=\xFF\r\n\r\n");
  EXPECT_EQ(status_of(ping), 200) << ping;
}

TEST_F(ListenerLimits, ABodyWhoseEndCannotBeFoundIsRefusedAndNoBodyIsTakenForTheNextRequest) {
  unsigned short port = hub_->port();
  const std::string next = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  auto answers = [](const std::string &text) {
    std::size_t n = 0;
    for (std::size_t at = text.find("HTTP/1.1 "); at != std::string::npos; at = text.find("HTTP/1.1 ", at + 1)) ++n;
    return n;
  };
  // Codings the hub does not decode, or two Transfer-Encoding lines: 400, and the connection ends.
  for (std::string te : {"Transfer-Encoding: gzip, chunked\r\n", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                         "Transfer-Encoding: chunked\r\nX-Between: 1\r\ntransfer-encoding: gzip\r\n"}) {
    std::string out = raw_exchange(port, "POST /hooks/thrivecart HTTP/1.1\r\nHost: x\r\n" + te + "\r\n5\r\nhello\r\n0\r\n\r\n" + next);
    EXPECT_EQ(status_of(out), 400) << out;
    EXPECT_EQ(answers(out), 1u) << out;
  }
  // Two Content-Length lines that disagree: 400 on both listeners, and the
  // rest is not read as a request (RFC 9112 6.3). Lines that agree are one.
  std::string hidden = "a" + next;
  for (auto [to, path] : {std::pair{port, "/hooks/thrivecart"}, std::pair{admin_port_, "/api/login"}}) {
    std::string out = raw_exchange(to, std::string("POST ") + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                                       "Content-Length: " + std::to_string(hidden.size()) + "\r\n\r\n" + hidden);
    EXPECT_EQ(status_of(out), 400) << path << "\n" << out;
    EXPECT_EQ(answers(out), 1u) << path << "\n" << out;
  }
  std::string agree = raw_exchange(port, "POST /hooks/thrivecart HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                                         "content-length: 1\r\n\r\na" + next);
  EXPECT_EQ(status_of(agree), 200) << agree;
  EXPECT_EQ(answers(agree), 2u) << agree;
  // Chunked and a Content-Length: answered by the chunks, then the connection ends (RFC 9112 6.1).
  std::string both = raw_exchange(port, "POST /hooks/thrivecart HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                                        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + next);
  EXPECT_EQ(status_of(both), 200) << both;
  EXPECT_EQ(answers(both), 1u) << both;
  // A body sent to an answer that does not read it (404): not parsed as the next request.
  std::string body = "GET /healthz HTTP/1.1\r\nHost: smuggled\r\n\r\n";
  std::string unread = raw_exchange(port, "POST /nosuch HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                                              std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_EQ(status_of(unread), 404) << unread;
  EXPECT_EQ(answers(unread), 1u) << unread;
  EXPECT_EQ(hub_->count("SELECT COUNT(*) FROM events"), 0);
}

TEST_F(ListenerLimits, ContentLengthThatIsNoNumberOrTooLargeAndExpectContinue) {
  unsigned short port = hub_->port();
  std::string nan = raw_exchange(port, "POST /hooks/thrivecart HTTP/1.1\r\nHost: x\r\nContent-Length: 12a\r\n\r\n");
  EXPECT_EQ(status_of(nan), 400) << nan;
  std::string huge = raw_exchange(
      port, "POST /hooks/thrivecart HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n");
  EXPECT_EQ(status_of(huge), 400) << "beyond 64 bits: no number\n" << huge;
  // A client that waits for "100 Continue" hears 413 at once for a body too large, and 100 for one that fits.
  std::string refused = raw_exchange(
      port, "POST /hooks/thrivecart HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5000000\r\n\r\n");
  EXPECT_EQ(status_of(refused), 413) << refused;
  std::string ping = raw_exchange(port, "POST /hooks/thrivecart HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                                        "Connection: close\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(status_of(ping), 100) << ping;
  EXPECT_NE(ping.find("HTTP/1.1 200"), std::string::npos) << ping;
  EXPECT_EQ(status_of(raw_exchange(admin_port_, "POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n")),
            400);
}

TEST_F(ListenerLimits, JsonNestedThousandsDeepIsRefusedAndTheHubRunsOn) {
  // Reading, copying and writing a JSON tree recurse once per level.
  std::string deep = "{\"thrivecart_secret\":\"limits-word\",\"event\":\"order.success\",\"x\":" +
                     std::string(900, '[') + std::string(900, ']') + "}";  // under max_body_bytes: 2048
  auto post = [&](unsigned short port, const std::string &path, const std::string &extra) {
    return raw_exchange(port, "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + extra +
                                  "Connection: close\r\nContent-Length: " + std::to_string(deep.size()) + "\r\n\r\n" +
                                  deep);
  };
  std::string hook = post(hub_->port(), "/hooks/thrivecart", "");
  EXPECT_EQ(status_of(hook), 400) << hook;
  EXPECT_NE(hook.find("nests arrays and objects deeper than 64 levels"), std::string::npos) << hook;
  std::string api = post(admin_port_, "/api/dry-run", "Authorization: Bearer limits-admin-token-1\r\n");
  EXPECT_EQ(status_of(api), 400) << api;
  EXPECT_NE(api.find("deeper than 64 levels"), std::string::npos) << api;
  // A UTF-8 byte order mark in front changes nothing.
  deep = "\xEF\xBB\xBF" + deep;
  std::string bom = post(hub_->port(), "/hooks/thrivecart", "");
  EXPECT_EQ(status_of(bom), 400) << bom;
  // Brackets inside strings are text, not nesting.
  std::string text = "{\"thrivecart_secret\":\"limits-word\",\"note\":\"" + std::string(500, '[') + "\"}";
  std::string fine = raw_exchange(hub_->port(), "POST /hooks/thrivecart HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                                "application/json\r\nConnection: close\r\nContent-Length: " +
                                                    std::to_string(text.size()) + "\r\n\r\n" + text);
  EXPECT_EQ(status_of(fine), 200) << fine;  // a ping without an event: answered, nothing stored
  EXPECT_EQ(http("GET", hub_->port(), "/healthz").status, 200);
}

TEST_F(ListenerLimits, ARequestWithoutALengthHasNoBody) {
  // RFC 9112 6.3: a request with neither Content-Length nor Transfer-Encoding
  // has an empty body. Waiting for more (until the client closes) ends in
  // read_timeout and a 400 "incomplete body" instead of the answer.
  const Poco::Timespan patience(3, 0);
  // ThriveCart's bare ping POST, then a second request on the same connection.
  std::string ping = raw_exchange(hub_->port(),
                                  "POST /hooks/thrivecart HTTP/1.1\r\nHost: x\r\n\r\n"
                                  "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                                  patience);
  EXPECT_EQ(status_of(ping), 200) << ping;
  EXPECT_NE(ping.find("HTTP/1.1 200", 12), std::string::npos) << "the second request was not answered: " << ping;
  std::string put =
      raw_exchange(hub_->port(), "PUT /hooks/thrivecart HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", patience);
  EXPECT_EQ(status_of(put), 405) << put;
  std::string login =
      raw_exchange(admin_port_, "POST /api/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", patience);
  EXPECT_EQ(status_of(login) / 100, 4) << login;
  EXPECT_EQ(hub_->count("SELECT COUNT(*) FROM events"), 0);
}

TEST_F(ListenerLimits, AKeptAliveClientThatKeepsAskingIsNotCutOff) {
  // read_timeout (1 s) bounds each wait for a request, not the connection's
  // life: every request renews it. Five requests 400 ms apart outlive it.
  Poco::Net::StreamSocket s = connect_to(hub_->port());
  s.setReceiveTimeout(Poco::Timespan(3, 0));
  for (int i = 0; i < 5; ++i) {
    if (i) std::this_thread::sleep_for(std::chrono::milliseconds(400));
    const std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    s.sendBytes(request.data(), static_cast<int>(request.size()));
    std::string answer;
    char buffer[1024];
    while (answer.find("\"ok\"}") == std::string::npos) {
      int n = 0;
      try {
        n = s.receiveBytes(buffer, sizeof buffer);
      } catch (const Poco::Exception &e) {
        FAIL() << "request " << i + 1 << ": " << e.displayText();
      }
      ASSERT_GT(n, 0) << "the connection was closed before request " << i + 1 << " was answered";
      answer.append(buffer, static_cast<std::size_t>(n));
    }
    EXPECT_EQ(status_of(answer), 200) << answer;
  }
}

TEST_F(ListenerLimits, AKeptAliveConnectionThatGoesQuietIsClosedAfterReadTimeout) {
  // After its answer the connection waits for the next request by reading;
  // read_timeout (1 s) bounds that wait like any other.
  Poco::Net::StreamSocket s = connect_to(hub_->port());
  s.setReceiveTimeout(Poco::Timespan(5, 0));
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  s.sendBytes(request.data(), static_cast<int>(request.size()));
  std::string answer;
  char buffer[1024];
  while (answer.find("\"ok\"}") == std::string::npos) {
    int n = s.receiveBytes(buffer, sizeof buffer);
    ASSERT_GT(n, 0) << "closed before the answer";
    answer.append(buffer, static_cast<std::size_t>(n));
  }
  EXPECT_NE(answer.find("Keep-Alive"), std::string::npos) << answer;
  auto started = Clock::now();
  int n = -1;
  try {
    n = s.receiveBytes(buffer, sizeof buffer);
  } catch (const Poco::Exception &e) {
    FAIL() << "the hub kept the quiet connection open: " << e.displayText();
  }
  auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  EXPECT_EQ(n, 0) << "expected the hub to close the connection";
  EXPECT_GE(waited, 500);
  EXPECT_LT(waited, 4000);
}
