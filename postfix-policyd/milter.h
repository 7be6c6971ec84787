// milter.h -- the header From:/Sender: check served to Postfix's smtpd_milters with
// Debian's libmilter, inside mailgrant-policyd (issue 7).
//
// libmilter is process-global (smfi_register/smfi_main keep static state) and runs its
// own threads: smfi_main blocks in its accept loop and starts one thread per smtpd
// connection. So there is at most one Milter per process; it runs smfi_main on a thread
// of its own, and its callbacks call judge_*() (header_check.h) with the Decider of the
// daemon's current Engine -- the same object the policy path uses, so envelope and
// header decisions agree and share one cache and LDAP pool (both thread-safe).
//
// Replies: a refusal is 550 5.7.1 <reason>; LDAP trouble or any internal error is
// 451 4.7.1 (never an accept, never a 5xx). Every exception stops at the callback.
//
// Sent copies (issue 17): for an accepted message sent as someone else's mailbox, core's
// sent_copy.h says whether that mailbox's Sent folder gets a copy; the milter then adds
// exactly one envelope recipient per such mailbox at end of message (smfi_addrcpt, in the
// reserved team_mailbox.sent_copy_domain that Postfix routes to Dovecot's LDA), logs
// "sent_copy=added" naming the person and the mailbox, and counts it in Stats.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "server.h"

namespace mailgrant::policy {

// "unix:/path" and libmilter's own "inet:PORT@HOST" pass through; the DESIGN style
// "inet:HOST:PORT" (and "inet:[v6]:PORT") becomes "inet:PORT@HOST" / "inet6:PORT@v6".
// Throws std::runtime_error for anything else.
std::string milter_socket_spec(const std::string& address);

class Milter {
public:
    using EngineSource = std::function<std::shared_ptr<Engine>()>;

    // Registers with libmilter and opens the socket (call before dropping root, while the
    // daemon is single-threaded: a unix socket file appears with `permissions`, those of
    // the policy socket, and is remembered in `files`; see socket_file.h). Throws.
    Milter(const std::string& address, Logger log, const SocketPermissions& permissions, SocketFiles& files);
    ~Milter();  // stop() and join
    Milter(const Milter&) = delete;
    Milter& operator=(const Milter&) = delete;

    // Runs smfi_main on its own thread. `on_exit` is called from that thread if smfi_main
    // returns without stop() having been called (libmilter's own signal thread may
    // catch a SIGTERM meant for the daemon): the daemon then stops as a whole.
    // `engine` gives the daemon's current Engine (it changes on SIGHUP reload); `stats`
    // (may be null) counts the sent copies added.
    void start(EngineSource engine, Stats* stats, std::function<void()> on_exit);
    void stop();

    const std::string& address() const { return spec_; }

private:
    std::string spec_;  // the address as configured (libmilter copies what it is given)
    std::thread thread_;
};

}  // namespace mailgrant::policy
