// core_abi.cpp -- implements mailgrant-core.h over the C++ core for the Dovecot plugin.
//
// Every entry point catches every exception. LDAP trouble opens a short circuit breaker
// (cache.negative_ttl_s, at least 1 s): while it is open, calls fail at once instead of
// each IMAP command waiting for another LDAP timeout, so a slow directory costs one
// timeout per interval, not one per command. Only LDAP trouble opens it: bad input from
// a client (BadInput) fails that one call, or any client could switch off shared access
// for everyone in the process with one malformed name.
//
// Every question that reads grants is a ServiceRequest answered by the core's Answers
// (answers.h): in this process over its own LDAP connection and cache (service.listen
// empty: LocalCore, core_local.h), or by mailgrant-policyd's per-host service
// (service_client.h), which holds one cache and LDAP pool for every mail process on the
// host and follows LDAP changes. Either way the same code decides; here only C types, the
// breaker and messages. This file needs no directory code: with the service, a process
// loads the LDAP side (libmailgrant_local.so) only for a SETACL.
//
// SETACL/DELETEACL write-through (mailgrant_core_change_acl, LocalCore::change_acl:
// SelfService) reads the directory uncached (a read-modify-write of a grant must start
// from what LDAP has now) and, after a successful write, empties this process's answer
// cache and the service's, so the owner's GETACL and the actor's own rights show the
// change at once instead of after cache.ttl_s.
// A write that fails because another edit changed the grants meanwhile is temporary
// for that command only and leaves the breaker closed: LDAP answered.
#include "mailgrant-core.h"
#include "core_abi_testing.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core_local.h"
#include "mailgrant_build_id.h"
#include "mailgrant/bad_input.h"
#include "mailgrant/collaborator_login.h"
#include "mailgrant/config.h"
#include "mailgrant/input.h"
#include "mailgrant/service_client.h"
#include "mailgrant/shared_namespace.h"

struct mailgrant_core {
    mailgrant::Config config;
    const mailgrant::Clock* clock = &mailgrant::SystemClock::instance();
    // This process answers and writes: set by mailgrant_core_open whenever `service` is
    // not (every handle has one or the other); with the service, at the first SETACL.
    std::unique_ptr<mailgrant::LocalCore> local;
    std::unique_ptr<mailgrant::ServiceClient> service;  // the per-host service answers
    std::time_t breaker_until = 0;
    std::string breaker_reason;
    // The namespaces fetched by sharing_owners (one question for a whole LOGIN + LIST):
    // with the service, the rights, root and team questions about their mailboxes are
    // answered from here for service.memo_ms, as the service client keeps its answers.
    // Without the service nothing is kept: each question is decided afresh from this
    // process's cache, so a grant's end (mailGrantNotAfter) is obeyed to the second.
    mailgrant::NamespaceMemo namespaces{std::chrono::milliseconds(0)};
};

namespace {

// A "temp" answer (LDAP trouble, or the service unreachable): its message is complete.
struct TemporaryAnswer : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Opens the breaker: for cache.negative_ttl_s (at least 1 s) every call fails at once
// with `reason` (see the header comment). Only for LDAP or service trouble.
void open_breaker(mailgrant_core& core, std::time_t now, std::string reason) {
    core.breaker_until = now + std::max(1, core.config.cache.negative_ttl_s);
    core.breaker_reason = std::move(reason);
}

void put(char* out, std::size_t size, const std::string& text) {
    if (!out || size == 0) return;
    const std::size_t n = std::min(size - 1, text.size());
    std::memcpy(out, text.data(), n);
    out[n] = '\0';
}

// Runs fn; converts every failure into -1 (MAILGRANT_CORE_BAD_INPUT for bad input) and a
// message, and manages the breaker.
template <typename Fn>
int guarded(mailgrant_core* core, char* error, std::size_t error_size, Fn&& fn) {
    if (!core) {
        put(error, error_size, "mailgrant has no configuration loaded (see the error logged when loading it)");
        return -1;
    }
    const std::time_t now = core->clock->wall_now();
    if (now < core->breaker_until) {
        put(error, error_size, core->breaker_reason);
        return -1;
    }
    try {
        return fn();
    } catch (const mailgrant::BadInput& e) {
        put(error, error_size, std::string("bad input: ") + e.what());
        return MAILGRANT_CORE_BAD_INPUT;
    } catch (const TemporaryAnswer& e) {
        open_breaker(*core, now, e.what());
        put(error, error_size, core->breaker_reason);
    } catch (const std::exception& e) {
        put(error, error_size, std::string("internal error: ") + e.what());
    } catch (...) {
        put(error, error_size, "internal error");
    }
    return -1;
}

// This process's own answers and writer over its own LDAP connection (core_local.h).
// Throws std::runtime_error naming what could not be loaded, or why it was refused.
std::unique_ptr<mailgrant::LocalCore> open_local(const mailgrant::Config& config, const mailgrant::Clock& clock) {
    char error[512] = "";
    mailgrant::LocalCore* local =
        mailgrant::local_core_entry_point()(MAILGRANT_BUILD_ID, &config, &clock, error, sizeof error);
    if (!local) throw std::runtime_error(error);
    return std::unique_ptr<mailgrant::LocalCore>(local);
}

// Asks the service or this process's Answers; a Temporary answer opens the breaker (as
// LDAP trouble does), bad input throws BadInput (that call only). Ok answers return.
mailgrant::ServiceReply ask(mailgrant_core& core, mailgrant::ServiceVerb verb, std::vector<std::string> fields) {
    mailgrant::ServiceRequest request{verb, std::move(fields)};
    mailgrant::ServiceReply reply = core.service ? core.service->ask(request) : core.local->answer(request);
    if (reply.status == mailgrant::ServiceReply::Status::BadInput) throw mailgrant::BadInput(reply.message.rfind("bad input: ", 0) == 0 ? reply.message.substr(11) : reply.message);
    if (reply.status == mailgrant::ServiceReply::Status::Temporary)
        throw TemporaryAnswer(reply.message);
    if (reply.status == mailgrant::ServiceReply::Status::Failed)  // this call only: no breaker
        throw std::runtime_error(reply.message.rfind("internal error: ", 0) == 0 ? reply.message.substr(16)
                                                                                 : reply.message);
    return reply;
}

std::string value(const mailgrant::ServiceReply& reply, std::size_t index) {
    if (index >= reply.values.size()) throw std::runtime_error("answer without value " + std::to_string(index));
    return reply.values[index];
}

std::string text_of(const char* s) { return s ? s : ""; }

// Asks for `login`'s namespace and keeps it (NamespaceMemo); returns what was kept.
std::vector<mailgrant::SharedMailbox> fetch_namespace(mailgrant_core& core, const std::string& login) {
    auto mailboxes = mailgrant::namespace_from(ask(core, mailgrant::ServiceVerb::Namespace, {login}));
    core.namespaces.put(login, mailboxes, core.clock->steady_now());
    return mailboxes;
}

// The mailbox `mailbox` of `login`'s namespace when sharing_owners fetched it within
// service.memo_ms; nullptr = ask. A mailbox of a namespace fetched longer ago (a LIST of
// a thousand sharers outlasts memo_ms) fetches the namespace again: one question, not one
// per folder of every sharer still to list. A mailbox no longer in it is then asked about.
const mailgrant::SharedMailbox* remembered(mailgrant_core& core, const char* login, const char* mailbox) {
    if (!login || !mailbox) return nullptr;
    if (const auto* fresh = core.namespaces.find(login, mailbox, core.clock->steady_now())) return fresh;
    if (!core.namespaces.listed(login, mailbox)) return nullptr;
    fetch_namespace(core, login);
    return core.namespaces.find(login, mailbox, core.clock->steady_now());
}

}  // namespace

mailgrant_core* mailgrant_core_with_local(const mailgrant::CacheConfig& cache, const mailgrant::Clock& clock,
                                          std::unique_ptr<mailgrant::LocalCore> local) {
    auto core = std::make_unique<mailgrant_core>();
    core->config.cache = cache;
    core->clock = &clock;
    core->local = std::move(local);
    return core.release();
}

extern "C" {

static_assert(std::string_view(MAILGRANT_DEFAULT_CONFIG_PATH) == mailgrant::kDefaultConfigPath,
              "mailgrant-core.h and config.h name the same default configuration");

const char* mailgrant_core_default_config_path(void) { return mailgrant::kDefaultConfigPath; }

mailgrant_core* mailgrant_core_open(const char* config_path, char* error, std::size_t error_size) {
    const std::string path = config_path ? config_path : mailgrant::kDefaultConfigPath;
    // Every message names the configuration (a password file error names only that file).
    auto fail = [&](const std::string& what) {
        put(error, error_size, what.rfind(path, 0) == 0 ? what : path + ": " + what);
    };
    try {
        auto core = std::make_unique<mailgrant_core>();
        core->config = mailgrant::load_config(path);
        if (!core->config.service.listen.empty()) {
            // The LDAP side is loaded by the first SETACL only.
            core->service = std::make_unique<mailgrant::ServiceClient>(core->config.service);
            core->namespaces = mailgrant::NamespaceMemo(std::chrono::milliseconds(core->config.service.memo_ms));
        } else {
            try {
                core->local = open_local(core->config, *core->clock);
            } catch (const std::exception& e) {
                // Its own message (a library, not the configuration, is what failed).
                put(error, error_size, e.what());
                return nullptr;
            }
        }
        return core.release();
    } catch (const std::exception& e) {
        fail(e.what());
    } catch (...) {
        fail("internal error");
    }
    return nullptr;
}

void mailgrant_core_close(mailgrant_core* core) { delete core; }

int mailgrant_core_log_interval(const mailgrant_core* core) {
    return core ? std::max(1, core->config.cache.ttl_s) : MAILGRANT_DEFAULT_LOG_INTERVAL;
}

int mailgrant_core_folder_rights(mailgrant_core* core, const char* login, const char* mailbox, const char* folder,
                                 char* letters, std::size_t letters_size, char* error, std::size_t error_size) {
    put(letters, letters_size, "");
    return guarded(core, error, error_size, [&] {
        if (const auto* shared = remembered(*core, login, mailbox); shared && folder) {
            put(letters, letters_size, mailgrant::folder_letters(*shared, folder));
            return 0;
        }
        const auto reply = ask(*core, mailgrant::ServiceVerb::Rights, {text_of(login), text_of(mailbox), text_of(folder)});
        put(letters, letters_size, value(reply, 0));
        return 0;
    });
}

int mailgrant_core_sharing_owners(mailgrant_core* core, const char* login, void (*owner_cb)(void*, const char*),
                                  void* context, char* error, std::size_t error_size) {
    return guarded(core, error, error_size, [&] {
        // The whole namespace in one question: the questions about each mailbox that
        // building and listing the namespace ask next are answered from it.
        for (const auto& mailbox : fetch_namespace(*core, text_of(login))) owner_cb(context, mailbox.address.c_str());
        return 0;
    });
}

int mailgrant_core_folder_grantees(mailgrant_core* core, const char* mailbox, const char* folder,
                                   void (*grant_cb)(void*, int, const char*, const char*), void* context,
                                   char* error, std::size_t error_size) {
    return guarded(core, error, error_size, [&] {
        const auto reply = ask(*core, mailgrant::ServiceVerb::Grantees, {text_of(mailbox), text_of(folder)});
        for (const auto& item : reply.items)
            if (item.size() == 3) grant_cb(context, item[0] == "1" ? 1 : 0, item[1].c_str(), item[2].c_str());
        return 0;
    });
}

int mailgrant_core_may_open_mailbox(mailgrant_core* core, const char* login, const char* mailbox, char* error,
                                    std::size_t error_size) {
    return guarded(core, error, error_size, [&] {
        return value(ask(*core, mailgrant::ServiceVerb::MayOpen, {text_of(login), text_of(mailbox)}), 0) == "1" ? 1 : 0;
    });
}

int mailgrant_core_root_rights(mailgrant_core* core, const char* login, const char* mailbox, char* letters,
                               std::size_t letters_size, char* message, std::size_t message_size) {
    put(letters, letters_size, "");
    put(message, message_size, "");
    return guarded(core, message, message_size, [&]() -> int {
        if (!login || !mailbox) {
            put(message, message_size, "bad input: missing login or mailbox");
            return MAILGRANT_CORE_BAD_INPUT;
        }
        if (const auto* shared = remembered(*core, login, mailbox)) {
            put(letters, letters_size, shared->root_rights.letters());
            put(message, message_size, shared->root_reason);
            return 0;
        }
        const auto reply = ask(*core, mailgrant::ServiceVerb::RootRights, {login, mailbox});
        put(letters, letters_size, value(reply, 0));
        put(message, message_size, value(reply, 1));
        return 0;
    });
}

int mailgrant_core_team_folders(mailgrant_core* core, const char* login, const char* mailbox,
                                void (*folder_cb)(void*, const char*, const char*), void* context, char* message,
                                std::size_t message_size) {
    put(message, message_size, "");
    return guarded(core, message, message_size, [&]() -> int {
        if (!login || !mailbox) {
            put(message, message_size, "bad input: missing login or mailbox");
            return MAILGRANT_CORE_BAD_INPUT;
        }
        if (const auto* shared = remembered(*core, login, mailbox)) {
            put(message, message_size, shared->team_reason);
            if (!shared->team) return 0;
            for (const auto& folder : shared->team_folders) folder_cb(context, folder.name.c_str(), folder.special_use.c_str());
            return 1;
        }
        const auto reply = ask(*core, mailgrant::ServiceVerb::TeamFolders, {login, mailbox});
        put(message, message_size, value(reply, 1));
        if (value(reply, 0) != "1") return 0;
        for (const auto& item : reply.items)
            if (item.size() == 2) folder_cb(context, item[0].c_str(), item[1].c_str());
        return 1;
    });
}

}  // extern "C"

extern "C" int mailgrant_core_change_acl(mailgrant_core* core, const char* actor, const char* mailbox,
                                         const char* folder, const char* identifier, const char* rights,
                                         int remove, char* error, std::size_t error_size) {
    put(error, error_size, "");
    return guarded(core, error, error_size, [&]() -> int {
        if (!actor || !mailbox || !folder || !identifier) {
            put(error, error_size, "bad input: missing actor, mailbox, folder or identifier");
            return MAILGRANT_CORE_BAD_INPUT;
        }
        mailgrant::AclChangeRequest request;
        request.actor = actor;
        request.mailbox = mailbox;
        request.folder = folder;
        request.identifier = identifier;
        request.rights = remove ? "" : (rights ? rights : "");
        request.remove = remove != 0;
        if (!core->local) {
            // With the service, the writer is loaded here. The service still answers every
            // other question: a writer that cannot be loaded fails this command only.
            try {
                core->local = open_local(core->config, *core->clock);
            } catch (const std::exception& e) {
                put(error, error_size, e.what());
                return -1;
            }
        }
        const mailgrant::AclChangeResult result = core->local->change_acl(request);
        put(error, error_size, result.message);
        if (result.status == mailgrant::AclChangeStatus::Done) {
            // This process's answers were emptied by change_acl; what it remembers of the
            // service's must go too.
            core->namespaces.forget();
            if (core->service) {
                // The service's cache too (the change feed would report it a moment later,
                // or never with cache.follow_changes off); a failure here changes nothing
                // about the write, which is done.
                core->service->ask({mailgrant::ServiceVerb::Changed, {}});
                core->service->forget();
            }
            return 0;
        }
        if (result.status == mailgrant::AclChangeStatus::Refused) return MAILGRANT_CORE_REFUSED;
        // Any status other than these three is about the request itself (bad input).
        if (result.status != mailgrant::AclChangeStatus::Temporary) return MAILGRANT_CORE_BAD_INPUT;
        // Another edit changed the grants between our read and write: LDAP works, so only
        // this command fails ("try again"); every other lookup goes on.
        if (result.concurrent_edit) return -1;
        // LDAP trouble: open the breaker like a failed lookup does.
        open_breaker(*core, core->clock->wall_now(), result.message.empty() ? "LDAP unavailable" : result.message);
        return -1;
    });
}

// Per-collaborator login (Dovecot 2.4's passdb driver). The core decides
// (collaborator_login.h); here only the C types, the breaker and log-safe text. The
// password is checked by a bind as the grantee's entry, never cached; the account and
// grant lookups go through this process's cache like every other question.
extern "C" int mailgrant_core_collaborator_login(mailgrant_core* core, const char* service, const char* mailbox,
                                                 const char* grantee, const char* password, int* log_level,
                                                 char* message, std::size_t message_size) {
    constexpr std::size_t kMaxLogLine = 4096;
    int level = MAILGRANT_LOG_ERROR;
    int status = MAILGRANT_LOGIN_TEMPORARY;
    std::string text;
    try {
        mailgrant::CollaboratorLogin login;
        login.service = service ? service : "";
        login.mailbox = mailbox ? mailbox : "";
        login.grantee = grantee ? grantee : "";
        login.password = password ? password : "";
        std::optional<mailgrant::LoginVerdict> verdict = mailgrant::collaborator_login_precheck(login);
        if (!verdict && !core) {
            text = "temporary failure: mailgrant has no configuration loaded (see the error logged when loading it)";
        } else if (!verdict && core->clock->wall_now() < core->breaker_until) {
            text = "temporary failure: " + core->breaker_reason;
        } else {
            if (!verdict) {
                // The same Answers as every other question: here or in the service.
                mailgrant::ServiceRequest request{mailgrant::ServiceVerb::Login,
                                                  {login.service, login.mailbox, login.grantee, login.password}};
                verdict = mailgrant::login_verdict(core->service ? core->service->ask(request)
                                                                 : core->local->answer(request));
                if (verdict->reason == mailgrant::LoginReason::Trouble) {
                    open_breaker(*core, core->clock->wall_now(), verdict->message);
                }
            }
            text = verdict->message;
            switch (verdict->level) {
                case mailgrant::LoginLogLevel::Info: level = MAILGRANT_LOG_INFO; break;
                case mailgrant::LoginLogLevel::Warning: level = MAILGRANT_LOG_WARNING; break;
                case mailgrant::LoginLogLevel::Error: level = MAILGRANT_LOG_ERROR; break;
            }
            switch (verdict->outcome) {
                case mailgrant::LoginOutcome::Allowed: status = MAILGRANT_LOGIN_ALLOWED; break;
                case mailgrant::LoginOutcome::Refused: status = MAILGRANT_LOGIN_REFUSED; break;
                case mailgrant::LoginOutcome::Temporary: status = MAILGRANT_LOGIN_TEMPORARY; break;
            }
        }
    } catch (const std::exception& e) {
        level = MAILGRANT_LOG_ERROR;
        status = MAILGRANT_LOGIN_TEMPORARY;
        text = std::string("temporary failure: internal error: ") + e.what();
    } catch (...) {
        level = MAILGRANT_LOG_ERROR;
        status = MAILGRANT_LOGIN_TEMPORARY;
        text = "temporary failure: internal error";
    }
    if (log_level) *log_level = level;
    try {
        // Names in the line come from the client: no control character reaches the log.
        put(message, message_size, mailgrant::excerpt(text, kMaxLogLine));
    } catch (...) {
        put(message, message_size, "temporary failure: internal error");
    }
    return status;
}
