// server.cpp -- see server.h.
#include "server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace mailgrant::policy {
namespace {

using Clock = std::chrono::steady_clock;

int signal_pipe[2] = {-1, -1};

void on_signal(int signo) {
    const int saved = errno;
    const char byte = static_cast<char>(signo);
    [[maybe_unused]] ssize_t n = write(signal_pipe[1], &byte, 1);
    errno = saved;
}

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

std::runtime_error sys_error(const std::string& what) { return std::runtime_error(what + ": " + std::strerror(errno)); }

}  // namespace

std::shared_ptr<Engine> Engine::build(const Config& config, Stats& stats) {
    auto engine = std::make_shared<Engine>();
    engine->config = config;
    engine->pool = std::make_unique<DirectoryPool>(
        engine->config, static_cast<std::size_t>(config.policy.workers),
        [&stats](std::chrono::microseconds elapsed, bool ok) { stats.observe_ldap(elapsed, ok); });
    engine->cache = std::make_unique<CachingDirectory>(*engine->pool, engine->config.cache, SystemClock::instance());
    engine->decider = std::make_unique<Decider>(*engine->cache, SystemClock::instance());
    engine->service = std::make_unique<PolicyService>(engine->config.policy, *engine->decider);
    return engine;
}

void read_bind_password(Config& config, const Config* running, const Logger& log) {
    LdapConfig& ldap = config.ldap;
    if (ldap.bind_dn.empty() || !ldap.bind_password.empty()) return;
    try {
        ldap.bind_password = read_secret_file(ldap.bind_password_file);
        return;
    } catch (const ConfigError& e) {
        std::string why = e.what();
        const int fd = open(ldap.bind_password_file.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) why += ": " + std::string(std::strerror(errno));
        else close(fd);
        if (geteuid() != 0) {
            // After start the daemon runs as policy.user: say so, or "Permission denied"
            // reads like a broken file instead of a root-only one.
            const passwd* pw = getpwuid(geteuid());
            why += " (read as user " + (pw ? std::string(pw->pw_name) : std::to_string(geteuid())) +
                   ", not as root: the daemon has dropped its privileges)";
        }
        if (running && running->ldap.bind_password_file == ldap.bind_password_file &&
            !running->ldap.bind_password.empty()) {
            ldap.bind_password = running->ldap.bind_password;
            log("reload: " + why + "; keeping the password read at start (restart to read a changed one)");
            return;
        }
        throw ConfigError(why);
    }
}

int listen_on(const std::string& address, const SocketPermissions& permissions, SocketFiles& files) {
    if (address.rfind("unix:", 0) == 0) {
        const std::string path = address.substr(5);
        if (path.size() >= sizeof(sockaddr_un{}.sun_path)) throw std::runtime_error(address + ": socket path too long");
        int fd = -1;
        try {
            make_socket_file(path, permissions, files, [&](const std::string& where) {
                sockaddr_un addr{};
                addr.sun_family = AF_UNIX;
                std::memcpy(addr.sun_path, where.c_str(), where.size() + 1);
                fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0) throw sys_error("socket");
                if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 512) != 0)
                    throw sys_error("cannot listen on " + address);
            });
        } catch (...) {
            if (fd >= 0) close(fd);
            throw;
        }
        set_nonblocking(fd);
        return fd;
    }
    if (address.rfind("inet:", 0) != 0) throw std::runtime_error(address + ": must be unix:PATH or inet:HOST:PORT");
    const std::string rest = address.substr(5);
    const auto colon = rest.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error(address + ": missing port");
    std::string host = rest.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    const std::string port = rest.substr(colon + 1);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
        throw std::runtime_error(address + ": " + gai_strerror(rc));
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(found, &freeaddrinfo);
    const int fd = socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) throw sys_error("socket");
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, found->ai_addr, found->ai_addrlen) != 0 || listen(fd, 512) != 0) {
        close(fd);
        throw sys_error("cannot listen on " + address);
    }
    set_nonblocking(fd);
    return fd;
}

// State the I/O loops share: the current engine (swapped on reload) and the stop flag.
struct Server::Shared {
    std::shared_ptr<Engine> engine;  // read and written with std::atomic_load/store
    std::atomic<bool> stopping{false};
    std::vector<int> wake_fds;       // one per loop, to wake them all on stop
};

struct Server::Impl {
    struct Connection {
        std::uint64_t id = 0;
        int fd = -1;
        bool stats_client = false;
        std::string in, out;
        RequestParser parser;
        bool pending = false;
        bool watching_writes = false;  // EPOLLOUT in the interest set (changed only when needed)
        std::uint64_t seq = 0;
        Clock::time_point deadline;
        PolicyRequest request;  // the pending one, for the timeout log line
    };
    struct Job {
        std::uint64_t conn_id, seq;
        PolicyRequest request;
        std::shared_ptr<Engine> engine;
    };
    struct Result {
        std::uint64_t conn_id, seq;
        Answer answer;
    };

    Shared& shared;
    const int index;       // loop 0 also serves stats, signals and reloads
    const int n_workers;
    std::shared_ptr<Engine> engine;  // this loop's copy, refreshed every iteration
    std::string config_path;
    int listen_fd, stats_fd;
    Logger log;
    Stats& stats;
    int epoll_fd = -1, wake_fd = -1;
    std::map<int, Connection> by_fd;
    std::map<std::uint64_t, int> fd_of;
    std::uint64_t next_id = 1;
    bool stopping = false;
    std::string decision_log;  // lines not yet handed to the logger

    std::mutex jobs_mutex;
    std::condition_variable jobs_ready;
    std::deque<Job> jobs;
    bool workers_stop = false;
    std::vector<std::thread> workers;
    std::mutex results_mutex;
    std::vector<Result> results;

    Impl(Shared& sh, int idx, int workers_here, std::string path, int lfd, int sfd, Logger l, Stats& s)
        : shared(sh), index(idx), n_workers(workers_here), engine(std::atomic_load(&sh.engine)),
          config_path(std::move(path)), listen_fd(lfd), stats_fd(sfd), log(std::move(l)), stats(s) {
        epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (epoll_fd < 0 || wake_fd < 0) throw sys_error("epoll/eventfd");
        watch(listen_fd, EPOLLIN | EPOLLEXCLUSIVE);  // one loop wakes per new connection
        if (stats_fd >= 0) watch(stats_fd, EPOLLIN);
        watch(wake_fd, EPOLLIN);
        if (index == 0 && signal_pipe[0] >= 0) watch(signal_pipe[0], EPOLLIN);
        for (int i = 0; i < n_workers; ++i) workers.emplace_back([this] { work(); });
    }

    ~Impl() {
        {
            std::lock_guard<std::mutex> lock(jobs_mutex);
            workers_stop = true;
        }
        jobs_ready.notify_all();
        for (auto& t : workers) t.join();
        for (auto& [fd, conn] : by_fd) close(fd);
        close(wake_fd);
        close(epoll_fd);
    }

    void watch(int fd, std::uint32_t events) {
        epoll_event ev{};
        ev.events = events;
        ev.data.fd = fd;
        epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
    }
    void rewatch(int fd, std::uint32_t events) {
        epoll_event ev{};
        ev.events = events;
        ev.data.fd = fd;
        epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &ev);
    }

    // ---- workers ----
    void work() {
        for (;;) {
            Job job;
            {
                std::unique_lock<std::mutex> lock(jobs_mutex);
                jobs_ready.wait(lock, [this] { return workers_stop || !jobs.empty(); });
                if (workers_stop) return;
                job = std::move(jobs.front());
                jobs.pop_front();
            }
            Answer answer = job.engine->service->decide(job.request);  // never throws
            {
                std::lock_guard<std::mutex> lock(results_mutex);
                results.push_back(Result{job.conn_id, job.seq, std::move(answer)});
            }
            const std::uint64_t one = 1;
            [[maybe_unused]] ssize_t n = write(wake_fd, &one, sizeof one);
        }
    }

    // ---- connections ----
    void accept_all(int lfd, bool stats_client) {
        for (;;) {
            const int fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) return;  // EAGAIN or a transient error: the loop comes back
            if (!stats_client && stats.connections_open >= engine->config.policy.max_connections) {
                ++stats.connections_refused;
                log("too many connections (policy.max_connections=" + std::to_string(engine->config.policy.max_connections) +
                    "): refusing one; Postfix applies its default action");
                close(fd);
                continue;
            }
            Connection& conn = by_fd[fd];
            conn.id = next_id++;
            conn.fd = fd;
            conn.stats_client = stats_client;
            fd_of[conn.id] = fd;
            watch(fd, EPOLLIN);
            if (!stats_client) {
                ++stats.connections_accepted;
                ++stats.connections_open;
            }
        }
    }

    void close_connection(int fd) {
        auto it = by_fd.find(fd);
        if (it == by_fd.end()) return;
        if (!it->second.stats_client) --stats.connections_open;
        fd_of.erase(it->second.id);
        epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
        close(fd);
        by_fd.erase(it);
    }

    void reply(Connection& conn, const Answer& answer, const PolicyRequest& request) {
        ++stats.requests;
        if (answer.verdict == Verdict::Allow) ++stats.allowed;
        else if (answer.verdict == Verdict::Reject) ++stats.rejected;
        else ++stats.deferred;
        // Decision lines are batched and written once per loop iteration (one write(2)).
        decision_log += log_line(engine->config.policy, request, answer);
        decision_log += '\n';
        conn.out += "action=" + answer.action + "\n\n";
        flush(conn);
    }

    void flush(Connection& conn) {
        while (!conn.out.empty()) {
            const ssize_t n = send(conn.fd, conn.out.data(), conn.out.size(), MSG_NOSIGNAL);
            if (n > 0) {
                conn.out.erase(0, static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            conn.out.clear();  // peer gone; the read side will see EOF
            break;
        }
        const bool want_writes = !conn.out.empty();
        if (want_writes != conn.watching_writes) {
            rewatch(conn.fd, want_writes ? (EPOLLIN | EPOLLOUT) : EPOLLIN);
            conn.watching_writes = want_writes;
        }
    }

    void flush_decision_log() {
        if (decision_log.empty()) return;
        decision_log.pop_back();  // the logger adds the final newline
        log(decision_log);
        decision_log.clear();
    }

    // Parses the next buffered request, if any, and hands it to a worker.
    // Returns false when the connection was closed.
    bool dispatch(Connection& conn) {
        while (!conn.pending) {
            const auto status = conn.parser.parse(conn.in);
            if (status == RequestParser::Status::NeedMore) return true;
            if (status == RequestParser::Status::Error) {
                ++stats.protocol_errors;
                log(engine->config.policy.instance_name + ": protocol error, closing connection: " + conn.parser.error());
                close_connection(conn.fd);
                return false;
            }
            PolicyRequest request = conn.parser.take();
            const std::string& type = request.get("request");
            if (!type.empty() && type != "smtpd_access_policy") {
                ++stats.protocol_errors;
                log(engine->config.policy.instance_name + ": protocol error, closing connection: unsupported request=" +
                    printable(type, 64));
                close_connection(conn.fd);
                return false;
            }
            // Fast path: everything cached -> answer here, no thread hand-off.
            if (auto answer = engine->service->decide_from_cache(request)) {
                reply(conn, *answer, request);
                continue;
            }
            std::unique_lock<std::mutex> lock(jobs_mutex);
            // Bounded queue: beyond a few requests per worker the answer would come too late anyway.
            if (jobs.size() >= static_cast<std::size_t>(n_workers) * 64) {
                lock.unlock();
                ++stats.overloaded;
                reply(conn, engine->service->defer("overloaded: every worker busy"), request);
                continue;
            }
            conn.pending = true;
            ++conn.seq;
            conn.deadline = Clock::now() + std::chrono::milliseconds(engine->config.policy.request_timeout_ms);
            conn.request = request;
            jobs.push_back(Job{conn.id, conn.seq, std::move(request), engine});
            lock.unlock();
            jobs_ready.notify_one();
        }
        return true;
    }

    void on_readable(Connection& conn) {
        char buf[16384];
        for (;;) {
            const ssize_t n = recv(conn.fd, buf, sizeof buf, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                close_connection(conn.fd);
                return;
            }
            if (n < 0) break;
            conn.in.append(buf, static_cast<std::size_t>(n));
            // A short read drained the socket: skip the recv that would only say EAGAIN
            // (epoll is level-triggered and reports anything that arrives later).
            if (static_cast<std::size_t>(n) < sizeof buf) break;
            if (conn.stats_client) break;
            // A client that keeps sending while its request is pending cannot grow us without bound.
            if (conn.in.size() > RequestParser::kMaxRequestBytes + RequestParser::kMaxLineBytes) {
                ++stats.protocol_errors;
                log(engine->config.policy.instance_name + ": protocol error, closing connection: too much unanswered input");
                close_connection(conn.fd);
                return;
            }
        }
        if (conn.stats_client) {
            // Answer any request (curl's GET, or a bare connect-and-read) with the metrics.
            const std::string body = stats.prometheus(engine->cache->stats());
            conn.out = "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n" + body;
            const int fd = conn.fd;
            // Blocking write of a few KiB to a fresh socket: fits the socket buffer.
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
            timeval tv{1, 0};
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
            [[maybe_unused]] ssize_t n = send(fd, conn.out.data(), conn.out.size(), MSG_NOSIGNAL);
            close_connection(fd);
            return;
        }
        dispatch(conn);
    }

    void collect_results() {
        std::uint64_t ignored;
        [[maybe_unused]] ssize_t n = read(wake_fd, &ignored, sizeof ignored);
        std::vector<Result> done;
        {
            std::lock_guard<std::mutex> lock(results_mutex);
            done.swap(results);
        }
        for (auto& r : done) {
            const auto it = fd_of.find(r.conn_id);
            if (it == fd_of.end()) continue;  // connection closed meanwhile
            Connection& conn = by_fd[it->second];
            if (!conn.pending || conn.seq != r.seq) continue;  // already answered (timeout)
            conn.pending = false;
            reply(conn, r.answer, conn.request);
            dispatch(conn);
        }
    }

    void expire_deadlines() {
        const auto now = Clock::now();
        std::vector<int> expired;
        for (auto& [fd, conn] : by_fd)
            if (conn.pending && conn.deadline <= now) expired.push_back(fd);
        for (int fd : expired) {
            auto it = by_fd.find(fd);
            if (it == by_fd.end()) continue;
            Connection& conn = it->second;
            conn.pending = false;  // the worker's late result will not match conn.pending
            ++stats.timeouts;
            reply(conn,
                  engine->service->defer("no decision within " + std::to_string(engine->config.policy.request_timeout_ms) +
                                         " ms (policy.request_timeout_ms)"),
                  conn.request);
            dispatch(conn);
        }
    }

    int next_timeout_ms() const {
        int timeout = 1000;
        const auto now = Clock::now();
        for (const auto& [fd, conn] : by_fd) {
            if (!conn.pending) continue;
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(conn.deadline - now).count();
            timeout = std::max(0, std::min<int>(timeout, static_cast<int>(left) + 1));
        }
        return timeout;
    }

    void reload() {
        try {
            Config config = load_config(config_path);
            read_bind_password(config, &engine->config, log);
            if (config.policy.listen != engine->config.policy.listen ||
                config.policy.stats_listen != engine->config.policy.stats_listen ||
                config.policy.workers != engine->config.policy.workers ||
                config.policy.io_threads != engine->config.policy.io_threads)
                log("reload: policy.listen, stats_listen, workers and io_threads change only on restart");
            engine = Engine::build(config, stats);
            std::atomic_store(&shared.engine, engine);  // every loop picks it up on its next wake-up
            ++stats.reloads;
            log("reloaded " + config_path + " (cache emptied)");
        } catch (const std::exception& e) {
            ++stats.reload_failures;
            log("reload failed, keeping the running configuration: " + std::string(e.what()));
        }
    }

    void handle_signals() {
        char sigs[16];
        const ssize_t n = read(signal_pipe[0], sigs, sizeof sigs);
        for (ssize_t i = 0; i < n; ++i) {
            if (sigs[i] == SIGHUP) reload();
            else if (sigs[i] == SIGUSR1) log(stats.summary(engine->cache->stats()));
            else if (sigs[i] == SIGTERM || sigs[i] == SIGINT) begin_stop();
        }
    }

    // Loop 0, on SIGTERM/SIGINT: tells every loop to stop.
    void begin_stop() {
        if (shared.stopping.exchange(true)) return;
        log("stopping: no new connections; answering requests in flight");
        const std::uint64_t one = 1;
        for (int fd : shared.wake_fds) [[maybe_unused]] ssize_t n = write(fd, &one, sizeof one);
    }

    void stop_accepting() {
        stopping = true;
        epoll_ctl(epoll_fd, EPOLL_CTL_DEL, listen_fd, nullptr);
        if (stats_fd >= 0) epoll_ctl(epoll_fd, EPOLL_CTL_DEL, stats_fd, nullptr);
    }

    bool anything_pending() const {
        for (const auto& [fd, conn] : by_fd)
            if (conn.pending || !conn.out.empty()) return true;
        return false;
    }

    int run() {
        std::vector<epoll_event> events(256);
        for (;;) {
            engine = std::atomic_load(&shared.engine);
            if (shared.stopping && !stopping) stop_accepting();
            if (stopping && !anything_pending()) {
                flush_decision_log();
                return 0;
            }
            const int n = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), next_timeout_ms());
            if (n < 0 && errno != EINTR) {
                log(std::string("epoll_wait: ") + std::strerror(errno));
                return 1;
            }
            for (int i = 0; i < n; ++i) {
                const int fd = events[i].data.fd;
                if (fd == listen_fd) accept_all(fd, false);
                else if (fd == stats_fd) accept_all(fd, true);
                else if (fd == wake_fd) collect_results();
                else if (fd == signal_pipe[0]) handle_signals();
                else {
                    auto it = by_fd.find(fd);
                    if (it == by_fd.end()) continue;
                    if (events[i].events & EPOLLOUT) flush(it->second);
                    if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                        it = by_fd.find(fd);
                        if (it != by_fd.end()) on_readable(it->second);
                    }
                }
            }
            expire_deadlines();
            flush_decision_log();
        }
    }
};

Server::Server(std::shared_ptr<Engine> engine, std::string config_path, int listen_fd, int stats_fd, Logger log,
               Stats& stats)
    : shared_(std::make_unique<Shared>()), listen_fd_(listen_fd), stats_fd_(stats_fd) {
    const int loops = engine->config.policy.io_threads;
    const int workers = engine->config.policy.workers;
    shared_->engine = std::move(engine);
    for (int i = 0; i < loops; ++i) {
        // Workers are split between the loops; each loop has at least one.
        const int here = std::max(1, workers / loops + (i < workers % loops ? 1 : 0));
        loops_.push_back(std::make_unique<Impl>(*shared_, i, here, config_path, listen_fd, i == 0 ? stats_fd : -1, log, stats));
        shared_->wake_fds.push_back(loops_.back()->wake_fd);
    }
}

Server::~Server() {
    loops_.clear();
    close(listen_fd_);
    if (stats_fd_ >= 0) close(stats_fd_);
}

void Server::install_signal_handlers() {
    if (signal_pipe[0] < 0) {
        if (pipe2(signal_pipe, O_NONBLOCK | O_CLOEXEC) != 0) throw sys_error("pipe");
    }
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int s : {SIGHUP, SIGTERM, SIGINT, SIGUSR1}) sigaction(s, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);  // libldap writes without MSG_NOSIGNAL
}

int Server::run() {
    std::vector<std::thread> others;
    std::vector<int> codes(loops_.size(), 0);
    for (std::size_t i = 1; i < loops_.size(); ++i) others.emplace_back([this, i, &codes] { codes[i] = loops_[i]->run(); });
    codes[0] = loops_[0]->run();
    for (auto& t : others) t.join();
    for (int c : codes)
        if (c != 0) return c;
    return 0;
}

void Server::request_stop() { on_signal(SIGTERM); }

std::shared_ptr<Engine> Server::engine() const { return std::atomic_load(&shared_->engine); }

}  // namespace mailgrant::policy
