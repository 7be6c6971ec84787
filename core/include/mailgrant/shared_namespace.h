// shared_namespace.h -- a login's whole shared namespace in one answer (issue 19): every
// mailbox that shares folders with the login, and for each what the mail process will ask
// next while it builds the namespace and lists it (the rights per folder pattern, the
// rights on the namespace root, the team folders). Without it a LOGIN + LIST asked one
// question per owner and per folder (about 3N+1 for N sharers); with it, one.
//
// The answers are the core's own (Decider::sharing_with, TeamMailboxes), computed where the
// cache is (the per-host service or the process's own Answers, which keeps a built answer
// as long as what it was built from: answers.h). With the service, the mail
// process keeps one for service.memo_ms (NamespaceMemo), as it keeps the service's other
// answers (the plugin's C client, in an imap process, until the IMAP command that fetched
// it ends: dovecot-plugin/wire/wire_core.h), and reads a folder's rights from it with folder_letters(), the same
// folder_matches() and union the Decider applies. A mailbox is answered only when its
// address finds that owner (as the per-mailbox questions find it), so the two ways of
// asking cannot differ (tests/core/test_shared_namespace.cpp compares them).
#pragma once

#include <chrono>
#include <cstddef>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mailgrant/decision.h"
#include "mailgrant/rights.h"
#include "mailgrant/service_protocol.h"
#include "mailgrant/team_mailbox.h"

namespace mailgrant {

// One mailbox of the namespace, as the login sees it.
struct SharedMailbox {
    std::string address;  // its primary address: the shared namespace's user name
    // False: listed, but the per-mailbox questions must be asked (the address names
    // another entry where those questions look it up, or reading it failed for this
    // mailbox alone); the fields below are then empty.
    bool answered = true;
    // (folder pattern, rights of the one active grant that names it), every active grant
    // with folder rights that reaches the login.
    std::vector<std::pair<std::string, Rights>> patterns;
    Rights root_rights;  // TeamMailboxes::top_level
    std::string root_reason;
    bool team = false;  // TeamMailboxes::folders_for
    std::string team_reason;
    std::vector<SpecialFolder> team_folders;
};

// The namespace of `login`: one batched read of their grants (sharing_with), then the
// per-mailbox answers from what that read cached. A mailbox is answered only when its
// address finds that same owner in `directory` (as every per-mailbox question finds it);
// otherwise, or when its own data is unusable, it is listed unanswered. `changes_at`: as
// Decider::sharing_with's (the first second one of the login's grants changes state).
std::vector<SharedMailbox> shared_namespace(const std::string& login, Directory& directory, Decider& decider,
                                            TeamMailboxes& team, std::optional<std::time_t>* changes_at = nullptr);

// The RFC 4314 letters the mailbox's grants give on `folder` (Decider::folder_rights).
std::string folder_letters(const SharedMailbox& mailbox, const std::string& folder);

// The namespace as the "namespace" answer's item lines and back. Reading is strict: an
// item of an unknown kind, with the wrong number of fields, before any answered mailbox,
// or with letters that are not rights is a ProtocolError (nothing of such an answer is
// used).
void add_namespace_items(const std::vector<SharedMailbox>& mailboxes, ServiceReply& reply);
std::vector<SharedMailbox> namespace_from(const ServiceReply& reply);

// The namespaces a mail process fetched, each kept for `keep_for` (service.memo_ms) from
// when it was fetched; zero keeps none. Unanswered mailboxes are not kept (find() and
// listed() do not know them: they are asked about). Bounded: at most kMaxLogins logins.
class NamespaceMemo {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::size_t kMaxLogins = 16;

    explicit NamespaceMemo(std::chrono::milliseconds keep_for) : keep_for_(keep_for) {}

    void put(const std::string& login, std::vector<SharedMailbox> mailboxes, Clock::time_point now);
    // The mailbox named `address` in the fresh namespace of `login`; nullptr when there is
    // no fresh namespace or the address is not in it (the caller then asks).
    const SharedMailbox* find(const std::string& login, const std::string& address, Clock::time_point now) const;
    // Whether the last namespace fetched for `login`, fresh or not, held `address`.
    bool listed(const std::string& login, const std::string& address) const;
    void forget() { namespaces_.clear(); }

private:
    struct Entry {
        Clock::time_point at;
        std::map<std::string, SharedMailbox> by_address;
    };
    std::chrono::milliseconds keep_for_;
    std::map<std::string, Entry> namespaces_;
};

}  // namespace mailgrant
