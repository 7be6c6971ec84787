// service_client.cpp -- see service_client.h. Plain blocking-free socket code: a
// non-blocking unix socket, poll() against one deadline for connect, write and read.
#include "mailgrant/service_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace mailgrant {

namespace {

// Closes the socket however the exchange ends.
class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

std::runtime_error failure(const std::string& what) { return std::runtime_error(what + ": " + std::strerror(errno)); }

// wait_ready (service_protocol.h) for this side: false = the deadline passed; a failed
// poll throws with its reason.
bool wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline) {
    const int ready = wait_ready(fd, events, deadline);
    if (ready < 0) throw failure("poll");
    return ready > 0;
}

}  // namespace

ServiceClient::ServiceClient(const ServiceConfig& config)
    : path_(config.listen.rfind("unix:", 0) == 0 ? config.listen.substr(5) : config.listen),
      timeout_(config.timeout_ms),
      memo_for_(config.memo_ms) {}

ServiceReply ServiceClient::ask(const ServiceRequest& request) {
    ServiceReply reply;
    std::string line;
    try {
        line = format_request(request);
    } catch (const ProtocolError& e) {
        reply.status = ServiceReply::Status::BadInput;
        reply.message = std::string("bad input: ") + e.what();
        return reply;
    }
    // Not logins (a password), not namespaces: the plugin keeps those itself
    // (NamespaceMemo) from when they were fetched; a copy from here would be older than
    // it looks there and outlive memo_ms.
    const bool memoize =
        request.verb != ServiceVerb::Login && request.verb != ServiceVerb::Namespace && memo_for_.count() > 0;
    const auto now = Steady::now();
    if (memoize) {
        const auto it = memo_.find(line);
        if (it != memo_.end() && now - it->second.at < memo_for_) return it->second.reply;
    }
    try {
        reply = exchange(line);
    } catch (const std::exception& e) {
        reply = ServiceReply{};
        reply.status = ServiceReply::Status::Temporary;
        reply.message = "mailgrant service unix:" + path_ + ": " + e.what();
        return reply;
    }
    if (memoize && reply.status == ServiceReply::Status::Ok) {
        if (memo_.size() >= kMaxMemoEntries) memo_.clear();
        memo_[line] = Memo{now, reply};
    }
    return reply;
}

ServiceReply ServiceClient::exchange(const std::string& line) {
    const auto deadline = Steady::now() + timeout_;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path_.size() >= sizeof(addr.sun_path)) throw std::runtime_error("socket path too long");
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (fd.get() < 0) throw failure("socket");
    ++sent_;
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        // A full backlog (EAGAIN) means the service is overloaded: no waiting for it.
        if (errno != EINPROGRESS) throw failure("connect");
        if (!wait_for(fd.get(), POLLOUT, deadline)) throw std::runtime_error("connect: timed out");
    }
    for (std::size_t done = 0; done < line.size();) {
        if (!wait_for(fd.get(), POLLOUT, deadline)) throw std::runtime_error("write: timed out");
        const ssize_t n = ::send(fd.get(), line.data() + done, line.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR) throw failure("write");
        if (n > 0) done += static_cast<std::size_t>(n);
    }
    ReplyReader reader;
    std::string buffer;
    std::size_t start = 0;  // where the unread lines begin (no erase per line)
    char chunk[16384];
    while (true) {
        const auto lf = buffer.find('\n', start);
        if (lf != std::string::npos) {
            const bool last = reader.add_line(buffer.substr(start, lf - start));
            start = lf + 1;
            if (last) return reader.take();
            continue;
        }
        buffer.erase(0, start);
        start = 0;
        if (buffer.size() >= service_limits::kMaxReplyLineBytes) throw ProtocolError("answer line longer than 16 KiB");
        if (!wait_for(fd.get(), POLLIN, deadline)) throw std::runtime_error("no answer within service.timeout_ms");
        const ssize_t n = ::recv(fd.get(), chunk, sizeof chunk, 0);
        if (n == 0) throw std::runtime_error("connection closed before the answer ended");
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) continue;
            throw failure("read");
        }
        buffer.append(chunk, static_cast<std::size_t>(n));
    }
}

}  // namespace mailgrant
