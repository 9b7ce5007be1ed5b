// The seam between the hub and its HTTPS module (cartwire-https.so), the one
// part of the hub that links OpenSSL. The hub loads it with its first HTTPS
// request, so a hub that only talks plain HTTP never maps the TLS libraries.
#pragma once

#include <string>

#include <Poco/Net/HTTPClientSession.h>

namespace cartwire::http {

/**
 * Exported by the module under kHttpsSessionSymbol: a new HTTPS session to
 * host:port that verifies the server against the system's trust store.
 */
using HttpsSessionFactory = Poco::Net::HTTPClientSession *(const std::string &host, unsigned short port);

inline constexpr const char kHttpsSessionSymbol[] = "cartwire_https_session";
inline constexpr const char kHttpsModuleFile[] = "cartwire-https.so";

}  // namespace cartwire::http
