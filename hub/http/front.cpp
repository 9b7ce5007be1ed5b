#include "http/front.hpp"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/URI.h>

#include "http/body.hpp"
#include "plugins/crash_note.hpp"

namespace cartwire::http {
namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

void send(HTTPServerResponse &response, int status, const std::string &body,
          const std::string &content_type = "application/json") {
  response.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(status));
  response.setContentType(content_type);
  response.setContentLength(static_cast<std::streamsize>(body.size()));
  // Flushed at once: after a 413 the handler still reads what the client sends.
  response.send() << body << std::flush;
}

// How much of an oversized body is read and dropped after the 413.
constexpr std::size_t kDiscardLimit = 16 * 1024 * 1024;

using sdk::error_text;

class HookHandler : public Poco::Net::HTTPRequestHandler {
 public:
  HookHandler(std::shared_ptr<engine::Engine> engine, std::size_t max_body, std::string source, std::string rest,
              Poco::URI::QueryParameters query)
      : engine_(std::move(engine)), max_body_(max_body), source_(std::move(source)), rest_(std::move(rest)), query_(std::move(query)) {}

  void handleRequest(HTTPServerRequest &request, HTTPServerResponse &response) override {
    sdk::WebhookRequest req;
    req.method = request.getMethod();
    req.path = rest_;
    for (auto &[k, v] : query_) req.query[k] = std::move(v);
    for (auto &[name, value] : request) req.headers[sdk::lower(name)] = value;
    switch (read_body(request, response, max_body_, req.body)) {
      case BodyRead::complete: break;
      case BodyRead::too_large:
        response.setKeepAlive(false);
        send(response, 413, error_text("body larger than " + std::to_string(max_body_) + " bytes"));
        discard_rest(request, kDiscardLimit);
        return;
      case BodyRead::incomplete:
        response.setKeepAlive(false);
        send(response, 400, error_text("incomplete body: the client stopped sending before its end"));
        return;
      case BodyRead::malformed:
        response.setKeepAlive(false);
        send(response, 400,
             error_text("malformed body framing: a Content-Length that is not a number, or a broken chunk"));
        return;
    }
    bool too_deep;
    {
      // A fatal signal in this parse is put down to the hub taking this request, as in the engine after it.
      static const std::string kNoDetail;
      plugins::crash_note::Inside inside(source_, "webhook", kNoDetail, 0, &req.body, plugins::crash_note::Code::hub);
      too_deep = json_nested_deeper_than(req.body, kMaxJsonNesting);
    }
    if (too_deep)
      return send(response, 400,
                  error_text("the JSON body nests arrays and objects deeper than " + std::to_string(kMaxJsonNesting) +
                        " levels"));
    const bool head = req.method == "HEAD";
    engine::HookResponse out = engine_->handle_webhook(source_, std::move(req));
    if (head) {
      response.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(out.status));
      response.setContentLength(0);
      response.send();
      return;
    }
    send(response, out.status, out.body, out.content_type);
  }

 private:
  std::shared_ptr<engine::Engine> engine_;  // the configuration's when the request came, and its connectors
  std::size_t max_body_;
  std::string source_, rest_;
  Poco::URI::QueryParameters query_;
};

class FixedHandler : public Poco::Net::HTTPRequestHandler {
 public:
  FixedHandler(int status, std::string body) : status_(status), body_(std::move(body)) {}
  void handleRequest(HTTPServerRequest &request, HTTPServerResponse &response) override {
    // A body this answer does not read would be taken for the next request.
    if (has_body(request)) response.setKeepAlive(false);
    send(response, status_, body_);
  }

 private:
  int status_;
  std::string body_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Factory(Front::Engines engine, std::size_t max_body) : engine_(std::move(engine)), max_body_(max_body) {}

  Poco::Net::HTTPRequestHandler *createRequestHandler(const HTTPServerRequest &request) override {
    // Parsed once: the hook handler gets the query parameters from here.
    Poco::URI uri;
    try {
      uri = Poco::URI(request.getURI());
    } catch (const Poco::Exception &) {
      return new FixedHandler(400, error_text("malformed request target"));
    }
    const std::string &path = uri.getPath();
    static const std::string hooks = "/hooks/";
    if (path.compare(0, hooks.size(), hooks) == 0) {
      std::string rest = path.substr(hooks.size());
      auto slash = rest.find('/');
      std::string source = rest.substr(0, slash);
      if (source.empty()) return new FixedHandler(404, error_text("missing source id: POST /hooks/<source-id>"));
      Poco::URI::QueryParameters query;
      try {
        query = uri.getQueryParameters();
      } catch (const Poco::Exception &) {
        return new FixedHandler(400, error_text("malformed query string"));
      }
      return new HookHandler(engine_(), max_body_, source, slash == std::string::npos ? "" : rest.substr(slash),
                             std::move(query));
    }
    if (path == "/healthz") return new FixedHandler(200, R"({"status":"ok"})");
    if (path == "/readyz") {
      try {
        engine_()->store().ping();
        return new FixedHandler(200, R"({"status":"ready"})");
      } catch (const std::exception &e) {
        // The console's /readyz (the admin listener) gives the store's own message.
        std::string why = engine::public_store_failure(e);
        return new FixedHandler(503, error_text("store unavailable: " +
                                                (why.empty() ? "the hub's store failed its check" : why) +
                                                "; the log and the console's /readyz say why"));
      }
    }
    return new FixedHandler(404, error_text("no such endpoint; webhooks go to /hooks/<source-id>"));
  }

 private:
  Front::Engines engine_;
  std::size_t max_body_;
};

}  // namespace

Front::Front(Engines engine, const config::ServerConfig &config) {
  ListenerLimits limits;
  limits.threads = config.threads;
  limits.max_queued = 1024;
  limits.read_timeout = config.read_timeout;
  server_ = std::make_unique<Listener>(new Factory(std::move(engine), config.max_body_bytes), config.host,
                                       static_cast<unsigned short>(config.port), 256, limits);
}

Front::~Front() { stop(); }

void Front::start() { server_->start(); }

void Front::stop() {
  if (server_) server_->stop();
}

unsigned short Front::port() const { return server_->port(); }

}  // namespace cartwire::http
