// signals.cpp -- see signals.h.
#include "signals.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "listener.h"

namespace mailgrant::policy {
namespace {

int signal_pipe[2] = {-1, -1};

// Async-signal-safe: one write(2), errno preserved.
void on_signal(int signo) {
    const int saved = errno;
    const char byte = static_cast<char>(signo);
    [[maybe_unused]] ssize_t n = write(signal_pipe[1], &byte, 1);
    errno = saved;
}

}  // namespace

void install_signal_handlers() {
    if (signal_pipe[0] < 0) {
        if (pipe2(signal_pipe, O_NONBLOCK | O_CLOEXEC) != 0) throw sys_error("pipe");
    }
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int s : {SIGHUP, SIGTERM, SIGINT, SIGUSR1}) sigaction(s, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);  // libldap writes without MSG_NOSIGNAL
}

int signal_fd() { return signal_pipe[0]; }

void raise_stop() { on_signal(SIGTERM); }

}  // namespace mailgrant::policy
