#include "admin/router.hpp"

#include <stdexcept>

#include "http/body.hpp"

namespace cartwire::admin {

std::string Request::header(const std::string &lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::string Request::cookie(const std::string &name) const {
  auto it = cookies.find(name);
  return it == cookies.end() ? std::string() : it->second;
}

Json Request::json_body() const {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return Json::object();
  if (http::json_nested_deeper_than(body, http::kMaxJsonNesting))
    throw std::invalid_argument("the body nests arrays and objects deeper than " +
                                std::to_string(http::kMaxJsonNesting) + " levels");
  Json parsed = Json::parse(body, nullptr, false);
  if (parsed.is_discarded()) throw std::invalid_argument("the body is not valid JSON");
  if (!parsed.is_object()) throw std::invalid_argument("the body must be a JSON object");
  return parsed;
}

Response Response::of(int status, Json body) {
  Response r;
  r.status = status;
  r.json = std::move(body);
  return r;
}

Response Response::error(int status, const std::string &reason) { return of(status, Json{{"error", reason}}); }

std::vector<std::string> split_path(const std::string &path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

void Router::add(const std::string &method, const std::string &pattern, Handler handler) {
  routes_.push_back({method, split_path(pattern), std::move(handler)});
}

Router::Match Router::match(const std::string &method, const std::string &path) const {
  Match out;
  auto segments = split_path(path);
  for (auto &route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    std::vector<std::string> params;
    bool same = true;
    for (std::size_t i = 0; i < segments.size() && same; ++i) {
      const std::string &want = route.segments[i];
      if (want.size() > 2 && want.front() == '{' && want.back() == '}') params.push_back(segments[i]);
      else same = want == segments[i];
    }
    if (!same) continue;
    out.path_known = true;
    out.allowed.push_back(route.method);
    // HEAD is answered by GET routes (the server drops the body).
    if (!out.handler && (route.method == method || (method == "HEAD" && route.method == "GET"))) {
      out.handler = &route.handler;
      out.params = std::move(params);
    }
  }
  return out;
}

}  // namespace cartwire::admin
