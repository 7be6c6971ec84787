// subprocess.h -- run an external program (doveadm, sendmail) without a shell, feed it
// stdin, collect stdout/stderr, and kill it when it exceeds its time limit, so a hung
// doveadm or MTA can never hang the CLI.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace mailgrant::cli {

// What run_process keeps of each of stdout and stderr; the rest is read and dropped.
inline constexpr std::size_t kMaxProcessOutputBytes = std::size_t{64} << 20;

struct ProcessResult {
    bool started = false;     // false: exec failed (errors holds why)
    bool timed_out = false;
    int exit_status = -1;     // exit code, or -1 when killed by a signal
    bool truncated = false;   // stdout passed kMaxProcessOutputBytes: `out` is cut (`errors` is cut silently)
    std::string out;
    std::string errors;
};

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input, int timeout_ms);

// "doveadm -c /x/dovecot.conf" -> {"doveadm", "-c", "/x/dovecot.conf"}; single and double
// quotes group words (no other shell syntax). Throws std::invalid_argument on an open quote.
std::vector<std::string> split_command(const std::string& command);

}  // namespace mailgrant::cli
