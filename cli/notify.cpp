// notify.cpp -- see notify.h.
#include "notify.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "grant_spec.h"
#include "mailgrant/gentime.h"
#include "subprocess.h"

namespace mailgrant::cli {
namespace {

std::string rights_words(const std::string& role, const std::string& letters) {
    if (role == "reader") return "read only (see folders, read messages, mark them read)";
    if (role == "editor") return "read and modify (also file, flag and delete messages)";
    if (role == "admin") return "full access, including sharing it with others";
    std::string out = "IMAP rights " + letters + " (";
    std::vector<std::string> words;
    for (char c : letters) {
        switch (c) {
            case 'l': words.push_back("see the folder"); break;
            case 'r': words.push_back("read"); break;
            case 's': words.push_back("keep read/unread state"); break;
            case 'w': words.push_back("set flags"); break;
            case 'i': words.push_back("add messages"); break;
            case 'p': words.push_back("post"); break;
            case 'k': words.push_back("create folders"); break;
            case 'x': words.push_back("delete folders"); break;
            case 't': words.push_back("delete messages"); break;
            case 'e': words.push_back("expunge"); break;
            case 'a': words.push_back("share further"); break;
            default: break;
        }
    }
    for (std::size_t i = 0; i < words.size(); ++i) out += (i ? ", " : "") + words[i];
    return out + ")";
}

std::string folder_list(const std::vector<std::string>& folders) {
    std::string out;
    for (std::size_t i = 0; i < folders.size(); ++i)
        out += (i ? ", " : "") + (folders[i] == "*" ? std::string("all folders") : folders[i]);
    return out;
}

std::string rfc5322_date(std::time_t t) { return format_utc(t, "%a, %d %b %Y %H:%M:%S +0000"); }

// Header values come from LDAP: never let a CR/LF start a new header.
std::string header_safe(const std::string& v) {
    std::string out;
    for (char c : v) out += (c == '\r' || c == '\n') ? ' ' : c;
    return out;
}

}  // namespace

std::string notice_subject(const Notice& n) {
    if (n.invitation) return "Invitation: " + n.owner + " wants to share with you";
    if (!n.folders.empty()) return n.owner + " shared " + folder_list(n.folders) + " with you";
    if (n.send_as) return "You may now send as " + n.owner;
    return "You may now send on behalf of " + n.owner;
}

std::string compose_notice(const Notice& n) {
    std::string m;
    m += "From: mailgrant <" + header_safe(n.from) + ">\n";
    m += "To: <" + header_safe(n.to) + ">\n";
    m += "Subject: " + header_safe(notice_subject(n)) + "\n";
    m += "Date: " + rfc5322_date(n.date) + "\n";
    m += "Message-ID: <mailgrant." + std::to_string(n.date) + "." + std::to_string(getpid()) + "@" +
         header_safe(n.message_id_host) + ">\n";
    m += "Auto-Submitted: auto-generated\n";
    m += "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n";

    m += "Hello,\n\n";
    m += (n.owner_is_shared ? "The shared mailbox " : "The mailbox ") + n.owner +
         (n.invitation ? " is offered to you" : " has been shared with you");
    m += n.granted_by_group.empty() ? ".\n\n" : " (through the group " + n.granted_by_group + ").\n\n";
    if (n.invitation)
        m += "This is an invitation waiting to be accepted: nothing below works until it is\n"
             "accepted (ask your mail administrator)" +
             (n.invitation_expires ? ", before " + format_time_human(*n.invitation_expires) : std::string()) + ".\n\n";
    if (!n.folders.empty()) {
        m += "  Folders:  " + folder_list(n.folders) + "\n";
        m += "  Access:   " + rights_words(n.role, n.rights) + "\n";
    }
    if (n.send_as) m += "  Sending:  you may send mail as " + n.owner + "\n";
    else if (n.send_on_behalf) m += "  Sending:  you may send mail on behalf of " + n.owner + "\n";
    if (n.not_before) m += "  From:     " + format_time_human(*n.not_before) + "\n";
    m += "  Until:    " + (n.not_after ? format_time_human(*n.not_after) : std::string("until it is revoked")) + "\n\n";

    if (!n.folders.empty()) {
        m += "How to open it:\n\n";
        m += "  In your mail program (IMAP) the folders appear under \"shared\":\n";
        for (const auto& f : n.folders) {
            if (f == "*") m += "    shared/" + n.owner + "/  (every folder)\n";
            else m += "    shared/" + n.owner + "/" + f + "\n";
        }
        m += "  If you do not see them, open the folder list (\"Subscribe...\" or\n"
             "  \"Manage folders\") and subscribe to them.\n\n";
        m += "  Where your server offers per-collaborator logins you can instead add\n"
             "  the mailbox as its own account: user name " + n.owner + "*" + n.to + "\n"
             "  with your own password.\n\n";
    }
    if (n.send_as || n.send_on_behalf) {
        m += "How to send:\n\n"
             "  Add " + n.owner + " as an additional identity (From address) in your\n"
             "  mail program and send through your usual outgoing server with your own\n"
             "  login.\n\n";
    }
    m += "-- \nThis message was sent automatically by mailgrant.\n";
    return m;
}

void send_with_sendmail(const std::string& command, const std::string& message, int timeout_ms) {
    const auto r = run_process(split_command(command), message, timeout_ms);
    if (!r.started) throw std::runtime_error(r.errors);
    if (r.timed_out) throw std::runtime_error("'" + command + "' did not finish in time");
    if (r.exit_status != 0)
        throw std::runtime_error("'" + command + "' failed (exit " + std::to_string(r.exit_status) + "): " +
                                 r.errors.substr(0, 300));
}

namespace {

class Socket {
public:
    explicit Socket(int fd) : fd_(fd) {}
    ~Socket() {
        if (fd_ >= 0) close(fd_);
    }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    int fd() const { return fd_; }

private:
    int fd_;
};

struct SmtpSession {
    int fd;
    std::string buffer;

    std::string reply() {  // full (multi-line) reply
        std::string all;
        for (;;) {
            auto nl = buffer.find('\n');
            while (nl == std::string::npos) {
                char buf[1024];
                const ssize_t r = recv(fd, buf, sizeof buf, 0);
                if (r <= 0) throw std::runtime_error("SMTP server closed the connection or timed out");
                buffer.append(buf, static_cast<std::size_t>(r));
                if (buffer.size() > 65536) throw std::runtime_error("SMTP reply too long");
                nl = buffer.find('\n');
            }
            std::string line = buffer.substr(0, nl);
            buffer.erase(0, nl + 1);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            all += line + "\n";
            if (line.size() < 4 || line[3] != '-') return all;
        }
    }
    void send(const std::string& data) {
        std::size_t done = 0;
        while (done < data.size()) {
            const ssize_t w = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
            if (w <= 0) throw std::runtime_error("SMTP write failed or timed out");
            done += static_cast<std::size_t>(w);
        }
    }
    void expect(const std::string& command, char klass) {
        if (!command.empty()) send(command + "\r\n");
        const std::string r = reply();
        if (r.empty() || r[0] != klass) {
            std::string what = command.empty() ? "greeting" : command;
            throw std::runtime_error("SMTP " + what + " refused: " + r.substr(0, r.size() - 1));
        }
    }
};

}  // namespace

void send_with_smtp(const std::string& host_port, const std::string& envelope_from,
                    const std::vector<std::string>& recipients, const std::string& message, int timeout_ms) {
    const auto colon = host_port.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == host_port.size())
        throw std::runtime_error("--smtp needs HOST:PORT, got '" + host_port + "'");
    std::string host = host_port.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    const std::string port = host_port.substr(colon + 1);
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0)
        throw std::runtime_error("cannot resolve '" + host_port + "': " + gai_strerror(rc));
    std::string last_error = "no address";
    int fd = -1;
    for (addrinfo* a = res; a; a = a->ai_next) {
        int s = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (s < 0) continue;
        timeval tv{};
        tv.tv_sec = timeout_ms / 1000;
        tv.tv_usec = (timeout_ms % 1000) * 1000;
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);  // also bounds connect() on Linux
        if (connect(s, a->ai_addr, a->ai_addrlen) == 0) {
            fd = s;
            break;
        }
        last_error = std::strerror(errno);
        close(s);
    }
    freeaddrinfo(res);
    if (fd < 0) throw std::runtime_error("cannot connect to SMTP " + host_port + ": " + last_error);
    Socket sock(fd);
    SmtpSession smtp{fd, {}};
    smtp.expect("", '2');
    char hostname[256] = "localhost";
    gethostname(hostname, sizeof hostname - 1);
    smtp.expect(std::string("EHLO ") + hostname, '2');
    smtp.expect("MAIL FROM:<" + envelope_from + ">", '2');
    for (const auto& r : recipients) smtp.expect("RCPT TO:<" + r + ">", '2');
    smtp.expect("DATA", '3');
    std::string data;
    std::string line;
    for (std::size_t i = 0; i <= message.size(); ++i) {
        if (i == message.size() || message[i] == '\n') {
            if (i == message.size() && line.empty()) break;
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (!line.empty() && line[0] == '.') line = "." + line;  // dot-stuffing (RFC 5321 4.5.2)
            data += line + "\r\n";
            line.clear();
        } else {
            line += message[i];
        }
    }
    smtp.send(data);
    smtp.expect(".", '2');
    try {
        smtp.expect("QUIT", '2');
    } catch (const std::exception&) {
        // the message is accepted; a lost QUIT answer does not matter
    }
}

}  // namespace mailgrant::cli
