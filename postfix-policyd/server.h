// server.h -- the policy daemon's event loop and worker pool.
//
// policy.io_threads threads each run an epoll loop (sharing the listening socket): each
// accepts smtpd connections, reads and parses requests
// (request_parser.h), writes replies and enforces the per-request deadline. Decisions,
// which may wait on LDAP, run on a fixed pool of worker threads. Exactly one reply is
// written per request: a result that arrives after its deadline already produced the
// defer answer is dropped. SIGHUP swaps in a new Engine (config, LDAP pool, cache)
// without dropping connections; SIGTERM stops accepting and ends once in-flight requests
// are answered (bounded by request_timeout_ms).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mailgrant/caching_directory.h"
#include "mailgrant/config.h"
#include "mailgrant/decision.h"
#include "mailgrant/directory_pool.h"
#include "policy_service.h"
#include "stats.h"

namespace mailgrant::policy {

// Receives one or more log lines separated by '\n' (no trailing newline).
using Logger = std::function<void(const std::string& lines)>;

// Everything built from one configuration; replaced whole on reload, kept alive by the
// jobs still using it.
struct Engine {
    Config config;
    std::unique_ptr<DirectoryPool> pool;
    std::unique_ptr<CachingDirectory> cache;
    std::unique_ptr<Decider> decider;
    std::unique_ptr<PolicyService> service;

    static std::shared_ptr<Engine> build(const Config& config, Stats& stats);
};

// Binds "unix:/path" (mode/owner from config) or "inet:host:port"; returns a listening,
// non-blocking fd. Throws std::runtime_error naming the address.
int listen_on(const std::string& address, const PolicyConfig& config, bool set_owner);

// Gives a unix socket the owner, group (when running as root) and mode of
// policy.socket_owner / socket_group / socket_mode, so Postfix's smtpd can connect.
// Throws std::runtime_error naming the key or the path. Used for the policy and milter sockets.
void set_socket_owner(const std::string& path, const PolicyConfig& config);

class Server {
public:
    Server(std::shared_ptr<Engine> engine, std::string config_path, int listen_fd, int stats_fd, Logger log,
           Stats& stats);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Installs SIGHUP/SIGTERM/SIGINT/SIGUSR1 handlers and ignores SIGPIPE.
    static void install_signal_handlers();
    // Runs until SIGTERM/SIGINT (or request_stop). Returns the process exit code.
    int run();
    void request_stop();
    // The Engine in use now (swapped on SIGHUP); the milter shares it with the policy path.
    std::shared_ptr<Engine> engine() const;

private:
    struct Impl;    // one epoll loop with its share of the workers
    struct Shared;  // what the loops share
    std::unique_ptr<Shared> shared_;
    std::vector<std::unique_ptr<Impl>> loops_;
    int listen_fd_;
    int stats_fd_;
};

}  // namespace mailgrant::policy
