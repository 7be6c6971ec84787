// decision_service.h -- the per-host decision service (DESIGN.md "One cache per host"):
// mailgrant-policyd answers the Dovecot plugin's and checkpassword's questions
// (service_protocol.h) on service.listen from the Engine in use -- the same cache and
// LDAP pool as the policy check and the milter, emptied by the change feed -- so LDAP
// connections per host are bounded by policy.workers whatever the number of IMAP
// sessions, and a change is obeyed by open sessions within a second.
//
// service.workers threads wait on the listening socket (each in its own epoll set, with
// EPOLLEXCLUSIVE: a connection wakes one thread, not all; before Linux 6.0 a burst could
// wake fewer threads than connections, which then wait for a thread to come back -- none
// is lost, as the socket stays readable); each takes one connection, reads
// one question (bounded by kMaxRequestBytes and one kQuestionTimeout for all of it),
// answers it with the core's Answers (answers.h) and closes. A malformed question is
// answered "bad" and counted; nothing a client sends stops the service or reaches other
// connections. The answers share policy.workers LDAP connections with the policy check
// and the milter (one pool per host): size policy.workers for both.
//
// One client process holds at most kConnectionsPerProcess of the threads at a time (its
// pid from SO_PEERCRED): every mail process asks one question at a time, so more from
// one pid is a runaway or hostile client, whose extra connections are answered "temp"
// at once instead of taking the threads every other process waits for. A connection
// counts while its question is read and answered, and while its answer waits for the
// client to read; not once the answer is written (serve), so a process asking again at
// once is never refused for its own finished questions.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine.h"
#include "mailgrant/service_protocol.h"
#include "stats.h"

namespace mailgrant::policy {

class DecisionService {
public:
    static constexpr std::chrono::milliseconds kQuestionTimeout{1000};  // reading the whole question
    static constexpr std::chrono::milliseconds kAnswerTimeout{5000};    // writing the whole answer
    // Connections one process may have in service at once: the second covers a question
    // its client already gave up on (service.timeout_ms) while the service still works on it.
    static constexpr int kConnectionsPerProcess = 2;
    // A repeated log line (no answer, refused connections) is written once per this many seconds.
    static constexpr std::int64_t kLogEverySeconds = 10;

    // `listen_fd` is a listening unix socket (listener.h); `engine` returns the Engine in use.
    DecisionService(int listen_fd, int workers, std::function<std::shared_ptr<Engine>()> engine, Logger log,
                    Stats& stats);
    ~DecisionService();  // stop()
    DecisionService(const DecisionService&) = delete;
    DecisionService& operator=(const DecisionService&) = delete;

    void start();
    void stop();  // wakes and joins every thread; questions in progress are answered first

    // Tests only, set before start(): called by a thread after it wrote a whole answer,
    // before it closes the connection (to widen that moment, which a loaded host may stretch).
    void on_answer_sent_for_testing(std::function<void()> hook) { answer_sent_for_testing_ = std::move(hook); }
    // Tests only: the connections of `peer` that count against its limit right now.
    int in_service_for_testing(pid_t peer);

private:
    // One thread's epoll set: the stop eventfd and, exclusively, the listening socket.
    struct Waiter {
        Waiter(int listen_fd, int stop_fd);  // throws sys_error
        ~Waiter();
        Waiter(const Waiter&) = delete;
        Waiter& operator=(const Waiter&) = delete;
        const int fd;
    };
    void run(int waiter);
    void serve(int fd, pid_t peer);  // gives back the slot admit() took for `peer`
    bool admit(pid_t peer);    // false: `peer` already has kConnectionsPerProcess in service
    // When serve() returns early, and before each write of the answer (re-taken while a
    // write waits for the client).
    void release(pid_t peer);
    void refuse(int fd, pid_t peer);
    static bool log_due(std::atomic<std::int64_t>& last_log);  // true at most once per kLogEverySeconds
    ServiceReply answer(const std::string& line);  // one question line (LF included) -> answer

    const int listen_fd_;
    const int workers_;
    std::function<std::shared_ptr<Engine>()> engine_;
    Logger log_;
    Stats& stats_;
    int stop_fd_ = -1;  // an eventfd: readable = stop
    std::vector<std::thread> threads_;
    std::atomic<std::int64_t> last_trouble_log_{0};  // one "temp" line per kLogEverySeconds, not one per question
    std::atomic<std::int64_t> last_busy_log_{0};     // likewise for refused connections
    std::mutex peers_mutex_;
    std::map<pid_t, int> in_service_;  // pid -> its connections being served (at most workers_ entries)
    std::function<void()> answer_sent_for_testing_;
};

}  // namespace mailgrant::policy
