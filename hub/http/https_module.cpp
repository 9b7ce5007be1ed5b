// cartwire-https.so: outbound HTTPS sessions for http::Client (see https_module.hpp).
#include "http/https_module.hpp"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLManager.h>

#include <mutex>
#include <type_traits>

namespace {

// Outbound HTTPS verifies servers against the system's CA store, loaded with
// the first session: it costs a few MB of memory.
void ensure_tls() {
  static std::once_flag once;
  std::call_once(once, [] {
    Poco::Net::initializeSSL();
    Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", "",
                                                             Poco::Net::Context::VERIFY_RELAXED, 9, true);
    Poco::Net::SSLManager::instance().initializeClient(nullptr, nullptr, context);
  });
}

}  // namespace

extern "C" __attribute__((visibility("default"))) Poco::Net::HTTPClientSession *cartwire_https_session(
    const std::string &host, unsigned short port) {
  ensure_tls();
  return new Poco::Net::HTTPSClientSession(host, port);
}

static_assert(std::is_same_v<decltype(cartwire_https_session), cartwire::http::HttpsSessionFactory>);
