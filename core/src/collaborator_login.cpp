// collaborator_login.cpp -- see collaborator_login.h: steps 4-6, which read the directory
// (steps 1-3 and the wire: login_verdict.cpp). The log texts are the ones
// mailgrant-checkpassword has always written (tests and admins' log filters match them).
#include "mailgrant/collaborator_login.h"

#include <exception>

#include "mailgrant/bad_input.h"
#include "mailgrant/decision.h"
#include "mailgrant/ldap_error.h"

namespace mailgrant {

namespace {

LoginVerdict refused(LoginReason reason, std::string message) {
    return make_login_verdict(LoginOutcome::Refused, reason, LoginLogLevel::Info, std::move(message));
}

}  // namespace

LoginVerdict collaborator_login(const CollaboratorLogin& login, Directory& directory, const Clock& clock,
                                const PasswordCheck& password_is_right) {
    if (auto early = collaborator_login_precheck(login)) return *early;
    try {
        const auto account = directory.find_login(login.grantee);
        if (!account || account->shared_mailbox || !password_is_right(account->dn, login.password))
            return refused(LoginReason::WrongPasswordOrUnknownUser, "wrong password or unknown user " + login.grantee);
        Decider decider(directory, clock);
        if (!decider.may_open_mailbox(login.grantee, login.mailbox))
            return refused(LoginReason::NoGrant,
                           "refused login of " + login.grantee + " to " + login.mailbox + ": no grant in LDAP");
        return make_login_verdict(LoginOutcome::Allowed, LoginReason::Allowed, LoginLogLevel::Info,
                       "login of " + login.grantee + " to " + login.mailbox + " (service " + login.service +
                           ") allowed by an LDAP grant");
    } catch (const BadInput& e) {  // the client's mistake: permanent, not an outage
        return refused(LoginReason::BadInput, std::string("refused: ") + e.what());
    } catch (const std::exception& e) {  // LdapError and anything else: never a success
        return make_login_verdict(LoginOutcome::Temporary, LoginReason::Trouble, LoginLogLevel::Error,
                       std::string("temporary failure: ") + e.what());
    } catch (...) {
        return make_login_verdict(LoginOutcome::Temporary, LoginReason::Trouble, LoginLogLevel::Error,
                       "temporary failure: internal error");
    }
}

}  // namespace mailgrant
