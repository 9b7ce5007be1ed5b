// A listening socket for the tests' local servers.
#pragma once

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

namespace cartwire::testing {

/**
 * Binds `socket` to 127.0.0.1:`port` (0: any free port) and listens, with
 * SO_REUSEADDR but without the SO_REUSEPORT that Poco's ServerSocket(address)
 * also sets. With it, the kernel may give a port that a hub of a test running
 * alongside listens on to a new socket, and the two take each other's requests.
 */
template <typename Socket>
Socket &listen_alone(Socket &socket, unsigned short port = 0, int backlog = 64) {
  socket.bind(Poco::Net::SocketAddress("127.0.0.1", port), /*reuseAddress=*/true, /*reusePort=*/false);
  socket.listen(backlog);
  return socket;
}

inline Poco::Net::ServerSocket listen_alone(unsigned short port = 0, int backlog = 64) {
  Poco::Net::ServerSocket socket;
  return listen_alone(socket, port, backlog);
}

}  // namespace cartwire::testing
