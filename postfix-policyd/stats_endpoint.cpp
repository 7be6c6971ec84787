// stats_endpoint.cpp -- see stats_endpoint.h.
#include "stats_endpoint.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <string>

#include "limits.h"

namespace mailgrant::policy {

void answer_stats(int fd, const Stats& stats, const CacheStats& cache) {
    const std::string body = stats.prometheus(cache);
    const std::string out = "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\n\r\n" + body;
    // Blocking write of a few KiB to a fresh socket: fits the socket buffer.
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    timeval tv{static_cast<time_t>(limits::kStatsSendTimeout.count()), 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    [[maybe_unused]] ssize_t n = send(fd, out.data(), out.size(), MSG_NOSIGNAL);
}

}  // namespace mailgrant::policy
