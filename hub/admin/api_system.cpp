// Health, metrics and the login session.
#include <stdexcept>

#include "admin/api.hpp"
#include "cartwire/sdk/secret.hpp"

namespace cartwire::admin {

std::shared_ptr<engine::Engine> engine_of(Context &context) {
  auto engine = context.hub.engine ? context.hub.engine() : nullptr;
  if (!engine) throw std::runtime_error("the hub is not running");
  return engine;
}

std::optional<int64_t> id_param(const Request &request, std::size_t i) {
  if (i >= request.params.size()) return std::nullopt;
  const std::string &text = request.params[i];
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  int64_t id = std::stoll(text);
  if (id <= 0) return std::nullopt;
  return id;
}

namespace {

Json hub_status(Context &c) {
  if (!c.hub.status) throw std::runtime_error("the hub is not running");
  return c.hub.status();
}

}  // namespace

void add_system_routes(Router &router, Context &c) {
  router.add("GET", "/healthz", [](Request &) { return Response::of(200, {{"status", "ok"}}); });

  router.add("GET", "/readyz", [&c](Request &) {
    try {
      engine_of(c)->store().ping();
      return Response::of(200, {{"status", "ready"}});
    } catch (const std::exception &e) {
      return Response::error(503, std::string("not ready: ") + e.what());
    }
  });

  router.add("GET", "/metrics", [&c](Request &) {
    Response r;
    Json status = hub_status(c);
    r.body = c.metrics.render(engine_of(c)->store().job_counts(), status["runner"]["running"].get<bool>(),
                              status["poller"]["running"].get<bool>());
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  });

  router.add("GET", "/api/status", [&c](Request &) { return Response::of(200, hub_status(c)); });

  router.add("POST", "/api/login", [&c](Request &req) {
    Json body = req.json_body();
    std::string token = body.contains("token") && body["token"].is_string() ? body["token"].get<std::string>() : "";
    if (!sdk::same_secret(c.config.token, token)) return Response::error(401, "wrong admin token");
    Session s = c.sessions.create();
    Response r = Response::of(200, {{"csrf_token", s.csrf}, {"expires_at", engine::rfc3339(s.expires_at)}});
    bool secure = reached_over_https(req.header("x-forwarded-proto"), req.header("forwarded"));
    r.set_cookies = {session_cookie(s, c.sessions.ttl(), secure), csrf_cookie(s, c.sessions.ttl(), secure)};
    return r;
  });

  router.add("POST", "/api/logout", [&c](Request &req) {
    std::string id = req.cookie(kSessionCookie);
    if (!id.empty()) c.sessions.remove(id);
    Response r = Response::of(200, {{"logged_out", !id.empty()}});
    bool secure = reached_over_https(req.header("x-forwarded-proto"), req.header("forwarded"));
    r.set_cookies = {expired_cookie(kSessionCookie, secure), expired_cookie(kCsrfCookie, secure)};
    return r;
  });

  router.add("GET", "/api/session", [&c](Request &req) {
    // The server authenticated the request already; this tells the console how.
    if (!req.header("authorization").empty()) return Response::of(200, {{"via", "bearer"}, {"expires_at", nullptr}});
    auto s = c.sessions.find(req.cookie(kSessionCookie));
    return Response::of(200, {{"via", "session"}, {"expires_at", s ? Json(engine::rfc3339(s->expires_at)) : Json(nullptr)}});
  });
}

}  // namespace cartwire::admin
