// policyd_bench -- throughput and latency of a policy server, as a ratio against a trivial
// policy server run in the same process (answers DUNNO without looking at anything: the
// floor of the protocol on this machine). Absolute numbers are printed but mean little on
// shared machines; the ratio is the claim.
//
// usage: policyd_bench --target inet:127.0.0.1:PORT [--seconds S] [--connections 1,8,64]
//                      [--label warm] [--no-baseline]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// Requests a submission server would send: delegated, own, rejected.
const char* const kRequests[] = {
    "request=smtpd_access_policy\nprotocol_state=RCPT\nsasl_username=bob@example.com\nsender=support@example.com\n"
    "client_address=127.0.0.1\nrecipient=x@example.org\n\n",
    "request=smtpd_access_policy\nprotocol_state=RCPT\nsasl_username=alice@example.com\nsender=a.smith@example.com\n"
    "client_address=127.0.0.1\nrecipient=x@example.org\n\n",
    "request=smtpd_access_policy\nprotocol_state=RCPT\nsasl_username=eve@example.com\nsender=support@example.com\n"
    "client_address=127.0.0.1\nrecipient=x@example.org\n\n",
    "request=smtpd_access_policy\nprotocol_state=RCPT\nsasl_username=dave@example.com\nsender=carol@example.com\n"
    "client_address=127.0.0.1\nrecipient=x@example.org\n\n",
};

int connect_to(int port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

// Reads until the blank line that ends a reply (or request). Returns false on EOF/error.
bool read_until_blank_line(int fd, std::string& buf) {
    char chunk[4096];
    while (buf.find("\n\n") == std::string::npos) {
        const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) return false;
        buf.append(chunk, static_cast<std::size_t>(n));
    }
    buf.erase(0, buf.find("\n\n") + 2);
    return true;
}

// The baseline: thread per connection, answers every request with DUNNO.
class TrivialServer {
public:
    TrivialServer() {
        listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
        const int one = 1;
        setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        socklen_t len = sizeof addr;
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        listen(listen_fd_, 512);
        acceptor_ = std::thread([this] {
            for (;;) {
                const int fd = accept(listen_fd_, nullptr, nullptr);
                if (fd < 0) return;
                const int one = 1;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                std::thread([fd] {
                    std::string buf;
                    static const char reply[] = "action=DUNNO\n\n";
                    while (read_until_blank_line(fd, buf))
                        if (send(fd, reply, sizeof reply - 1, MSG_NOSIGNAL) < 0) break;
                    close(fd);
                }).detach();
            }
        });
    }
    ~TrivialServer() {
        shutdown(listen_fd_, SHUT_RDWR);
        close(listen_fd_);
        acceptor_.join();
    }
    int port() const { return port_; }

private:
    int listen_fd_ = -1;
    int port_ = 0;
    std::thread acceptor_;
};

struct Result {
    double per_second = 0;
    double p50_ms = 0, p99_ms = 0;
    long errors = 0;
};

Result load(int port, int connections, double seconds) {
    std::atomic<bool> go{false}, stop{false};
    std::atomic<long> errors{0};
    std::vector<std::vector<double>> latencies(static_cast<std::size_t>(connections));
    std::vector<std::thread> threads;
    for (int c = 0; c < connections; ++c) {
        threads.emplace_back([&, c] {
            const int fd = connect_to(port);
            if (fd < 0) {
                ++errors;
                return;
            }
            std::string buf;
            auto& mine = latencies[static_cast<std::size_t>(c)];
            while (!go) std::this_thread::yield();
            for (std::size_t i = static_cast<std::size_t>(c); !stop; ++i) {
                const char* request = kRequests[i % (sizeof kRequests / sizeof *kRequests)];
                const auto start = Clock::now();
                if (send(fd, request, std::strlen(request), MSG_NOSIGNAL) < 0 || !read_until_blank_line(fd, buf)) {
                    ++errors;
                    break;
                }
                mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
            }
            close(fd);
        });
    }
    const auto start = Clock::now();
    go = true;
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& t : threads) t.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    std::vector<double> all;
    for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
    std::sort(all.begin(), all.end());
    Result r;
    r.per_second = static_cast<double>(all.size()) / elapsed;
    if (!all.empty()) {
        r.p50_ms = all[all.size() / 2];
        r.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
    }
    r.errors = errors;
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    int target_port = 0;
    double seconds = 3;
    std::string label = "policyd";
    std::vector<int> counts{1, 8, 64};
    bool baseline = true;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--target" && i + 1 < argc) {
            const std::string t = argv[++i];
            target_port = std::stoi(t.substr(t.rfind(':') + 1));
        } else if (a == "--seconds" && i + 1 < argc) {
            seconds = std::stod(argv[++i]);
        } else if (a == "--label" && i + 1 < argc) {
            label = argv[++i];
        } else if (a == "--no-baseline") {
            baseline = false;
        } else if (a == "--connections" && i + 1 < argc) {
            counts.clear();
            std::stringstream ss(argv[++i]);
            for (std::string n; std::getline(ss, n, ',');) counts.push_back(std::stoi(n));
        } else {
            std::fprintf(stderr, "usage: policyd_bench --target inet:127.0.0.1:PORT [--seconds S] [--connections 1,8,64] [--label L] [--no-baseline]\n");
            return 2;
        }
    }
    if (!target_port) {
        std::fprintf(stderr, "policyd_bench: --target is required\n");
        return 2;
    }
    TrivialServer trivial;
    std::printf("%-8s %5s %12s %9s %9s %12s %7s %7s\n", "case", "conns", "req/s", "p50 ms", "p99 ms", "trivial r/s", "ratio", "errors");
    int failures = 0;
    for (int n : counts) {
        Result base;
        if (baseline) base = load(trivial.port(), n, seconds);
        const Result r = load(target_port, n, seconds);
        failures += r.errors > 0;
        std::printf("%-8s %5d %12.0f %9.3f %9.3f %12.0f %7.2f %7ld\n", label.c_str(), n, r.per_second, r.p50_ms, r.p99_ms,
                    base.per_second, baseline && base.per_second > 0 ? r.per_second / base.per_second : 0.0, r.errors);
        std::fflush(stdout);
    }
    return failures ? 1 : 0;
}
