// The public listener: /hooks/<source-id> for webhooks, /healthz and /readyz.
#pragma once

#include <memory>

#include "config/config.hpp"
#include "engine/engine.hpp"
#include "http/listener.hpp"

namespace cartwire::http {

class Front {
 public:
  Front(engine::Engine &engine, const config::ServerConfig &config);
  ~Front();
  void start();
  /** Stop accepting; requests in progress are answered first. */
  void stop();
  unsigned short port() const;

 private:
  std::unique_ptr<Listener> server_;
};

}  // namespace cartwire::http
