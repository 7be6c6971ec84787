// preflight.cpp -- see preflight.h.
#include "preflight.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace mailgrant::policy {
namespace {

constexpr std::size_t kMaxPostconfOutput = 4096;  // one path

Finding error(std::string text) { return Finding{true, std::move(text)}; }
Finding warning(std::string text) { return Finding{false, std::move(text)}; }

// Can `pw` open `path` for reading? Asked for real: a child process takes the user's
// groups and ids and tries (permission bits, ACLs and supplementary groups all count).
bool readable_as(const passwd& pw, const std::string& path) {
    const pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
        if (initgroups(pw.pw_name, pw.pw_gid) != 0 || setgid(pw.pw_gid) != 0 || setuid(pw.pw_uid) != 0) _exit(2);
        const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
        _exit(fd >= 0 ? 0 : 1);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string parent_dir(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

void check_unix_socket(const char* key, const std::string& address, const std::string& queue_directory,
                       std::vector<Finding>& out) {
    if (address.rfind("unix:", 0) != 0) return;  // inet: nothing on disk to check
    const std::string path = address.substr(5);
    const std::string dir = parent_dir(path);
    struct stat st {};
    if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        out.push_back(error(std::string(key) + ": directory " + dir + " does not exist (the socket is made there)"));
        return;
    }
    if (queue_directory.empty()) return;
    const std::string prefix = queue_directory.back() == '/' ? queue_directory : queue_directory + "/";
    if (path.rfind(prefix, 0) != 0)
        out.push_back(warning(std::string(key) + ": " + path + " is outside Postfix's queue_directory " +
                              queue_directory + ": a chrooted smtpd (Debian's default) cannot reach it; use " +
                              prefix + "private/... and name it in Postfix as unix:private/..."));
}

}  // namespace

std::string postfix_queue_directory() {
    FILE* pipe = popen("postconf -h queue_directory 2>/dev/null", "r");
    if (!pipe) return "";
    char buffer[kMaxPostconfOutput] = {};
    const std::size_t n = std::fread(buffer, 1, sizeof buffer - 1, pipe);
    const int rc = pclose(pipe);
    if (rc != 0) return "";
    std::string out(buffer, n);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) out.pop_back();
    return out;
}

std::vector<Finding> preflight(const Config& config, const std::string& config_path, const std::string& milter_address,
                               const std::string& queue_directory) {
    std::vector<Finding> out;
    const PolicyConfig& p = config.policy;
    if (geteuid() != 0) {
        out.push_back(warning("not run as root: policy.user's access and the socket owner are not checked"));
    } else if (const passwd* pw = getpwnam(p.user.c_str()); !pw) {
        out.push_back(error("policy.user: no such user '" + p.user + "' (adduser --system --group " + p.user + ")"));
    } else if (pw->pw_uid == 0) {
        out.push_back(error("policy.user: '" + p.user + "' is root; the daemon must drop root"));
    } else {
        const passwd account = *pw;  // getpw* storage is reused by the next call
        const std::string name = account.pw_name;
        if (!readable_as(account, config_path))
            out.push_back(error(config_path + ": not readable by policy.user '" + name +
                                "': the daemon re-reads it as that user on SIGHUP (chgrp " + name + "; chmod 0640)"));
        if (!config.ldap.bind_password_file.empty() && !readable_as(account, config.ldap.bind_password_file))
            out.push_back(warning(config.ldap.bind_password_file + ": not readable by policy.user '" + name +
                                  "': read as root at start (fine); a changed password needs a restart, not a reload"));
    }
    if (geteuid() == 0) {
        if (!p.socket_owner.empty() && !getpwnam(p.socket_owner.c_str()))
            out.push_back(error("policy.socket_owner: no such user '" + p.socket_owner + "'"));
        if (!p.socket_group.empty() && !getgrnam(p.socket_group.c_str()))
            out.push_back(error("policy.socket_group: no such group '" + p.socket_group + "'"));
    }
    if (milter_address.empty())
        out.push_back(warning("policy.milter_listen is empty: the header From:/Sender: check is off (the shipped "
                              "master.cf snippet expects it on unix:private/mailgrant-milter, and with "
                              "milter_default_action=tempfail Postfix defers mail while it is missing)"));
    check_unix_socket("policy.listen", p.listen, queue_directory, out);
    check_unix_socket(milter_address == p.milter_listen ? "policy.milter_listen" : "--milter", milter_address,
                      queue_directory, out);
    // The decision service is for Dovecot's processes, not smtpd: no queue_directory check.
    if (!config.service.listen.empty()) check_unix_socket("service.listen", config.service.listen, "", out);
    return out;
}

}  // namespace mailgrant::policy
