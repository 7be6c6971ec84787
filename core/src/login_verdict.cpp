// login_verdict.cpp -- see collaborator_login.h: the steps of a per-collaborator login that
// need no directory (1-3), and a verdict on the service's wire. No directory code, so the
// plugin's service-mode core (libmailgrant_core.so) links no LDAP; steps 4-6 are in
// collaborator_login.cpp.
#include "mailgrant/collaborator_login.h"

#include <optional>
#include <utility>

namespace mailgrant {

LoginVerdict make_login_verdict(LoginOutcome outcome, LoginReason reason, LoginLogLevel level, std::string message) {
    LoginVerdict v;
    v.outcome = outcome;
    v.reason = reason;
    v.level = level;
    v.message = std::move(message);
    return v;
}

namespace {

LoginVerdict refused(LoginReason reason, std::string message, LoginLogLevel level = LoginLogLevel::Info) {
    return make_login_verdict(LoginOutcome::Refused, reason, level, std::move(message));
}

// The verdict's parts on the wire by name, not by number, so a plugin and a daemon of
// different builds agree or refuse. One table per part serves writing and reading.
constexpr std::pair<LoginOutcome, const char*> kOutcomes[] = {
    {LoginOutcome::Allowed, "allowed"},
    {LoginOutcome::Refused, "refused"},
    {LoginOutcome::Temporary, "temporary"},
};
constexpr std::pair<LoginLogLevel, const char*> kLevels[] = {
    {LoginLogLevel::Info, "info"},
    {LoginLogLevel::Warning, "warning"},
    {LoginLogLevel::Error, "error"},
};
constexpr std::pair<LoginReason, const char*> kReasons[] = {
    {LoginReason::Allowed, "allowed"},
    {LoginReason::NotCollaboratorLogin, "not-collaborator-login"},
    {LoginReason::ServiceRefused, "service-refused"},
    {LoginReason::EmptyPassword, "empty-password"},
    {LoginReason::WrongPasswordOrUnknownUser, "wrong-password-or-unknown-user"},
    {LoginReason::NoGrant, "no-grant"},
    {LoginReason::BadInput, "bad-input"},
    {LoginReason::Trouble, "trouble"},
};

// The name of `value` in `table`; `fallback` for a value it lacks (none today).
template <typename Enum, std::size_t N>
const char* name_of(const std::pair<Enum, const char*> (&table)[N], Enum value, const char* fallback) {
    for (const auto& [v, name] : table)
        if (v == value) return name;
    return fallback;
}

// The value named `text` in `table`; nullopt for a name it lacks.
template <typename Enum, std::size_t N>
std::optional<Enum> value_of(const std::pair<Enum, const char*> (&table)[N], const std::string& text) {
    for (const auto& [v, name] : table)
        if (text == name) return v;
    return std::nullopt;
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

std::vector<std::string> login_values(const LoginVerdict& verdict) {
    return {name_of(kOutcomes, verdict.outcome, "temporary"), name_of(kLevels, verdict.level, "error"),
            name_of(kReasons, verdict.reason, "trouble"), verdict.message};
}

LoginVerdict login_verdict(const ServiceReply& reply) {
    LoginVerdict v;
    v.outcome = LoginOutcome::Temporary;
    v.reason = LoginReason::Trouble;
    v.level = LoginLogLevel::Error;
    if (reply.status == ServiceReply::Status::BadInput) {
        // A login that can never succeed (e.g. a name or password too long to ask about):
        // refused like any other bad input, never "trouble" (which would stop every
        // collaborator login of this process for a while).
        v.outcome = LoginOutcome::Refused;
        v.reason = LoginReason::BadInput;
        v.level = LoginLogLevel::Info;
        v.message = "refused: " + reply.message;
        return v;
    }
    if (reply.status != ServiceReply::Status::Ok) {
        v.message = "temporary failure: " + reply.message;
        return v;
    }
    const auto malformed = [&v](const std::string& why) {
        v.message = "temporary failure: the mailgrant service's answer to a login " + why;
        return v;
    };
    if (reply.values.size() != 4) return malformed("has " + std::to_string(reply.values.size()) + " values, not 4");
    const auto outcome = value_of(kOutcomes, reply.values[0]);
    const auto level = value_of(kLevels, reply.values[1]);
    const auto reason = value_of(kReasons, reply.values[2]);
    if (!reason) return malformed("names an unknown reason");
    if (!outcome) return malformed("names an unknown outcome");
    if (!level) return malformed("names an unknown log level");
    // Allowed only with the allowed reason and the other way round: no half-read answer grants.
    if ((*outcome == LoginOutcome::Allowed) != (*reason == LoginReason::Allowed)) return malformed("contradicts itself");
    v.outcome = *outcome;
    v.reason = *reason;
    v.level = *level;
    v.message = reply.values[3];
    return v;
}

}  // namespace mailgrant
