// answers.h -- the mail processes' questions (service_protocol.h) answered by the core:
// the rights of U on F of M, the owners sharing with U, who has access to F, the team
// folders, a per-collaborator login. One implementation, run by the per-host service in
// mailgrant-policyd (decision_service.h) and by a mail process that asks LDAP itself
// (dovecot-plugin/core_abi.cpp, service.listen empty), so the two modes cannot differ.
// answer() never throws: bad input becomes "bad", LDAP and any other trouble "temp".
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "mailgrant/cache.h"
#include "mailgrant/clock.h"
#include "mailgrant/collaborator_login.h"
#include "mailgrant/config.h"
#include "mailgrant/decision.h"
#include "mailgrant/directory.h"
#include "mailgrant/service_protocol.h"

namespace mailgrant {

// How "namespace" questions were answered: built from the directory, or an answer kept
// from before (Answers::namespace_of). mailgrant-policyd reports both on its stats endpoint.
struct NamespaceCounts {
    std::atomic<std::uint64_t> built{0}, reused{0};
    std::atomic<std::uint64_t> followed{0};  // reused past cache.ttl_s: the change feed follows
};

class Answers {
public:
    // `directory` is the (caching) directory `decider` reads; `password_is_right` checks a
    // collaborator's password (a bind as their entry); `remembered_bytes`: see
    // kRememberedNamespaceBytes (other values are for tests); `following`: the directory's
    // (caching_directory.h), so an answer lives as its sources do.
    Answers(const Config& config, Directory& directory, Decider& decider, const Clock& clock,
            PasswordCheck password_is_right, std::size_t remembered_bytes = kRememberedNamespaceBytes,
            std::shared_ptr<const FollowFlag> following = nullptr)
        : config_(config), directory_(directory), decider_(decider), clock_(clock),
          password_is_right_(std::move(password_is_right)),
          namespaces_(kRememberedNamespaces, clock, remembered_bytes, std::move(following)) {}

    ServiceReply answer(const ServiceRequest& request) noexcept;

    // Drops every remembered namespace answer; returns how many. Call it after emptying
    // the directory's cache (a change in LDAP was seen, or written through this process),
    // as PolicyService::forget_answers: first the cache, then what was built from it.
    std::size_t forget() { return namespaces_.clear(); }

    // Where namespace answers are counted (null: nowhere); it must outlive this object.
    void count_namespaces_in(NamespaceCounts* counts) { counts_ = counts; }

    // How many logins' namespace answers are kept at most, and how many bytes they may
    // take together (reply_bytes()). A namespace is about 60 bytes per sharing mailbox:
    // 1,024 logins with 1,000 sharers each fit; fewer logins with far more sharers each
    // push the least recently asked out, and one answer larger than the whole budget is
    // built for each question and not kept.
    static constexpr std::size_t kRememberedNamespaces = 1024;
    static constexpr std::size_t kRememberedNamespaceBytes = 64u << 20;

private:
    ServiceReply answer_or_throw(const ServiceRequest& request);
    ServiceReply namespace_of(const std::string& login);

    const Config& config_;
    Directory& directory_;
    Decider& decider_;
    const Clock& clock_;
    PasswordCheck password_is_right_;
    // login -> its built "namespace" answer. Building one costs a decision per sharing
    // mailbox (about 20 ms for 1,000 on this machine, while the mail process's LIST
    // waits); it is kept as PolicyService keeps decisions: no longer than every
    // directory answer it was built from (FreshnessScope), never past a validity edge of
    // one of the login's grants, and not at all when forget() ran while it was built.
    TtlCache<std::string, ServiceReply> namespaces_;
    NamespaceCounts* counts_ = nullptr;
};

// About what `reply` takes in memory (its strings and vectors): the cost of keeping it.
std::size_t reply_bytes(const ServiceReply& reply);

// The password check every adapter uses: a bind as the entry (ldap_session.h).
// `ldap` must outlive the returned function.
PasswordCheck ldap_password_check(const LdapConfig& ldap);

}  // namespace mailgrant
