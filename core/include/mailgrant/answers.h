// answers.h -- the mail processes' questions (service_protocol.h) answered by the core:
// the rights of U on F of M, the owners sharing with U, who has access to F, the team
// folders, a per-collaborator login. One implementation, run by the per-host service in
// mailgrant-policyd (decision_service.h) and by a mail process that asks LDAP itself
// (dovecot-plugin/core_abi.cpp, service.listen empty), so the two modes cannot differ.
// answer() never throws: bad input becomes "bad", LDAP and any other trouble "temp".
#pragma once

#include <string>

#include "mailgrant/clock.h"
#include "mailgrant/collaborator_login.h"
#include "mailgrant/config.h"
#include "mailgrant/decision.h"
#include "mailgrant/directory.h"
#include "mailgrant/service_protocol.h"

namespace mailgrant {

class Answers {
public:
    // `directory` is the (caching) directory `decider` reads; `password_is_right` checks a
    // collaborator's password (a bind as their entry).
    Answers(const Config& config, Directory& directory, Decider& decider, const Clock& clock,
            PasswordCheck password_is_right)
        : config_(config), directory_(directory), decider_(decider), clock_(clock),
          password_is_right_(std::move(password_is_right)) {}

    ServiceReply answer(const ServiceRequest& request) noexcept;

private:
    ServiceReply answer_or_throw(const ServiceRequest& request);

    const Config& config_;
    Directory& directory_;
    Decider& decider_;
    const Clock& clock_;
    PasswordCheck password_is_right_;
};

// The password check every adapter uses: a bind as the entry (ldap_session.h).
// `ldap` must outlive the returned function.
PasswordCheck ldap_password_check(const LdapConfig& ldap);


}  // namespace mailgrant
