// event_loop.h -- one I/O thread of the policy daemon: an epoll loop that accepts smtpd
// (and stats) connections, parses requests (request_parser.h), answers what its fast
// path can (PolicyService::decide_from_cache), hands the rest to its WorkerPool, writes
// exactly one reply per request and enforces policy.request_timeout_ms. Loop 0 also
// handles signals: reload (SIGHUP), counters (SIGUSR1), stop (SIGTERM/SIGINT).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine.h"
#include "request_parser.h"
#include "stats.h"
#include "worker_pool.h"

namespace mailgrant::policy {

// What the loops share: the current engine (swapped on reload) and the stop flag.
struct LoopShared {
    std::shared_ptr<Engine> engine;  // read and written with std::atomic_load/store
    std::atomic<bool> stopping{false};
    std::vector<int> wake_fds;       // one per loop, to wake them all on stop
};

class EventLoop {
public:
    EventLoop(LoopShared& shared, int index, int workers, std::string config_path, int listen_fd, int stats_fd,
              Logger log, Stats& stats);
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    int run();  // until stopped; the exit code
    int wake_fd() const { return wake_fd_; }

private:
    using SteadyClock = std::chrono::steady_clock;
    struct Connection {
        std::uint64_t id = 0;
        int fd = -1;
        bool stats_client = false;
        std::string in, out;
        RequestParser parser;
        bool pending = false;
        bool watching_writes = false;  // EPOLLOUT in the interest set (changed only when needed)
        std::uint64_t seq = 0;
        SteadyClock::time_point deadline;
        PolicyRequest request;  // the pending one, for the timeout log line
    };

    void watch(int fd, std::uint32_t events, int op);
    void accept_all(int listen_fd, bool stats_client);
    void close_connection(int fd);
    void protocol_error(Connection& conn, const std::string& why);
    void reply(Connection& conn, const Answer& answer, const PolicyRequest& request);
    void flush(Connection& conn);
    void flush_decision_log();
    bool dispatch(Connection& conn);
    void on_readable(Connection& conn);
    void collect_results();
    void expire_deadlines();
    int next_timeout_ms() const;
    void reload();
    void handle_signals();
    void begin_stop();
    void stop_accepting();
    bool anything_pending() const;

    LoopShared& shared_;
    const int index_;                 // loop 0 also serves stats, signals and reloads
    std::shared_ptr<Engine> engine_;  // this loop's copy, refreshed every iteration
    const std::string config_path_;
    const int listen_fd_, stats_fd_;
    const Logger log_;
    Stats& stats_;
    int epoll_fd_ = -1, wake_fd_ = -1;
    std::map<int, Connection> by_fd_;
    std::map<std::uint64_t, int> fd_of_;
    std::uint64_t next_id_ = 1;
    bool stopping_ = false;
    std::string decision_log_;  // lines not yet handed to the logger
    std::unique_ptr<WorkerPool> workers_;
};

}  // namespace mailgrant::policy
