// Template connector: copy this folder to start a new one.
#include <cartwire/sdk/connector.hpp>

#include "cartwire_manifest.h"

namespace {

using namespace cartwire::sdk;

class Hello : public Connector {
 public:
  // Every problem of the settings at once; the token goes only over https://
  // (or plain http:// to this machine, for a local test server).
  Hello(const Json &settings, const Host &) {
    SettingsProblems problems;
    problems.check([&] {
      if (string_setting(settings, "url").empty()) throw ConfigError("setting 'url' is required");
      url_ = api_base_url(settings, "url", "");
    });
    problems.check([&] { token_ = string_setting(settings, "token"); });
    problems.done();
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
