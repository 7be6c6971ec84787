// server.h -- the policy daemon: policy.io_threads event loops (event_loop.h) sharing
// the listening socket, each with its share of the policy.workers worker threads
// (worker_pool.h). Exactly one reply is written per request: a result that arrives
// after its deadline already produced the defer answer is dropped. SIGHUP swaps in a
// new Engine (engine.h: config, LDAP pool, cache) without dropping connections; SIGTERM
// stops accepting and ends once in-flight requests are answered (bounded by
// request_timeout_ms). The sockets come from listener.h, fixed limits from limits.h.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine.h"
#include "listener.h"
#include "socket_file.h"
#include "stats.h"

namespace mailgrant::policy {

class EventLoop;
struct LoopShared;

class Server {
public:
    Server(std::shared_ptr<Engine> engine, std::string config_path, int listen_fd, int stats_fd, Logger log,
           Stats& stats);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Installs SIGHUP/SIGTERM/SIGINT/SIGUSR1 handlers and ignores SIGPIPE (signals.h).
    static void install_signal_handlers();
    // Runs until SIGTERM/SIGINT (or request_stop). Returns the process exit code.
    int run();
    void request_stop();
    // The Engine in use now (swapped on SIGHUP); the milter shares it with the policy path.
    std::shared_ptr<Engine> engine() const;

private:
    std::unique_ptr<LoopShared> shared_;
    std::vector<std::unique_ptr<EventLoop>> loops_;
    int listen_fd_;
    int stats_fd_;
};

}  // namespace mailgrant::policy
