// server_health.cpp -- the shared memory of failed LDAP servers (see server_health.h).
#include "mailgrant/server_health.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>

#include "mailgrant/warnings.h"

namespace mailgrant {
namespace {

// Timestamps have at most this many digits (year 33658): enough, and no overflow.
constexpr std::size_t kMaxSinceDigits = 12;

bool valid_uri(const std::string& uri) {
    if (uri.empty() || uri.size() > kServerStateMaxUriBytes) return false;
    for (const char c : uri)
        if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) return false;
    return true;
}

// "<digits> <uri>"; false for anything else.
bool parse_line(const std::string& line, ServerMark& mark) {
    const auto space = line.find(' ');
    if (space == 0 || space == std::string::npos || space > kMaxSinceDigits) return false;
    // Unsigned and bounded: 12 digits fit in 64 bits, and a value past time_t's range
    // (32-bit time_t on some architectures) is refused instead of overflowing.
    std::uint64_t since = 0;
    for (std::size_t i = 0; i < space; ++i) {
        if (line[i] < '0' || line[i] > '9') return false;
        since = since * 10 + static_cast<std::uint64_t>(line[i] - '0');
    }
    if (since > static_cast<std::uint64_t>(std::numeric_limits<std::time_t>::max())) return false;
    std::string uri = line.substr(space + 1);
    if (!valid_uri(uri)) return false;
    mark.uri = std::move(uri);
    mark.since = static_cast<std::time_t>(since);
    return true;
}

std::vector<ServerMark>::iterator find_mark(std::vector<ServerMark>& marks, const std::string& uri) {
    return std::find_if(marks.begin(), marks.end(), [&uri](const ServerMark& m) { return m.uri == uri; });
}

// One warning per process when the file cannot be written: every later session would
// say the same thing.
void warn_unwritable(const std::string& path, const std::string& why) {
    static std::atomic<bool> warned{false};
    if (warned.exchange(true)) return;
    warn({"", "cannot write the LDAP server state file " + path + " (ldap.server_state_file): " + why +
                  "; a server that times out is not remembered, so each new session waits for it again"});
}

}  // namespace

std::vector<ServerMark> parse_server_marks(const std::string& whole) {
    std::string text = whole.substr(0, kServerStateMaxFileBytes);
    // A line cut by the size limit is dropped: its URI could be a prefix of another one.
    if (whole.size() > kServerStateMaxFileBytes) text.erase(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n'));
    std::vector<ServerMark> marks;
    std::size_t start = 0;
    while (start < text.size() && marks.size() < kServerStateMaxMarks) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(start, end - start);
        start = end + 1;
        ServerMark mark;
        if (line.empty() || line[0] == '#' || !parse_line(line, mark)) continue;
        const auto seen = find_mark(marks, mark.uri);
        if (seen == marks.end()) marks.push_back(std::move(mark));
        else seen->since = std::max(seen->since, mark.since);
    }
    return marks;
}

std::string format_server_marks(const std::vector<ServerMark>& given) {
    std::vector<ServerMark> marks;
    for (const auto& m : given)
        if (valid_uri(m.uri) && m.since >= 0) marks.push_back(m);
    std::stable_sort(marks.begin(), marks.end(),
                     [](const ServerMark& a, const ServerMark& b) { return a.since > b.since; });
    if (marks.size() > kServerStateMaxMarks) marks.resize(kServerStateMaxMarks);
    std::string text = "# mailgrant: LDAP servers that failed lately, \"<unix time> <uri>\" (ldap.server_holddown_s)\n";
    for (const auto& m : marks) {
        std::string line = std::to_string(m.since) + " " + m.uri + "\n";
        if (text.size() + line.size() > kServerStateMaxFileBytes) break;  // what parse_server_marks reads
        text += line;
    }
    return text;
}

ServerHealth::ServerHealth(std::string path, int holddown_s, const Clock& clock)
    : path_(std::move(path)), holddown_s_(holddown_s), clock_(clock) {}

std::vector<ServerMark> ServerHealth::load() const {
    // O_NONBLOCK: a FIFO put at the path must not hang every session. O_NOFOLLOW: the
    // directory is writable by group mailgrant (every mail process), and a root reader
    // (the CLI) must not open whatever a symlink planted there points to.
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW);
    if (fd < 0) return {};  // no file: no server failed lately
    std::string text;
    struct stat st {};
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        char buf[4096];
        while (text.size() <= kServerStateMaxFileBytes) {
            const ssize_t n = ::read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            text.append(buf, static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    return parse_server_marks(text);
}

void ServerHealth::store(std::vector<ServerMark> marks) const {
    const std::time_t now = clock_.wall_now();
    marks.erase(std::remove_if(marks.begin(), marks.end(),
                               [now](const ServerMark& m) {
                                   return m.since < now - kServerMarkMaxAge || m.since > now + kServerMarkMaxAge;
                               }),
                marks.end());
    const std::string text = format_server_marks(marks);
    std::string temp = path_ + ".XXXXXX";
    const int fd = mkstemp(&temp[0]);
    if (fd < 0) return warn_unwritable(path_, std::strerror(errno));
    bool ok = true;
    for (std::size_t done = 0; ok && done < text.size();) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        ok = n > 0;
        if (ok) done += static_cast<std::size_t>(n);
    }
    int error = ok ? 0 : errno;
    // Group-writable: the mail user, Dovecot's auth user and the policy daemon share it
    // through the directory's group (README "Several servers").
    if (ok && fchmod(fd, 0660) != 0) ok = false, error = errno;
    if (::close(fd) != 0 && ok) ok = false, error = errno;
    if (ok && ::rename(temp.c_str(), path_.c_str()) != 0) ok = false, error = errno;
    if (!ok) {
        ::unlink(temp.c_str());
        warn_unwritable(path_, error ? std::strerror(error) : "short write");
    }
}

std::vector<std::string> ServerHealth::plan(const std::vector<std::string>& uris) {
    marked_.clear();
    probed_.clear();
    held_down_ = probes_ = 0;
    if (!enabled()) return uris;
    auto marks = load();
    if (marks.empty()) return uris;
    const std::time_t now = clock_.wall_now();
    std::vector<std::string> order, later;
    bool claimed = false;
    for (const auto& uri : uris) {
        const auto mark = find_mark(marks, uri);
        if (mark == marks.end()) {
            order.push_back(uri);
            continue;
        }
        marked_.push_back(uri);
        // A mark from the future (the clock was set back) counts as ended, or the server
        // would stay at the back until the clock catches up.
        if (mark->since <= now && now - mark->since < holddown_s_) {
            later.push_back(uri);
            ++held_down_;
        } else {
            mark->since = now;  // claim the probe: the other processes keep skipping it
            claimed = true;
            ++probes_;
            probed_.push_back(uri);
            order.push_back(uri);
        }
    }
    if (claimed) store(std::move(marks));
    order.insert(order.end(), later.begin(), later.end());
    return order;
}

void ServerHealth::failed(const std::string& uri) {
    if (!enabled() || !valid_uri(uri)) return;
    auto marks = load();
    const std::time_t now = clock_.wall_now();
    const auto mark = find_mark(marks, uri);
    // Said once per hold-down (the first failure, or a failed probe), not once per
    // session that still tries the server because all of them are down.
    const bool news = mark == marks.end() || mark->since > now || now - mark->since >= holddown_s_ ||
                      std::find(probed_.begin(), probed_.end(), uri) != probed_.end();
    if (mark == marks.end()) marks.push_back({uri, now});
    else mark->since = now;
    store(std::move(marks));
    if (news)
        warn({"", "LDAP server " + uri + " timed out or is unreachable: every mailgrant process on this host tries it last for " +
                      std::to_string(holddown_s_) + " s (ldap.server_holddown_s), then probes it"});
}

void ServerHealth::answered(const std::string& uri) {
    if (!enabled() || std::find(marked_.begin(), marked_.end(), uri) == marked_.end()) return;
    auto marks = load();
    const auto mark = find_mark(marks, uri);
    if (mark != marks.end()) {
        marks.erase(mark);
        store(std::move(marks));
    }
    marked_.erase(std::remove(marked_.begin(), marked_.end(), uri), marked_.end());
}

}  // namespace mailgrant
