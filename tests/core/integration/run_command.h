// run_command.h -- for the core integration tests: run a shell command (the real slapd's
// tools, the built CLI) and get its output with stderr, and its exit status. One copy
// for every integration test binary that drives real processes.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <memory>
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

}  // namespace mailgrant::testing
