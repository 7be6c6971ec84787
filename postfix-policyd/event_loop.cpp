// event_loop.cpp -- see event_loop.h.
#include "event_loop.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "limits.h"
#include "listener.h"
#include "mailgrant/input.h"
#include "signals.h"
#include "stats_endpoint.h"

namespace mailgrant::policy {

EventLoop::EventLoop(LoopShared& shared, int index, int workers, std::string config_path, int listen_fd,
                     int stats_fd, Logger log, Stats& stats)
    : shared_(shared), index_(index), engine_(std::atomic_load(&shared.engine)), config_path_(std::move(config_path)),
      listen_fd_(listen_fd), stats_fd_(stats_fd), log_(std::move(log)), stats_(stats) {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epoll_fd_ < 0 || wake_fd_ < 0) throw sys_error("epoll/eventfd");
    watch(listen_fd_, EPOLLIN | EPOLLEXCLUSIVE, EPOLL_CTL_ADD);  // one loop wakes per new connection
    if (stats_fd_ >= 0) watch(stats_fd_, EPOLLIN, EPOLL_CTL_ADD);
    watch(wake_fd_, EPOLLIN, EPOLL_CTL_ADD);
    if (index_ == 0 && signal_fd() >= 0) watch(signal_fd(), EPOLLIN, EPOLL_CTL_ADD);
    workers_ = std::make_unique<WorkerPool>(workers, wake_fd_);
}

EventLoop::~EventLoop() {
    workers_.reset();  // joined before the fd they write to is closed
    for (auto& [fd, conn] : by_fd_) close(fd);
    close(wake_fd_);
    close(epoll_fd_);
}

void EventLoop::watch(int fd, std::uint32_t events, int op) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_, op, fd, &ev);
}

void EventLoop::accept_all(int lfd, bool stats_client) {
    for (;;) {
        const int fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;  // EAGAIN or a transient error: the loop comes back
        const int max = engine_->config.policy.max_connections;
        if (!stats_client && stats_.connections_open >= max) {
            ++stats_.connections_refused;
            log_("too many connections (policy.max_connections=" + std::to_string(max) +
                 "): refusing one; Postfix applies its default action");
            close(fd);
            continue;
        }
        Connection& conn = by_fd_[fd];
        conn.id = next_id_++;
        conn.fd = fd;
        conn.stats_client = stats_client;
        fd_of_[conn.id] = fd;
        watch(fd, EPOLLIN, EPOLL_CTL_ADD);
        if (!stats_client) {
            ++stats_.connections_accepted;
            ++stats_.connections_open;
        }
    }
}

void EventLoop::close_connection(int fd) {
    auto it = by_fd_.find(fd);
    if (it == by_fd_.end()) return;
    if (!it->second.stats_client) --stats_.connections_open;
    fd_of_.erase(it->second.id);
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
    by_fd_.erase(it);
}

void EventLoop::protocol_error(Connection& conn, const std::string& why) {
    ++stats_.protocol_errors;
    log_(engine_->config.policy.instance_name + ": protocol error, closing connection: " + why);
    close_connection(conn.fd);
}

void EventLoop::reply(Connection& conn, const Answer& answer, const PolicyRequest& request) {
    ++stats_.requests;
    if (answer.verdict == Verdict::Allow) ++stats_.allowed;
    else if (answer.verdict == Verdict::Reject) ++stats_.rejected;
    else ++stats_.deferred;
    // Decision lines are batched and written once per loop iteration (one write(2)).
    decision_log_ += log_line(engine_->config.policy, request, answer);
    decision_log_ += '\n';
    conn.out += "action=" + answer.action + "\n\n";
    flush(conn);
}

void EventLoop::flush(Connection& conn) {
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
        watch(conn.fd, want_writes ? (EPOLLIN | EPOLLOUT) : EPOLLIN, EPOLL_CTL_MOD);
        conn.watching_writes = want_writes;
    }
}

void EventLoop::flush_decision_log() {
    if (decision_log_.empty()) return;
    decision_log_.pop_back();  // the logger adds the final newline
    log_(decision_log_);
    decision_log_.clear();
}

// Parses the next buffered request, if any, and answers it or hands it to a worker.
// Returns false when the connection was closed.
bool EventLoop::dispatch(Connection& conn) {
    while (!conn.pending) {
        const auto status = conn.parser.parse(conn.in);
        if (status == RequestParser::Status::NeedMore) return true;
        if (status == RequestParser::Status::Error) {
            protocol_error(conn, conn.parser.error());
            return false;
        }
        PolicyRequest request = conn.parser.take();
        const std::string& type = request.get("request");
        if (!type.empty() && type != "smtpd_access_policy") {
            protocol_error(conn, "unsupported request=" + printable(type, 64));
            return false;
        }
        // Fast path: a remembered answer, or one that needs no directory -> answer here.
        if (auto answer = engine_->service->decide_from_cache(request)) {
            reply(conn, *answer, request);
            continue;
        }
        // Otherwise nothing has been decided yet: a worker decides, once.
        conn.request = request;
        if (!workers_->submit(WorkerPool::Job{conn.id, conn.seq + 1, std::move(request), engine_})) {
            ++stats_.overloaded;
            reply(conn, engine_->service->defer("overloaded: every worker busy"), conn.request);
            continue;
        }
        conn.pending = true;
        ++conn.seq;
        conn.deadline = SteadyClock::now() + std::chrono::milliseconds(engine_->config.policy.request_timeout_ms);
    }
    return true;
}

void EventLoop::on_readable(Connection& conn) {
    char buf[limits::kReadChunkBytes];
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
            protocol_error(conn, "too much unanswered input");
            return;
        }
    }
    if (conn.stats_client) {
        answer_stats(conn.fd, stats_, engine_->cache->stats());
        close_connection(conn.fd);
        return;
    }
    dispatch(conn);
}

void EventLoop::collect_results() {
    std::uint64_t ignored;
    [[maybe_unused]] ssize_t n = read(wake_fd_, &ignored, sizeof ignored);
    for (auto& r : workers_->take_results()) {
        const auto it = fd_of_.find(r.conn_id);
        if (it == fd_of_.end()) continue;  // connection closed meanwhile
        Connection& conn = by_fd_[it->second];
        if (!conn.pending || conn.seq != r.seq) continue;  // already answered (timeout)
        conn.pending = false;
        reply(conn, r.answer, conn.request);
        dispatch(conn);
    }
}

void EventLoop::expire_deadlines() {
    const auto now = SteadyClock::now();
    std::vector<int> expired;
    for (auto& [fd, conn] : by_fd_)
        if (conn.pending && conn.deadline <= now) expired.push_back(fd);
    for (int fd : expired) {
        auto it = by_fd_.find(fd);
        if (it == by_fd_.end()) continue;
        Connection& conn = it->second;
        conn.pending = false;  // the worker's late result will not match conn.pending
        ++stats_.timeouts;
        reply(conn,
              engine_->service->defer("no decision within " + std::to_string(engine_->config.policy.request_timeout_ms) +
                                      " ms (policy.request_timeout_ms)"),
              conn.request);
        dispatch(conn);
    }
}

int EventLoop::next_timeout_ms() const {
    int timeout = limits::kIdleWakeMs;
    const auto now = SteadyClock::now();
    for (const auto& [fd, conn] : by_fd_) {
        if (!conn.pending) continue;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(conn.deadline - now).count();
        timeout = std::max(0, std::min<int>(timeout, static_cast<int>(left) + 1));
    }
    return timeout;
}

void EventLoop::reload() {
    try {
        Config config = load_config(config_path_);
        const Config& running = engine_->config;
        read_bind_password(config, &running, log_);
        if (config.policy.listen != running.policy.listen || config.policy.stats_listen != running.policy.stats_listen ||
            config.policy.workers != running.policy.workers || config.policy.io_threads != running.policy.io_threads)
            log_("reload: policy.listen, stats_listen, workers and io_threads change only on restart");
        engine_ = Engine::build(config, stats_);
        std::atomic_store(&shared_.engine, engine_);  // every loop picks it up on its next wake-up
        ++stats_.reloads;
        log_("reloaded " + config_path_ + " (cache emptied)");
    } catch (const std::exception& e) {
        ++stats_.reload_failures;
        log_("reload failed, keeping the running configuration: " + std::string(e.what()));
    }
}

void EventLoop::handle_signals() {
    char sigs[limits::kSignalsPerRead];
    const ssize_t n = read(signal_fd(), sigs, sizeof sigs);
    for (ssize_t i = 0; i < n; ++i) {
        if (sigs[i] == SIGHUP) reload();
        else if (sigs[i] == SIGUSR1) log_(stats_.summary(engine_->cache->stats()));
        else if (sigs[i] == SIGTERM || sigs[i] == SIGINT) begin_stop();
    }
}

// Loop 0, on SIGTERM/SIGINT: tells every loop to stop.
void EventLoop::begin_stop() {
    if (shared_.stopping.exchange(true)) return;
    log_("stopping: no new connections; answering requests in flight");
    const std::uint64_t one = 1;
    for (int fd : shared_.wake_fds) [[maybe_unused]] ssize_t n = write(fd, &one, sizeof one);
}

void EventLoop::stop_accepting() {
    stopping_ = true;
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
    if (stats_fd_ >= 0) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, stats_fd_, nullptr);
}

bool EventLoop::anything_pending() const {
    for (const auto& [fd, conn] : by_fd_)
        if (conn.pending || !conn.out.empty()) return true;
    return false;
}

int EventLoop::run() {
    std::vector<epoll_event> events(limits::kEventsPerWait);
    for (;;) {
        engine_ = std::atomic_load(&shared_.engine);
        if (shared_.stopping && !stopping_) stop_accepting();
        if (stopping_ && !anything_pending()) {
            flush_decision_log();
            return 0;
        }
        const int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), next_timeout_ms());
        if (n < 0 && errno != EINTR) {
            log_(std::string("epoll_wait: ") + std::strerror(errno));
            return 1;
        }
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            if (fd == listen_fd_) accept_all(fd, false);
            else if (fd == stats_fd_) accept_all(fd, true);
            else if (fd == wake_fd_) collect_results();
            else if (fd == signal_fd()) handle_signals();
            else {
                auto it = by_fd_.find(fd);
                if (it == by_fd_.end()) continue;
                if (events[i].events & EPOLLOUT) flush(it->second);
                if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                    it = by_fd_.find(fd);
                    if (it != by_fd_.end()) on_readable(it->second);
                }
            }
        }
        expire_deadlines();
        flush_decision_log();
    }
}

}  // namespace mailgrant::policy
