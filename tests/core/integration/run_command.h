// run_command.h -- for the core integration tests: run a shell command (the real slapd's
// tools, the built CLI) and get its output with stderr, and its exit status. One copy
// for every integration test binary that drives real processes.
#pragma once

#include <sys/wait.h>

#include <cstdio>
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

}  // namespace mailgrant::testing
