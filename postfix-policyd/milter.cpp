// milter.cpp -- see milter.h. libmilter glue only; the decision is in header_check.cpp.
#include "milter.h"

#include <grp.h>
#include <libmilter/mfapi.h>
#include <pwd.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "header_address.h"
#include "header_check.h"
#include "mailgrant/sent_copy.h"
#include "request_parser.h"
#include "server.h"
#include "stats.h"

namespace mailgrant::policy {
namespace {

// What the C callbacks reach: libmilter has no user pointer for the filter as a whole.
struct Global {
    Milter::EngineSource engine;
    Stats* stats = nullptr;
    Logger log;
    std::atomic<bool> stop_requested{false};
};
std::mutex global_mutex;  // guards the unique_ptr itself (set at start, read by callbacks)
std::unique_ptr<Global> global;

Global& current() {
    std::lock_guard<std::mutex> lock(global_mutex);
    if (!global) throw std::runtime_error("milter used before start");
    return *global;
}

constexpr std::size_t kMaxStoredHeaders = 16;  // per name; more are refused anyway (only one allowed)

// Per smtpd connection. libmilter keeps it as a void* (smfi_setpriv) between callbacks:
// that slot is its only owner, created in session() and destroyed in on_close().
struct Session {
    bool no_reply_headers = false;  // SMFIP_NR_HDR negotiated: header callbacks answer nothing
    bool no_reply_mail = false;     // SMFIP_NR_MAIL negotiated: MAIL FROM answers nothing
    bool may_add_rcpt = false;      // SMFIF_ADDRCPT granted: sent copies can be routed
    bool judge = false;             // this message is judged (authenticated, or reject_local)
    std::string login;              // {auth_authen}; empty when unauthenticated
    MessageHeaders headers;
    std::string add_sender;
    std::vector<SentCopy> copies;  // decided at end of headers, added at end of message
    std::string failure;  // an error in a callback that may not reply; answered at end of headers

    void reset_message() {
        judge = false;
        failure.clear();
        login.clear();
        headers = MessageHeaders{};
        add_sender.clear();
        copies.clear();
    }
};

Session& session(SMFICTX* ctx) {
    if (auto* s = static_cast<Session*>(smfi_getpriv(ctx))) return *s;
    auto owned = std::make_unique<Session>();
    if (smfi_setpriv(ctx, owned.get()) != MI_SUCCESS) throw std::runtime_error("smfi_setpriv failed");
    return *owned.release();  // now owned by the context, freed in on_close
}

std::string macro(SMFICTX* ctx, const char* name) {
    const char* value = smfi_getsymval(ctx, const_cast<char*>(name));
    return value ? value : "";
}

void log_decision(SMFICTX* ctx, const Session& s, const std::string& decision, const std::string& reason) {
    const std::string queue = macro(ctx, "i");
    std::string from;
    for (const auto& f : s.headers.from) from += (from.empty() ? "" : " | ") + f;
    current().log("milter: queue_id=" + printable(queue.empty() ? "-" : queue, 32) +
                  " login=" + printable(s.login.empty() ? "-" : s.login, 100) + " from=\"" + printable(from, 300) +
                  "\" decision=" + decision + " reason=\"" + printable(reason, 400) + "\"");
}

// One line per mailbox the message is sent as: whether it gets a sent copy and why
// (`what`: "yes", "no", or "added" once the recipient is in the envelope).
void log_sent_copy(SMFICTX* ctx, const Session& s, const SentCopy& copy, const char* what) {
    const std::string queue = macro(ctx, "i");
    std::string line = "milter: queue_id=" + printable(queue.empty() ? "-" : queue, 32) +
                       " login=" + printable(s.login.empty() ? "-" : s.login, 100) + " sent_copy=" + what +
                       " mailbox=<" + printable(copy.mailbox, 200) + "> folder=\"" + printable(copy.folder, 100) + "\"";
    if (copy.copy) line += " recipient=<" + printable(copy.recipient, 300) + ">";
    current().log(line + " reason=\"" + printable(copy.reason, 400) + "\"");
}

sfsistat tempfail(SMFICTX* ctx, const std::string& why) {
    // Logged with the detail; the client sees a generic, retryable answer.
    try {
        Session* s = static_cast<Session*>(smfi_getpriv(ctx));
        log_decision(ctx, s ? *s : Session{}, "tempfail", why);
    } catch (...) {
    }
    smfi_setreply(ctx, const_cast<char*>("451"), const_cast<char*>("4.7.1"),
                  const_cast<char*>("From: header check temporarily unavailable, please try again later"));
    return SMFIS_TEMPFAIL;
}

// Every callback runs through here: no exception crosses into libmilter's C code.
// A callback negotiated to send no reply (SMFIP_NR_*) must not answer even on error --
// an unexpected reply would desynchronise the MTA -- so its failure is kept in the
// session and becomes the tempfail at end of headers.
template <typename F>
sfsistat guarded(SMFICTX* ctx, F&& body, bool no_reply = false) noexcept {
    std::string failure;
    try {
        return body();
    } catch (const LdapError& e) {
        failure = std::string("LDAP ") + to_string(e.kind()) + ": " + e.what();
    } catch (const std::exception& e) {
        failure = std::string("internal error: ") + e.what();
    } catch (...) {
        failure = "internal error";
    }
    if (no_reply) {
        try {
            Session& s = session(ctx);
            if (s.failure.empty()) s.failure = failure;
        } catch (...) {
        }
        return SMFIS_NOREPLY;
    }
    return tempfail(ctx, failure);
}

bool mail_unanswered(SMFICTX* ctx) {
    const auto* s = static_cast<const Session*>(smfi_getpriv(ctx));
    return s && s->no_reply_mail;
}
bool headers_unanswered(SMFICTX* ctx) {
    const auto* s = static_cast<const Session*>(smfi_getpriv(ctx));
    return s && s->no_reply_headers;
}

sfsistat on_negotiate(SMFICTX* ctx, unsigned long actions, unsigned long steps, unsigned long, unsigned long,
                      unsigned long* want_actions, unsigned long* want_steps, unsigned long* p2, unsigned long* p3) {
    return guarded(ctx, [&] {
        if (!(actions & SMFIF_ADDHDRS)) throw std::runtime_error("the MTA does not allow adding headers");
        // Adding recipients is needed only for sent copies: a message that needs one is
        // deferred at end of headers when the MTA did not grant it.
        *want_actions = SMFIF_ADDHDRS | (actions & SMFIF_ADDRCPT);
        // Skip every step the check does not need, and leave MAIL FROM and headers
        // unanswered when the MTA supports it: the only round trip per message is then
        // end-of-headers, where the verdict is given (an unauthenticated message is
        // accepted there instead of at MAIL FROM: same one round trip).
        const unsigned long skip = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NORCPT | SMFIP_NOBODY | SMFIP_NOUNKNOWN |
                                   SMFIP_NODATA | SMFIP_NR_HDR | SMFIP_NR_MAIL;
        *want_steps = steps & skip;
        *p2 = 0;
        *p3 = 0;
        Session& s = session(ctx);
        s.no_reply_headers = (*want_steps & SMFIP_NR_HDR) != 0;
        s.no_reply_mail = (*want_steps & SMFIP_NR_MAIL) != 0;
        s.may_add_rcpt = (actions & SMFIF_ADDRCPT) != 0;
        return SMFIS_CONTINUE;
    });
}

sfsistat on_envfrom(SMFICTX* ctx, char**) {
    return guarded(ctx, [&] {
        Session& s = session(ctx);
        s.reset_message();
        s.login = macro(ctx, "{auth_authen}");
        // Unauthenticated mail is left alone unless the site asked for reject_local.
        s.judge = !s.login.empty() ||
                  current().engine()->config.policy.unauthenticated == UnauthenticatedMode::RejectLocal;
        if (s.no_reply_mail) return SMFIS_NOREPLY;
        return s.judge ? SMFIS_CONTINUE : SMFIS_ACCEPT;
    }, mail_unanswered(ctx));
}

sfsistat on_header(SMFICTX* ctx, char* name, char* value) {
    return guarded(ctx, [&] {
        Session& s = session(ctx);
        const sfsistat next = s.no_reply_headers ? SMFIS_NOREPLY : SMFIS_CONTINUE;
        if (!s.judge || !name || !value) return next;
        std::vector<std::string>* into = nullptr;
        if (strcasecmp(name, "From") == 0) into = &s.headers.from;
        else if (strcasecmp(name, "Sender") == 0) into = &s.headers.sender;
        if (!into || into->size() >= kMaxStoredHeaders) return next;
        // Keep one byte over the limit so the parser reports the length instead of a cut address.
        into->emplace_back(value, strnlen(value, kMaxHeaderValueBytes + 1));
        return next;
    }, headers_unanswered(ctx));
}

sfsistat on_eoh(SMFICTX* ctx) {
    return guarded(ctx, [&] {
        Session& s = session(ctx);
        if (!s.failure.empty()) return tempfail(ctx, s.failure);
        if (!s.judge) return SMFIS_ACCEPT;
        const auto engine = current().engine();
        const HeaderVerdict v = s.login.empty()
                                    ? judge_unauthenticated(engine->config.policy, s.headers)
                                    : judge_authenticated(*engine->decider, *engine->cache, s.login, s.headers);
        if (v.kind == HeaderVerdict::Kind::Reject) {
            log_decision(ctx, s, "reject", v.reason);
            const std::string text = reply_text(v.reason);
            if (smfi_setreply(ctx, const_cast<char*>("550"), const_cast<char*>("5.7.1"), const_cast<char*>(text.c_str())) !=
                MI_SUCCESS)
                smfi_setreply(ctx, const_cast<char*>("550"), const_cast<char*>("5.7.1"),
                              const_cast<char*>("From: header not allowed for this login"));
            return SMFIS_REJECT;
        }
        // Sent copies (core's sent_copy.h decides; only while the site routes them). Asked
        // before the message is accepted: LDAP trouble here defers the whole message (no
        // copy and no send), so the client's retry sends it with its one copy.
        std::vector<SentCopy> copies;
        const TeamMailboxConfig& team = engine->config.team_mailbox;
        if (!s.login.empty() && !team.sent_copy_domain.empty()) {
            for (auto& copy : sent_copies(team, *engine->cache, v.authors))
                if (copy.copy) copies.push_back(std::move(copy));
                else log_sent_copy(ctx, s, copy, "no");
            if (!copies.empty() && !s.may_add_rcpt)
                throw std::runtime_error("the MTA does not allow adding recipients (SMFIF_ADDRCPT): cannot file the sent copy");
        }
        log_decision(ctx, s, v.add_sender.empty() ? "accept" : "accept-add-sender", v.reason);
        for (const auto& copy : copies) log_sent_copy(ctx, s, copy, "yes");
        if (v.add_sender.empty() && copies.empty()) return SMFIS_ACCEPT;  // nothing left to do for this message
        s.add_sender = v.add_sender;
        s.copies = std::move(copies);
        return SMFIS_CONTINUE;  // headers and recipients can only be added at end of message
    });
}

sfsistat on_eom(SMFICTX* ctx) {
    return guarded(ctx, [&] {
        Session& s = session(ctx);
        if (!s.add_sender.empty()) {
            const std::string value = reply_text(s.add_sender, 320);
            if (smfi_addheader(ctx, const_cast<char*>("Sender"), const_cast<char*>(value.c_str())) != MI_SUCCESS)
                throw std::runtime_error("smfi_addheader(Sender) failed");
        }
        // Exactly one recipient per copy, added here and nowhere else: the policy check
        // refuses the reserved domain from clients, so no one else can add it.
        for (const auto& copy : s.copies) {
            std::string rcpt = "<" + copy.recipient + ">";
            if (smfi_addrcpt(ctx, rcpt.data()) != MI_SUCCESS)
                throw std::runtime_error("smfi_addrcpt(" + copy.recipient + ") failed");
        }
        for (const auto& copy : s.copies) {
            log_sent_copy(ctx, s, copy, "added");
            if (Stats* stats = current().stats) ++stats->sent_copies;
        }
        s.reset_message();
        return SMFIS_CONTINUE;
    });
}

sfsistat on_abort(SMFICTX* ctx) {
    return guarded(ctx, [&] {
        session(ctx).reset_message();
        return SMFIS_CONTINUE;
    });
}

sfsistat on_close(SMFICTX* ctx) {
    // Takes back ownership of the session from libmilter's slot.
    std::unique_ptr<Session> owned(static_cast<Session*>(smfi_getpriv(ctx)));
    smfi_setpriv(ctx, nullptr);
    return SMFIS_CONTINUE;
}

char kName[] = "mailgrant";

}  // namespace

std::string milter_socket_spec(const std::string& address) {
    if (address.rfind("unix:", 0) == 0 && address.size() > 5) return address;
    if (address.rfind("inet:", 0) != 0) throw std::runtime_error(address + ": must be unix:PATH, inet:HOST:PORT or inet:PORT@HOST");
    const std::string rest = address.substr(5);
    if (rest.find('@') != std::string::npos) return address;  // libmilter's own syntax
    const auto colon = rest.rfind(':');
    if (colon == std::string::npos || colon + 1 >= rest.size()) throw std::runtime_error(address + ": missing port");
    std::string host = rest.substr(0, colon);
    const std::string port = rest.substr(colon + 1);
    if (port.find_first_not_of("0123456789") != std::string::npos) throw std::runtime_error(address + ": bad port");
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        return "inet6:" + port + "@" + host.substr(1, host.size() - 2);
    if (host.empty()) throw std::runtime_error(address + ": missing host");
    return "inet:" + port + "@" + host;
}

Milter::Milter(const std::string& address, Logger log, const SocketPermissions& permissions, SocketFiles& files)
    : spec_(milter_socket_spec(address)) {
    {
        std::lock_guard<std::mutex> lock(global_mutex);
        if (global) throw std::runtime_error("only one milter per process (libmilter is process-global)");
        global = std::make_unique<Global>();
        global->log = std::move(log);
    }
    smfiDesc desc{};
    desc.xxfi_name = kName;
    desc.xxfi_version = SMFI_VERSION;
    desc.xxfi_flags = SMFIF_ADDHDRS | SMFIF_ADDRCPT;
    desc.xxfi_envfrom = on_envfrom;
    desc.xxfi_header = on_header;
    desc.xxfi_eoh = on_eoh;
    desc.xxfi_eom = on_eom;
    desc.xxfi_abort = on_abort;
    desc.xxfi_close = on_close;
    desc.xxfi_negotiate = on_negotiate;
    if (smfi_register(desc) != MI_SUCCESS) throw std::runtime_error("smfi_register failed");
    smfi_setbacklog(512);
    auto open_at = [this](std::string spec) {
        if (smfi_setconn(spec.data()) != MI_SUCCESS) throw std::runtime_error(spec + ": smfi_setconn failed");
        if (smfi_opensocket(true) != MI_SUCCESS) throw std::runtime_error("cannot listen on milter socket " + spec_);
    };
    // A unix socket is made under a temporary name and renamed into place with its owner
    // and mode set (socket_file.h); libmilter, which knows only the temporary name, then
    // never removes the file itself: SocketFiles does.
    if (spec_.rfind("unix:", 0) == 0)
        make_socket_file(spec_.substr(5), permissions, files,
                         [&](const std::string& where) { open_at("unix:" + where); });
    else
        open_at(spec_);
}

void Milter::start(EngineSource engine, Stats* stats, std::function<void()> on_exit) {
    current().engine = std::move(engine);
    current().stats = stats;
    thread_ = std::thread([exit_cb = std::move(on_exit)] {
        const int rc = smfi_main();
        Global& g = current();
        if (!g.stop_requested) {
            g.log("milter: libmilter stopped on its own (rc " + std::to_string(rc) + "), stopping the daemon");
            if (exit_cb) exit_cb();
        }
    });
}

void Milter::stop() {
    if (!thread_.joinable()) return;
    current().stop_requested = true;
    smfi_stop();
    thread_.join();
}

Milter::~Milter() {
    try {
        stop();
    } catch (...) {
    }
}

}  // namespace mailgrant::policy
