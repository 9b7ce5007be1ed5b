#include "admin/server.hpp"

#include <Poco/Logger.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/URI.h>

#include "admin/api.hpp"
#include "admin/static_files.hpp"
#include "http/body.hpp"

namespace cartwire::admin {
namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

Poco::Logger &logger() { return Poco::Logger::get("admin"); }

bool starts_with(const std::string &s, const std::string &prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

// Every string in the answer passes the redactor: the API builds its answers
// from masked settings and redacted attempts already, this catches the rest.
void scrub(Json &value, const plugins::Redactor &redactor) {
  if (value.is_string()) {
    value = redactor.apply(value.get<std::string>());
  } else if (value.is_array()) {
    for (auto &v : value) scrub(v, redactor);
  } else if (value.is_object()) {
    for (auto &[k, v] : value.items()) scrub(v, redactor);
  }
}

void send(HTTPServerResponse &out, const Response &r, bool head) {
  out.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(r.status));
  out.setContentType(r.content_type);
  out.set("X-Content-Type-Options", "nosniff");
  out.set("X-Frame-Options", "DENY");
  out.set("Referrer-Policy", "no-referrer");
  for (auto &[k, v] : r.headers) out.set(k, v);
  for (auto &c : r.set_cookies) out.add("Set-Cookie", c);
  // A HEAD answer says the length a GET's body would have; Poco sends it no body.
  out.setContentLength(static_cast<std::streamsize>(r.body.size()));
  // Flushed at once: after a 413 the handler still reads what the client sends.
  if (head) out.send().flush();
  else out.send() << r.body << std::flush;
}

class Handler : public Poco::Net::HTTPRequestHandler {
 public:
  Handler(Server &server, std::size_t max_body) : server_(server), max_body_(max_body) {}

  void handleRequest(HTTPServerRequest &in, HTTPServerResponse &out) override {
    bool head = in.getMethod() == "HEAD";
    Request req;
    req.method = in.getMethod();
    try {
      Poco::URI uri(in.getURI());
      req.path = uri.getPath();
      for (auto &[k, v] : uri.getQueryParameters())
        if (!req.query.emplace(k, v).second && req.repeated.empty()) req.repeated = k;
    } catch (const Poco::Exception &) {
      return send(out, finish(Response::error(400, "malformed request target")), head);
    }
    req.client = in.clientAddress().host().toString();
    for (auto &[name, value] : in) req.headers[sdk::lower(name)] = value;
    Poco::Net::NameValueCollection cookies;
    in.getCookies(cookies);
    for (auto &[name, value] : cookies) req.cookies[name] = value;
    switch (http::read_body(in, out, max_body_, req.body)) {
      case http::BodyRead::complete: break;
      case http::BodyRead::too_large:
        out.setKeepAlive(false);
        send(out, too_large(), head);
        http::discard_rest(in, 4 * max_body_);
        return;
      case http::BodyRead::incomplete:
        out.setKeepAlive(false);
        send(out, finish(Response::error(400, "incomplete body: the client stopped sending before its end")), head);
        return;
      case http::BodyRead::malformed:
        out.setKeepAlive(false);
        send(out,
             finish(Response::error(400, "malformed body framing: a Content-Length that is not a number, or a broken "
                                         "chunk")),
             head);
        return;
    }
    send(out, server_.handle(req), head);
  }

 private:
  Response too_large() const {
    return finish(Response::error(413, "body larger than " + std::to_string(max_body_) + " bytes (admin.max_body_bytes)"));
  }
  static Response finish(Response r) {
    r.body = sdk::json_text(r.json);  // what a client sent may be no UTF-8
    return r;
  }
  Server &server_;
  std::size_t max_body_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Factory(Server &server, std::size_t max_body) : server_(server), max_body_(max_body) {}
  Poco::Net::HTTPRequestHandler *createRequestHandler(const HTTPServerRequest &) override {
    return new Handler(server_, max_body_);
  }

 private:
  Server &server_;
  std::size_t max_body_;
};

}  // namespace

Server::Server(const config::AdminConfig &config, Hub hub, Metrics &metrics, std::function<int64_t()> clock_ms)
    : context_(std::make_unique<Context>(std::move(hub), config, metrics, std::move(clock_ms))) {
  add_system_routes(router_, *context_);
  add_config_routes(router_, *context_);
  add_log_routes(router_, *context_);
  add_insight_routes(router_, *context_);
  http::ListenerLimits limits;
  limits.threads = 8;
  limits.max_queued = 256;
  limits.read_timeout = config.read_timeout;
  server_ = std::make_unique<http::Listener>(new Factory(*this, config.max_body_bytes), config.host,
                                             static_cast<unsigned short>(config.port), 64, limits);
}

Server::~Server() { stop(); }

void Server::start() { server_->start(); }

void Server::stop() {
  if (server_) server_->stop();
}

unsigned short Server::port() const { return server_->port(); }

Response Server::handle(Request &request) {
  Response r;
  try {
    r = dispatch(request);
  } catch (const std::invalid_argument &e) {
    r = Response::error(400, e.what());
  } catch (const std::exception &e) {
    logger().error(request.method + " " + request.path + ": " + context_->hub.secrets()->apply(e.what()));
    r = Response::error(500, std::string("internal error: ") + e.what());
  }
  if (!r.json.is_null()) {
    // A job's parameters, kept from its rule as it was, may carry a URL's credential hub.yaml no longer has.
    std::shared_ptr<const plugins::Redactor> secrets = context_->hub.secrets();
    std::optional<plugins::Redactor> more = secrets->with_url_credentials(r.json);
    scrub(r.json, more ? *more : *secrets);
    r.body = sdk::json_text(r.json);  // what a client sent may be no UTF-8
  }
  if (starts_with(request.path, "/api/")) r.headers.emplace("Cache-Control", "no-store");
  return r;
}

Response Server::dispatch(Request &request) {
  const std::string &path = request.path;
  bool api = starts_with(path, "/api/") || path == "/api" || path == "/metrics";
  if (!api && path != "/healthz" && path != "/readyz") {
    if (request.method != "GET" && request.method != "HEAD") return Response::error(405, "the console is read-only");
    return static_file(context_->config.web_dir, path);
  }
  bool open = path == "/healthz" || path == "/readyz" || path == "/api/login" ||
              (path == "/metrics" && context_->config.metrics_public);
  bool login = path == "/api/login" && request.method == "POST";
  bool bearer = !open && !request.header("authorization").empty();
  if (login || bearer) {
    if (int64_t ms = context_->wrong_tokens.refused_for(request.client); ms > 0) {
      int64_t seconds = (ms + 999) / 1000;
      Response r = Response::error(429, "too many wrong admin tokens from " + request.client +
                                            ": every token from there is refused for " + std::to_string(seconds) +
                                            " s more");
      r.headers["Retry-After"] = std::to_string(seconds);
      return r;
    }
  }
  if (!open) {
    AuthResult auth = authorize(request.method, request.header("authorization"), request.cookie(kSessionCookie),
                                request.header(kCsrfHeader), context_->config.token, context_->sessions);
    if (!auth.allowed()) {
      Response r = Response::error(auth.status, auth.reason);
      if (auth.status == 401) r.headers["WWW-Authenticate"] = "Bearer realm=\"cartwire-admin\"";
      if (auth.status == 401 && bearer) count_wrong_token(request);
      return r;
    }
    request.by = std::string(auth.via == AuthResult::Via::bearer ? "the admin token" : "a console session") +
                 " from " + request.client;
  }
  // Only after authentication, so that nobody learns which paths exist without the token.
  auto match = router_.match(request.method, path);
  if (!match.path_known) return Response::error(404, "no such endpoint (see docs/admin-api.yaml)");
  if (!match.handler) {
    Response r = Response::error(405, "method not allowed");
    std::string allowed;
    for (auto &m : match.allowed) allowed += (allowed.empty() ? "" : ", ") + m;
    r.headers["Allow"] = allowed;
    return r;
  }
  // None is repeatable: one of the values would be lost.
  if (!request.repeated.empty())
    return Response::error(400, "query parameter '" + request.repeated + "' is given more than once");
  request.params = std::move(match.params);
  Response r = (*match.handler)(request);
  if (login && r.status == 401) count_wrong_token(request);
  return r;
}

void Server::count_wrong_token(const Request &request) {
  if (context_->wrong_tokens.count(request.client))
    logger().warning(std::to_string(WrongTokens::kAllowed) + " wrong admin tokens from " + request.client +
                     " within a minute: every token from there is refused for a minute (answered 429)");
}

}  // namespace cartwire::admin
