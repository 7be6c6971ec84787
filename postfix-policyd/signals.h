// signals.h -- signals as bytes on a self-pipe, so the event loop handles SIGHUP
// (reload), SIGUSR1 (log counters) and SIGTERM/SIGINT (stop) on its own thread.
#pragma once

namespace mailgrant::policy {

// Installs the handlers for SIGHUP/SIGTERM/SIGINT/SIGUSR1 and ignores SIGPIPE.
void install_signal_handlers();
// The pipe's read end (-1 before install_signal_handlers); each byte is a signal number.
int signal_fd();
// As if SIGTERM had arrived.
void raise_stop();

}  // namespace mailgrant::policy
