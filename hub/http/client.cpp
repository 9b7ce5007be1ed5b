#include "http/client.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>

#include "http/https_module.hpp"
#include "modules/module.hpp"

namespace cartwire::http {
namespace {

// The module's session factory, loaded with the first HTTPS session: pooled
// sessions and OpenSSL's exit handlers run its code until the very end.
HttpsSessionFactory *https_sessions() {
  return reinterpret_cast<HttpsSessionFactory *>(modules::symbol(kHttpsModuleFile, kHttpsSessionSymbol, "HTTPS support"));
}

}  // namespace

std::unique_ptr<Poco::Net::HTTPClientSession> Client::take(const std::string &key, const std::string &scheme,
                                                           const std::string &host, unsigned short port) {
  {
    std::lock_guard lock(mutex_);
    auto &pool = idle_[key];
    if (!pool.empty()) {
      auto session = std::move(pool.back());
      pool.pop_back();
      return session;
    }
  }
  if (scheme == "https") return std::unique_ptr<Poco::Net::HTTPClientSession>(https_sessions()(host, port));
  return std::make_unique<Poco::Net::HTTPClientSession>(host, port);
}

void Client::give_back(const std::string &key, std::unique_ptr<Poco::Net::HTTPClientSession> session) {
  std::lock_guard lock(mutex_);
  auto &pool = idle_[key];
  if (pool.size() < max_idle_) pool.push_back(std::move(session));
}

sdk::HttpResponse Client::perform(const sdk::HttpRequest &request) {
  sdk::HttpResponse out;
  Poco::URI uri;
  try {
    uri = Poco::URI(request.url);
  } catch (const Poco::Exception &e) {
    out.error = "invalid URL: " + e.displayText();
    return out;
  }
  if (uri.getScheme() != "http" && uri.getScheme() != "https") {
    out.error = "unsupported URL scheme '" + uri.getScheme() + "' (use http or https)";
    return out;
  }
  std::string key = uri.getScheme() + "://" + uri.getHost() + ":" + std::to_string(uri.getPort());
  // A pooled session may have been closed by the server while idle; a request
  // that fails before anything was sent on a reused session is tried once more
  // on a fresh one.
  for (int round = 0; round < 2; ++round) {
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    try {
      session = take(key, uri.getScheme(), uri.getHost(), uri.getPort());
    } catch (const std::exception &e) {
      out.error = e.what();
      return out;
    }
    bool reused = session->connected();
    Poco::Timespan timeout(static_cast<long>(request.timeout.count() / 1000),
                           static_cast<long>((request.timeout.count() % 1000) * 1000));
    session->setTimeout(timeout);
    session->setKeepAlive(true);
    std::string target = uri.getPathAndQuery();
    if (target.empty()) target = "/";
    Poco::Net::HTTPRequest req(request.method, target, Poco::Net::HTTPMessage::HTTP_1_1);
    req.setHost(uri.getHost(), uri.getPort());
    for (auto &[name, value] : request.headers) req.set(name, value);
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT" || request.method == "PATCH")
      req.setContentLength(static_cast<std::streamsize>(request.body.size()));
    bool sent = false;
    try {
      std::ostream &body = session->sendRequest(req);
      body.write(request.body.data(), static_cast<std::streamsize>(request.body.size()));
      sent = true;
      Poco::Net::HTTPResponse resp;
      std::istream &in = session->receiveResponse(resp);
      Poco::StreamCopier::copyToString(in, out.body);
      out.status = static_cast<int>(resp.getStatus());
      for (auto &[name, value] : resp) out.headers[sdk::lower(name)] = value;
      if (resp.getKeepAlive()) give_back(key, std::move(session));
      return out;
    } catch (const Poco::TimeoutException &e) {
      out.error = "timed out after " + std::to_string(request.timeout.count()) + " ms";
      out.timed_out = true;
      return out;
    } catch (const Poco::Net::NoMessageException &e) {
      // The server closed an idle pooled connection without reading the request.
      if (reused && round == 0) continue;
      out.error = "no answer: " + e.displayText();
      return out;
    } catch (const Poco::Exception &e) {
      if (reused && round == 0 && !sent) continue;
      out.error = (sent ? "no answer: " : "cannot send: ") + e.displayText();
      return out;
    } catch (const std::exception &e) {
      out.error = e.what();
      return out;
    }
  }
  return out;
}

}  // namespace cartwire::http
