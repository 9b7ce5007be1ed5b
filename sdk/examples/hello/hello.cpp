// Template connector: copy this folder to start a new one.
#include <cartwire/sdk/connector.hpp>

#include "cartwire_manifest.h"

namespace {

using namespace cartwire::sdk;

class Hello : public Connector {
 public:
  Hello(const Json &settings, const Host &) {
    url_ = settings.value("url", "");
    if (url_.rfind("http://", 0) != 0 && url_.rfind("https://", 0) != 0)
      throw ConfigError("url must start with http:// or https://");
    token_ = settings.value("token", "");
  }

  Result action(const Host &host, const ActionRequest &request) override {
    if (request.action != "greet") return Connector::action(host, request);
    std::string name = request.event.value("/customer/first_name"_json_pointer, std::string("there"));
    HttpRequest out;
    out.method = "POST";
    out.url = url_;
    out.headers["content-type"] = "application/json";
    if (!token_.empty()) out.headers["authorization"] = "Bearer " + token_;
    out.body = Json{{"greeting", request.params.value("greeting", "Hello") + ", " + name}}.dump();
    return classify(host.http(out), "POST " + url_);
  }

 private:
  std::string url_;
  std::string token_;
};

}  // namespace

CARTWIRE_CONNECTOR(Hello)
