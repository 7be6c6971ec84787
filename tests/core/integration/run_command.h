// run_command.h -- for the core integration tests: run a shell command (the real slapd's
// tools, the built CLI) and get its output with stderr, and its exit status; wait for a
// SIGSTOPped process to be really stopped. One copy for every integration test binary
// that drives real processes.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

namespace mailgrant::testing {

inline std::string run(const std::string& command, int* status = nullptr) {
    std::string out;
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen((command + " 2>&1").c_str(), "r"), pclose);
    if (!pipe) return out;
    char buf[4096];
    while (std::size_t n = fread(buf, 1, sizeof buf, pipe.get())) out.append(buf, n);
    const int rc = pclose(pipe.release());
    if (status) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    return out;
}

// The KEY=VALUE lines a command printed (the slapd harness's `start`: LDAP_URI, ...).
inline std::map<std::string, std::string> key_values(const std::string& out) {
    std::map<std::string, std::string> values;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
        const auto eq = line.find('=');
        if (eq != std::string::npos) values[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return values;
}

// kill(SIGSTOP) returns before the stop takes effect, and slapd may still answer
// meanwhile: wait (bounded, 5 s) until /proc shows every thread of `pid` stopped.
inline bool wait_until_stopped(pid_t pid) {
    for (int round = 0; round < 500; ++round) {
        const std::string listing = run("cat /proc/" + std::to_string(pid) + "/task/*/stat");
        bool all_stopped = !listing.empty();
        std::istringstream lines(listing);
        for (std::string line; std::getline(lines, line);) {
            const auto paren = line.rfind(')');
            if (paren == std::string::npos || paren + 2 >= line.size()) continue;
            const char state = line[paren + 2];
            all_stopped = all_stopped && (state == 'T' || state == 't');
        }
        if (all_stopped) return true;
        usleep(10000);
    }
    return false;
}

#if defined(PYTHON3) && defined(MAILGRANT_HARNESS)
// The slapd harness (tests/harness/slapd_sandbox.py; CMake names it) for one private
// slapd in `dir`: start it with `args` (--ldif FILE, --acl-file FILE, ...), its output is
// for key_values(); stop it.
inline std::string start_slapd(const std::string& dir, const std::string& args, int* status) {
    return run(std::string(PYTHON3) + " " + MAILGRANT_HARNESS + " start --dir " + dir + " " + args, status);
}

// start_slapd, read: what it printed (for a failure message), its exit status, the keys
// it gave and the pid the harness wrote in `dir`.
struct HarnessSlapd {
    std::string output, uri, base, rootdn, rootpw;
    int status = -1;
    pid_t pid = 0;
};

inline HarnessSlapd start_harness_slapd(const std::string& dir, const std::string& args) {
    HarnessSlapd s;
    s.output = start_slapd(dir, args, &s.status);
    auto keys = key_values(s.output);
    s.uri = keys["LDAP_URI"];
    s.base = keys["LDAP_BASE"];
    s.rootdn = keys["LDAP_ROOTDN"];
    s.rootpw = keys["LDAP_ROOTPW"];
    std::ifstream(dir + "/slapd.pid") >> s.pid;
    return s;
}

inline void stop_slapd(const std::string& dir) {
    run(std::string(PYTHON3) + " " + MAILGRANT_HARNESS + " stop --dir " + dir);
}
#endif

}  // namespace mailgrant::testing
