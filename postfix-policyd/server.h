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
#include "socket_file.h"
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

// Binds "unix:/path" or "inet:host:port"; returns a listening, non-blocking fd. A unix
// socket file appears with `permissions` already set and is remembered in `files`
// (socket_file.h). Throws std::runtime_error naming the address.
int listen_on(const std::string& address, const SocketPermissions& permissions, SocketFiles& files);

// Reads ldap.bind_password_file into config.ldap.bind_password (when bind_dn is set),
// so the LDAP connections never read it themselves. At start this runs as root, before
// privileges are dropped: the file may stay readable by root alone (0600), as Postfix
// and nginx keep their secrets. On reload (`running` = the configuration in use) the
// daemon is no longer root: when it cannot read the file and the file is the same as
// before, the password read at start is kept and `log` says so. Throws ConfigError
// saying which user tried to read the file.
void read_bind_password(Config& config, const Config* running, const Logger& log);

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
