// collaborator_login.cpp -- see collaborator_login.h. The log texts are the ones
// mailgrant-checkpassword has always written (tests and admins' log filters match them).
#include "mailgrant/collaborator_login.h"

#include <exception>

#include "mailgrant/bad_input.h"
#include "mailgrant/decision.h"
#include "mailgrant/ldap_error.h"

namespace mailgrant {

namespace {

LoginVerdict verdict(LoginOutcome outcome, LoginReason reason, LoginLogLevel level, std::string message) {
    LoginVerdict v;
    v.outcome = outcome;
    v.reason = reason;
    v.level = level;
    v.message = std::move(message);
    return v;
}

LoginVerdict refused(LoginReason reason, std::string message, LoginLogLevel level = LoginLogLevel::Info) {
    return verdict(LoginOutcome::Refused, reason, level, std::move(message));
}

}  // namespace

bool collaborator_service_allowed(const std::string& service) { return service == "imap" || service == "pop3"; }

std::optional<LoginVerdict> collaborator_login_precheck(const CollaboratorLogin& login) {
    if (login.mailbox.empty() || login.mailbox == login.grantee)
        return refused(LoginReason::NotCollaboratorLogin,
                       "not a MAILBOX*GRANTEE login for " + login.grantee + ": refused");
    if (!collaborator_service_allowed(login.service))
        return refused(LoginReason::ServiceRefused,
                       "refused per-collaborator login of " + login.grantee + " to " + login.mailbox +
                           " for service '" + (login.service.empty() ? std::string("unknown") : login.service) +
                           "': it is for reading mail only (IMAP, POP3); to send, log in as " + login.grantee +
                           " (sendAs/sendOnBehalf grants decide which From addresses are allowed)",
                       LoginLogLevel::Warning);
    if (login.password.empty())
        return refused(LoginReason::EmptyPassword, "empty password for " + login.grantee + ": refused");
    return std::nullopt;
}

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
        return verdict(LoginOutcome::Allowed, LoginReason::Allowed, LoginLogLevel::Info,
                       "login of " + login.grantee + " to " + login.mailbox + " (service " + login.service +
                           ") allowed by an LDAP grant");
    } catch (const BadInput& e) {  // the client's mistake: permanent, not an outage
        return refused(LoginReason::BadInput, std::string("refused: ") + e.what());
    } catch (const std::exception& e) {  // LdapError and anything else: never a success
        return verdict(LoginOutcome::Temporary, LoginReason::Trouble, LoginLogLevel::Error,
                       std::string("temporary failure: ") + e.what());
    } catch (...) {
        return verdict(LoginOutcome::Temporary, LoginReason::Trouble, LoginLogLevel::Error,
                       "temporary failure: internal error");
    }
}

}  // namespace mailgrant
