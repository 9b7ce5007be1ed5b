// Deliveries over HTTPS with the real binary. The hub's outbound client
// verifies the remote's certificate against the system's trust store (the
// OpenSSL default paths, so SSL_CERT_FILE can name a private CA): a remote it
// trusts gets the signed POST; one it does not trust gets no request at all,
// and the attempt says why.
#include <gtest/gtest.h>

#include <Poco/Net/Context.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>

#include <nlohmann/json.hpp>

#include <cstdlib>

#include "../support/hub_process.hpp"
#include "../support/signature.hpp"
#include "../support/sink.hpp"
#include "../support/thrivecart_payloads.hpp"

using namespace cartwire::testing;
using Json = nlohmann::json;

namespace {

const std::string kTcSecret = "tls-thrivecart-word";
const std::string kHookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

struct Certificate {
  std::string cert, key;
};

/** A self-signed certificate for 127.0.0.1, made with the openssl command. */
Certificate self_signed(const fs::path &dir) {
  fs::create_directories(dir);
  Certificate c{(dir / "cert.pem").string(), (dir / "key.pem").string()};
  std::string command = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
                        "-addext subjectAltName=IP:127.0.0.1 -keyout '" + c.key + "' -out '" + c.cert +
                        "' >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("could not make a certificate: " + command);
  return c;
}

/** A Notify URL endpoint served over TLS with `c`. */
std::unique_ptr<Sink> https_sink(const Certificate &c) {
  static const bool ssl = (Poco::Net::initializeSSL(), true);
  (void)ssl;
  Poco::Net::Context::Ptr context =
      new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, c.key, c.cert, "", Poco::Net::Context::VERIFY_NONE);
  Poco::Net::SecureServerSocket socket(context);
  listen_alone(socket);
  return std::make_unique<Sink>(socket, "https");
}

std::string config(const std::string &url) {
  return "runner:\n  workers: 2\n  poll_interval: 50ms\n  retry: {initial_delay: 200ms, max_delay: 1s, horizon: 1h}\n"
         "sources:\n  thrivecart:\n    connector: thrivecart\n    settings: {secret: " + kTcSecret + "}\n"
         "integrations:\n  hook:\n    connector: notifyurl\n"
         "    settings: {url: \"" + url + "\", secret: \"" + kHookSecret + "\"}\n"
         "rules:\n  - {name: every-order, on: order.completed, do: hook.post}\n";
}

int post_order(HubProcess &hub, const std::string &order_id) {
  return hub.post("/hooks/thrivecart",
                  thrivecart::order_success(kTcSecret, order_id, {{"product", "12", "Course", 4995}}))
      .status;
}

// Waits for the hub's first attempt, expects it retryable and returns its error.
std::string first_failed_attempt(HubProcess &hub) {
  if (!eventually([&] { return hub.count("SELECT COUNT(*) FROM attempts") >= 1; })) {
    ADD_FAILURE() << "no attempt was recorded; log:\n" << hub.log();
    return {};
  }
  auto attempt = query(hub.db_path(), "SELECT outcome, error FROM attempts ORDER BY id LIMIT 1");
  EXPECT_EQ(attempt.at(0).at(0), "retryable");
  return attempt.at(0).at(1);
}

}  // namespace

TEST(Tls, ATrustedRemoteGetsTheSignedDeliveryOverHttps) {
  fs::path dir = fs::temp_directory_path() / ("cartwire-e2e-tls-" + std::to_string(::getpid()));
  Certificate c = self_signed(dir);
  auto sink = https_sink(c);
  HubProcess hub("tls-trusted", config(sink->url()), {{"SSL_CERT_FILE", c.cert}});
  hub.start();
  // OpenSSL comes in with the HTTPS module, on the first HTTPS request.
  EXPECT_FALSE(hub.maps("/cartwire-https.so"));
  EXPECT_FALSE(hub.maps("/libssl.so"));
  ASSERT_EQ(post_order(hub, "8101"), 200);
  ASSERT_TRUE(sink->wait_for(1)) << hub.log();
  auto got = sink->requests().at(0);
  EXPECT_EQ(got.method, "POST");
  EXPECT_TRUE(verify_standard_webhook(kHookSecret, got.headers, got.body)) << got.body;
  EXPECT_EQ(Json::parse(got.body)["type"], "order.completed");
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == 1; }))
      << hub.log();
  EXPECT_TRUE(hub.maps("/cartwire-https.so"));
  // A second order reuses the kept-alive TLS connection or opens a new one; either way it arrives.
  ASSERT_EQ(post_order(hub, "8102"), 200);
  EXPECT_TRUE(sink->wait_for(2)) << hub.log();
  fs::remove_all(dir);
}

TEST(Tls, AnUntrustedCertificateGetsNoRequestAndTheAttemptSaysWhy) {
  fs::path dir = fs::temp_directory_path() / ("cartwire-e2e-tls-untrusted-" + std::to_string(::getpid()));
  Certificate c = self_signed(dir);
  auto sink = https_sink(c);
  // The system trust store does not hold this self-signed certificate.
  HubProcess hub("tls-untrusted", config(sink->url()));
  hub.start();
  ASSERT_EQ(post_order(hub, "8201"), 200);
  std::string error = first_failed_attempt(hub);
  EXPECT_NE(error.find("certificate"), std::string::npos) << error;
  EXPECT_EQ(sink->count(), 0u) << "nothing may be sent to a remote whose certificate failed";
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'"), 0);
  fs::remove_all(dir);
}

TEST(Tls, WithoutItsHttpsModuleTheHubSaysSoAndSendsNothing) {
  fs::path dir = fs::temp_directory_path() / ("cartwire-e2e-tls-no-module-" + std::to_string(::getpid()));
  Certificate c = self_signed(dir);
  auto sink = https_sink(c);
  // A copy of the executable without lib/cartwire/cartwire-https.so beside it.
  fs::create_directories(dir / "bin");
  fs::copy_file(CARTWIRE_BIN, dir / "bin" / "cartwire", fs::copy_options::overwrite_existing);
  HubProcess hub("tls-no-module", config(sink->url()), {{"SSL_CERT_FILE", c.cert}});
  hub.use_binary((dir / "bin" / "cartwire").string());
  hub.start();
  ASSERT_EQ(post_order(hub, "8301"), 200);
  std::string error = first_failed_attempt(hub);
  EXPECT_NE(error.find("HTTPS support module cartwire-https.so could not be loaded: it is neither " +
                               (dir / "bin" / "lib" / "cartwire" / "cartwire-https.so").string()),
            std::string::npos)
      << error;
  EXPECT_EQ(sink->count(), 0u);
  EXPECT_EQ(http("GET", hub.port(), "/healthz").status, 200);
  fs::remove_all(dir);
}
