// decision_service.cpp -- see decision_service.h.
#include "decision_service.h"

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "listener.h"
#include "mailgrant/service_protocol.h"

namespace mailgrant::policy {

DecisionService::DecisionService(int listen_fd, int workers, std::function<std::shared_ptr<Engine>()> engine,
                                 Logger log, Stats& stats)
    : listen_fd_(listen_fd), workers_(workers), engine_(std::move(engine)), log_(std::move(log)), stats_(stats) {
    stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (stop_fd_ < 0) throw sys_error("eventfd");
}

DecisionService::~DecisionService() {
    stop();
    if (stop_fd_ >= 0) ::close(stop_fd_);
}

DecisionService::Waiter::Waiter(int listen_fd, int stop_fd) : fd(::epoll_create1(EPOLL_CLOEXEC)) {
    if (fd < 0) throw sys_error("epoll_create1");
    epoll_event stop{};
    stop.events = EPOLLIN;  // every thread sees it
    stop.data.fd = stop_fd;
    epoll_event listen{};
    listen.events = EPOLLIN | EPOLLEXCLUSIVE;  // one waiting thread per new connection
    listen.data.fd = listen_fd;
    if (::epoll_ctl(fd, EPOLL_CTL_ADD, stop_fd, &stop) != 0 || ::epoll_ctl(fd, EPOLL_CTL_ADD, listen_fd, &listen) != 0) {
        const auto error = sys_error("epoll_ctl");
        ::close(fd);
        throw error;
    }
}

DecisionService::Waiter::~Waiter() { ::close(fd); }

void DecisionService::start() {
    // Made here, so a failure is the caller's exception, not a thread's.
    std::vector<std::unique_ptr<Waiter>> waiters;
    for (int i = 0; i < workers_; ++i) waiters.push_back(std::make_unique<Waiter>(listen_fd_, stop_fd_));
    // The daemon's signals are for its loop 0 (signals.h): these threads never take them.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (auto& waiter : waiters) threads_.emplace_back([this, w = std::move(waiter)] { run(w->fd); });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void DecisionService::stop() {
    if (threads_.empty()) return;
    const std::uint64_t one = 1;
    if (::write(stop_fd_, &one, sizeof one) < 0) {
        // An eventfd write fails only on overflow; the threads still see it readable.
    }
    for (auto& t : threads_) t.join();
    threads_.clear();
}

void DecisionService::run(int waiter) {
    while (true) {
        epoll_event events[2];
        const int n = ::epoll_wait(waiter, events, 2, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;
        }
        for (int i = 0; i < n; ++i)
            if (events[i].data.fd == stop_fd_) return;
        // EPOLLEXCLUSIVE wakes one thread per connection (with poll() every thread woke
        // and all but one found nothing: a context switch each). The kernel may still wake
        // two for one, or one may find the connection taken: EAGAIN, counted, wait again.
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) ++stats_.service_idle_wakeups;
            // Out of file descriptors (or memory): the connection stays queued and
            // epoll_wait would return at once again; pause instead of spinning.
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                ::poll(nullptr, 0, 50);
            continue;
        }
        // The peer's pid (0 when the kernel cannot say: such connections share one slot).
        ucred cred{};
        socklen_t len = sizeof cred;
        const pid_t peer = ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 ? cred.pid : 0;
        if (!admit(peer)) {
            refuse(fd, peer);
            ::close(fd);
            continue;
        }
        serve(fd, peer);  // releases the slot
        ::close(fd);
    }
}

bool DecisionService::log_due(std::atomic<std::int64_t>& last_log) {
    // One thread wins the exchange when several see the same due moment.
    const std::int64_t now = std::time(nullptr);
    std::int64_t last = last_log.load();
    return now - last >= kLogEverySeconds && last_log.compare_exchange_strong(last, now);
}

bool DecisionService::admit(pid_t peer) {
    std::lock_guard<std::mutex> lock(peers_mutex_);
    int& held = in_service_[peer];
    if (held >= kConnectionsPerProcess) return false;
    ++held;
    return true;
}

void DecisionService::release(pid_t peer) {
    std::lock_guard<std::mutex> lock(peers_mutex_);
    const auto it = in_service_.find(peer);
    if (it != in_service_.end() && --it->second <= 0) in_service_.erase(it);
}

int DecisionService::in_service_for_testing(pid_t peer) {
    std::lock_guard<std::mutex> lock(peers_mutex_);
    const auto it = in_service_.find(peer);
    return it == in_service_.end() ? 0 : it->second;
}

void DecisionService::refuse(int fd, pid_t peer) {
    ++stats_.service_busy;
    ServiceReply busy;
    busy.status = ServiceReply::Status::Temporary;
    busy.message = "busy: this process already has questions in progress";
    // A short line into an empty socket buffer: it never blocks (MSG_DONTWAIT), and a
    // client that is gone just misses it.
    const std::string text = format_reply(busy);
    (void)::send(fd, text.data(), text.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (log_due(last_busy_log_))
        log_("service: refused a connection of pid " + std::to_string(peer) + ": it already has " +
             std::to_string(kConnectionsPerProcess) + " in service (a mail process asks one question at a time)");
}

void DecisionService::serve(int fd, pid_t peer) {
    // The peer's slot (admit) is held while its question is read and answered, and given
    // back before each write of the answer: the client cannot have the answer before that,
    // so a process that asks again at once never finds its earlier, finished questions
    // still counted. (Released after close(), a thread preempted there -- a loaded host --
    // had the next question refused "busy": shared access denied for nothing.) A client
    // that does not read takes the slot back for as long as the write waits on it, so
    // it still cannot hold more than kConnectionsPerProcess threads that way.
    struct Slot {
        DecisionService& service;
        const pid_t peer;
        bool held = true;
        void give_back() {
            if (held) service.release(peer);
            held = false;
        }
        bool take_back() { return held = service.admit(peer); }
        ~Slot() { give_back(); }
    } slot{*this, peer};

    // One deadline for the whole question (a real client writes it at once), so a client
    // that trickles bytes holds a thread for kQuestionTimeout at most, not per byte.
    const auto question_deadline = std::chrono::steady_clock::now() + kQuestionTimeout;
    std::string line;
    char buf[4096];
    while (line.find('\n') == std::string::npos && line.size() < service_limits::kMaxRequestBytes) {
        if (wait_ready(fd, POLLIN, question_deadline) <= 0) {
            ++stats_.service_protocol_errors;  // silent or trickling past the deadline
            return;
        }
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        if (n <= 0) {
            ++stats_.service_protocol_errors;  // closed before a whole question
            return;
        }
        line.append(buf, static_cast<std::size_t>(n));
    }
    const ServiceReply reply = answer(line);
    std::string text;
    try {
        text = format_reply(reply);
    } catch (const std::exception&) {
        text = "fail\tinternal error\n";
    }
    const auto answer_deadline = std::chrono::steady_clock::now() + kAnswerTimeout;
    for (std::size_t done = 0; done < text.size();) {
        slot.give_back();
        const ssize_t n = ::send(fd, text.data() + done, text.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return;  // the client went away
        // The socket is full: the client has not read all yet, so the connection counts
        // again while the thread waits on it. Over the limit, the answer is dropped (the
        // client sees a cut answer: no answer, shared access denied) and the thread is free.
        if (!slot.take_back()) {
            ++stats_.service_busy;
            if (log_due(last_busy_log_))
                log_("service: dropped an answer pid " + std::to_string(peer) + " did not read: it already has " +
                     std::to_string(kConnectionsPerProcess) + " connections in service");
            return;
        }
        if (wait_ready(fd, POLLOUT, answer_deadline) <= 0) return;  // the client stopped reading
    }
    if (answer_sent_for_testing_) answer_sent_for_testing_();
}

ServiceReply DecisionService::answer(const std::string& line) {
    ServiceReply reply;
    try {
        const auto lf = line.find('\n');
        if (lf == std::string::npos) throw ProtocolError("question longer than 8 KiB");
        const ServiceRequest request = parse_request(line.substr(0, lf));
        ++stats_.service_questions;
        const std::shared_ptr<Engine> engine = engine_();
        if (request.verb == ServiceVerb::Changed) {
            // A mail process wrote grants (SETACL): empty the caches as the change feed does.
            engine->forget_everything();
            ++stats_.service_changes;
            reply.status = ServiceReply::Status::Ok;
            return reply;
        }
        reply = engine->answers->answer(request);
    } catch (const ProtocolError& e) {
        ++stats_.service_protocol_errors;
        reply.status = ServiceReply::Status::BadInput;
        reply.message = std::string("bad question: ") + e.what();
    } catch (const std::exception& e) {
        reply.status = ServiceReply::Status::Failed;
        reply.message = std::string("internal error: ") + e.what();
    }
    if (reply.status == ServiceReply::Status::BadInput) ++stats_.service_bad;
    if (reply.status == ServiceReply::Status::Temporary || reply.status == ServiceReply::Status::Failed) {
        ++stats_.service_temporary;
        if (log_due(last_trouble_log_))
            log_("service: no answer (shared access denied): " + reply.message);
    }
    return reply;
}

}  // namespace mailgrant::policy
