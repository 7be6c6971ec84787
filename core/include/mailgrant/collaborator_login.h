// collaborator_login.h -- the one decision on a per-collaborator login
// ("MAILBOX*GRANTEE" with GRANTEE's own password), shared by every mail-server adapter:
// mailgrant-checkpassword (Dovecot 2.3's checkpassword master passdb) and the `mailgrant`
// passdb driver of Dovecot 2.4 (dovecot-plugin/auth/, through mailgrant-core.h). The
// adapters only read the request in their server's format, call this, map the outcome to
// their result codes and log `message` at `level`; none of them decides anything, so the
// two Dovecot versions cannot drift apart.
//
// In this order (the first that applies answers):
//  1. not a master login (no MAILBOX, or MAILBOX == GRANTEE)   -> Refused (Info)
//  2. service other than imap/pop3                             -> Refused (Warning)
//     Over SMTP (Postfix's Dovecot SASL: service "smtp"; Dovecot's "submission") a
//     master login reaches the MTA as the MAILBOX, so the collaborator could send as the
//     mailbox with no trace of who he is (README "Security notes"). Fails closed when the
//     service is unknown.
//  3. empty password (an LDAP simple bind with one is "unauthenticated": it succeeds)
//                                                              -> Refused (Info)
//  4. GRANTEE's account not found, a shared mailbox (no login of its own), or the
//     password wrong (an LDAP bind as the account)             -> Refused (Info)
//  5. no active grant of MAILBOX gives GRANTEE folder access   -> Refused (Info)
//  6. otherwise                                                -> Allowed (Info)
// Bad input from the client (BadInput) is a permanent refusal; LDAP trouble (LdapError)
// or any other failure is Temporary (Error) -- never Allowed.
//
// Steps 1-3 need no directory: collaborator_login_precheck() answers them alone, so an
// adapter can refuse before it loads the configuration or connects to LDAP.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "mailgrant/clock.h"
#include "mailgrant/directory.h"
#include "mailgrant/service_protocol.h"

namespace mailgrant {

// A login as the mail server hands it over.
struct CollaboratorLogin {
    std::string service;   // Dovecot's service/protocol name ("imap", "pop3", "smtp", ...); "" = unknown
    std::string mailbox;   // the user the client asked to log in as (Dovecot: requested login user)
    std::string grantee;   // the person who authenticates (Dovecot: the master user)
    std::string password;  // the grantee's own password
};

enum class LoginOutcome { Allowed, Refused, Temporary };

// Why: lets adapters pick a finer result code and tests check the branch taken.
enum class LoginReason {
    Allowed,
    NotCollaboratorLogin,
    ServiceRefused,
    EmptyPassword,
    WrongPasswordOrUnknownUser,
    NoGrant,
    BadInput,
    Trouble,  // LDAP or internal trouble: Temporary
};

// Info: ordinary answers (allowed, refused as Dovecot's own "Login failed"); Warning: a
// master login tried over a sending service; Error: our own trouble.
enum class LoginLogLevel { Info, Warning, Error };

struct LoginVerdict {
    LoginOutcome outcome = LoginOutcome::Refused;
    LoginReason reason = LoginReason::Trouble;
    LoginLogLevel level = LoginLogLevel::Error;
    std::string message;  // one log line, naming grantee and mailbox (raw: the adapter scrubs it)

    bool allowed() const { return outcome == LoginOutcome::Allowed; }
};

// True when the password is the password of the entry `dn`; false when it is not; throws
// LdapError when no server answers (ldap_session.h: password_is_right binds as `dn`).
using PasswordCheck = std::function<bool(const std::string& dn, const std::string& password)>;

// The services a per-collaborator login may use: the ones that only open mailboxes.
bool collaborator_service_allowed(const std::string& service);

// A verdict with these parts (the one place they are put together).
LoginVerdict make_login_verdict(LoginOutcome outcome, LoginReason reason, LoginLogLevel level, std::string message);

// A login verdict as the "login" answer's values (outcome, level, message) and back.
std::vector<std::string> login_values(const LoginVerdict& verdict);
LoginVerdict login_verdict(const ServiceReply& reply);

// Steps 1-3. nullopt = nothing refused yet: go on with collaborator_login().
std::optional<LoginVerdict> collaborator_login_precheck(const CollaboratorLogin& login);

// Steps 1-6. Never throws for LDAP trouble, bad input or other std::exception: they come
// back as a verdict. `directory` is asked for the grantee's account and (through a
// Decider on `clock`) for the mailbox's grants; `password_is_right` checks the password.
LoginVerdict collaborator_login(const CollaboratorLogin& login, Directory& directory, const Clock& clock,
                                const PasswordCheck& password_is_right);

}  // namespace mailgrant
