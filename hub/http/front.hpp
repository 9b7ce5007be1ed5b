// The public listener: /hooks/<source-id> for webhooks, /healthz and /readyz.
#pragma once

#include <functional>
#include <memory>

#include "config/config.hpp"
#include "engine/engine.hpp"
#include "http/listener.hpp"

namespace cartwire::http {

class Front {
 public:
  /** The engine each request takes: the running configuration's (it is held until the request is answered). */
  using Engines = std::function<std::shared_ptr<engine::Engine>()>;
  Front(Engines engine, const config::ServerConfig &config);
  ~Front();
  void start();
  /** Stop accepting; requests in progress are answered first. */
  void stop();
  unsigned short port() const;

 private:
  std::unique_ptr<Listener> server_;
};

}  // namespace cartwire::http
