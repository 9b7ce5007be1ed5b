// Requests and responses of the admin API as plain values, and the table that
// maps "METHOD /path/{param}" to handlers. Free of sockets so that it can be
// tested directly.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <cartwire/sdk/json.hpp>

namespace cartwire::admin {

using Json = sdk::Json;

struct Request {
  std::string method;
  std::string path;
  std::map<std::string, std::string> query;
  std::string repeated;  // a query parameter given twice, if any: answered 400 once the request is authorised
  std::map<std::string, std::string> headers;  // lower-case names
  std::map<std::string, std::string> cookies;
  std::string body;
  std::string client;  // the peer's address: a proxy's, behind one
  std::vector<std::string> params;  // the {captures} of the matched route, in order
  std::string by;  // who asked, once authorised: "the admin token from <client>" or "a console session from <client>"

  std::string header(const std::string &lower_name) const;
  std::string cookie(const std::string &name) const;
  /** The body as a JSON object; an empty body is {}. Throws std::invalid_argument when it is not an object. */
  Json json_body() const;
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::string> set_cookies;  // complete Set-Cookie values
  std::map<std::string, std::string> headers;
  Json json;  // serialised into body by the server (after secrets are scrubbed) when not null

  static Response of(int status, Json body);
  static Response error(int status, const std::string &reason);
};

using Handler = std::function<Response(Request &)>;

class Router {
 public:
  /** `pattern` segments in braces capture one path segment, e.g. /api/jobs/{id}. */
  void add(const std::string &method, const std::string &pattern, Handler handler);

  struct Match {
    const Handler *handler = nullptr;
    bool path_known = false;  // some route has this path, with another method (405)
    std::vector<std::string> params;
    std::vector<std::string> allowed;  // methods of the routes with this path
  };
  Match match(const std::string &method, const std::string &path) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

/** "/a/b/" → {"a", "b"}. */
std::vector<std::string> split_path(const std::string &path);

}  // namespace cartwire::admin
