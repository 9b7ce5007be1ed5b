#include "http/client.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

#include <algorithm>
#include <mutex>
#include <stdexcept>

#include "http/https_module.hpp"

namespace cartwire::http {
namespace {

// The HTTPS module is looked for in these folders, relative to the
// executable's: lib/cartwire in the build tree, then the installed layout's.
std::vector<boost::dll::fs::path> https_module_candidates() {
  boost::dll::fs::path bin = boost::dll::program_location().parent_path();
  std::vector<boost::dll::fs::path> out;
  for (const char *dir : {CARTWIRE_HTTPS_MODULE_DIRS})
    out.push_back((bin / dir / kHttpsModuleFile).lexically_normal());
  return out;
}

// The module's session factory, loaded with the first HTTPS session and never
// unloaded, not even at exit: pooled sessions and OpenSSL's exit handlers run
// its code. A module that cannot be loaded fails that request and is tried
// again with the next one.
HttpsSessionFactory *https_sessions() {
  static std::mutex mutex;
  static boost::dll::shared_library &module = *new boost::dll::shared_library;
  static HttpsSessionFactory *factory = nullptr;
  std::lock_guard lock(mutex);
  if (factory) return factory;
  auto candidates = https_module_candidates();
  auto found = std::find_if(candidates.begin(), candidates.end(), [](const boost::dll::fs::path &p) {
    boost::dll::fs::error_code ec;
    return boost::dll::fs::exists(p, ec);
  });
  if (found == candidates.end()) {
    std::string looked;
    for (auto &candidate : candidates) looked += (looked.empty() ? "" : " nor ") + candidate.string();
    throw std::runtime_error(std::string("HTTPS support module ") + kHttpsModuleFile +
                             " could not be loaded: it is neither " + looked + ". Reinstall the hub.");
  }
  try {
    module.load(*found, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    factory = &module.get<HttpsSessionFactory>(kHttpsSessionSymbol);
  } catch (const std::exception &e) {
    module.unload();
    throw std::runtime_error("HTTPS support module " + found->string() + " could not be loaded: " + e.what());
  }
  return factory;
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
