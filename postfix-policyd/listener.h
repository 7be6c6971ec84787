// listener.h -- the daemon's listening sockets (policy, stats; the milter's socket file
// uses the same socket_file.h rules), opened as root before privileges are dropped.
#pragma once

#include <stdexcept>
#include <string>

#include "socket_file.h"

namespace mailgrant::policy {

// Binds "unix:/path" or "inet:host:port"; returns a listening, non-blocking fd. A unix
// socket file appears with `permissions` already set and is remembered in `files`
// (socket_file.h). Throws std::runtime_error naming the address.
int listen_on(const std::string& address, const SocketPermissions& permissions, SocketFiles& files);

void set_nonblocking(int fd);
// "what: strerror(errno)" as an exception.
std::runtime_error sys_error(const std::string& what);

}  // namespace mailgrant::policy
