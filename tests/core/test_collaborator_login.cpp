// Unit tests for collaborator_login.h: every branch of the per-collaborator login
// decision (shared by mailgrant-checkpassword and Dovecot 2.4's passdb driver), table
// driven over the in-memory directory, with the exact log texts the adapters write.
#include "mailgrant/collaborator_login.h"

#include <gtest/gtest.h>

#include "fakes.h"
#include "mailgrant/gentime.h"

using namespace mailgrant;

namespace {

using mailgrant::testing::dns::kAlice;
using mailgrant::testing::dns::kBob;
using mailgrant::testing::dns::kCarol;
using mailgrant::testing::dns::kDave;
using mailgrant::testing::dns::kSupport;
using mailgrant::testing::dns::kTeam;
const std::string kGoodPassword = "right";

using mailgrant::testing::make_grant;

enum class Ldap { Up, Down, PasswordCheckDown };

struct LoginCase {
    const char* name;
    const char* service;
    const char* mailbox;
    const char* grantee;
    const char* password;
    Ldap ldap;
    LoginOutcome outcome;
    LoginReason reason;
    LoginLogLevel level;
    const char* message;  // exact; a trailing '*' = prefix only
    bool touches_directory;
};

class CollaboratorLoginTest : public ::testing::TestWithParam<LoginCase> {
protected:
    void SetUp() override {
        dir.add_account("alice@example.com", Account{kAlice, {"alice@example.com"}, false, {}});
        dir.add_account("bob@example.com", Account{kBob, {"bob@example.com"}, false, {}});
        dir.add_account("carol@example.com", Account{kCarol, {"carol@example.com"}, false, {}});
        dir.add_account("dave@example.com", Account{kDave, {"dave@example.com"}, false, {}});
        dir.add_account("support@example.com", Account{kSupport, {"support@example.com", "help@example.com"}, true, {}});
        dir.groups[normalize_dn(kCarol)] = {{kTeam, {kTeam}}};
        clock.set_wall(*parse_generalized_time("20250615120000Z"));
        // bob: a direct folder grant from support; carol: through the team group; dave:
        // send rights only (no folder access); alice: an expired grant only.
        dir.grants.push_back(make_grant(kSupport, "bob", {kBob}, {"*"}, "reader"));
        dir.grants.push_back(make_grant(kSupport, "team", {kTeam}, {"INBOX"}, "editor"));
        Grant send_only = make_grant(kSupport, "dave", {kDave}, {}, "");
        send_only.send_as = true;
        dir.grants.push_back(send_only);
        Grant expired = make_grant(kSupport, "old", {kAlice}, {"*"}, "reader");
        expired.not_after = *parse_generalized_time("20250101000000Z");
        dir.grants.push_back(expired);
    }

    mailgrant::testing::FakeDirectory dir;
    ManualClock clock;
    int password_checks = 0;
};

TEST_P(CollaboratorLoginTest, Decides) {
    const auto& c = GetParam();
    dir.fail = c.ldap == Ldap::Down;
    const PasswordCheck check = [&](const std::string& dn, const std::string& password) {
        ++password_checks;
        if (c.ldap == Ldap::PasswordCheckDown) throw LdapError(LdapErrorKind::Unavailable, -1, "bind: server down");
        EXPECT_FALSE(dn.empty());
        return password == kGoodPassword;
    };
    const CollaboratorLogin login{c.service, c.mailbox, c.grantee, c.password};
    const LoginVerdict v = collaborator_login(login, dir, clock, check);

    EXPECT_EQ(v.outcome, c.outcome) << v.message;
    EXPECT_EQ(v.reason, c.reason) << v.message;
    EXPECT_EQ(v.level, c.level) << v.message;
    EXPECT_EQ(v.allowed(), c.outcome == LoginOutcome::Allowed);
    const std::string expected = c.message;
    if (!expected.empty() && expected.back() == '*')
        EXPECT_EQ(v.message.substr(0, expected.size() - 1), expected.substr(0, expected.size() - 1)) << v.message;
    else
        EXPECT_EQ(v.message, expected);
    // Refusals that need no directory are answered before any LDAP question.
    EXPECT_EQ(dir.calls > 0 || password_checks > 0, c.touches_directory) << v.message;

    // The precheck agrees with the full decision on its own steps, and never invents more.
    const auto early = collaborator_login_precheck(login);
    if (early) {
        EXPECT_EQ(early->reason, v.reason);
        EXPECT_EQ(early->message, v.message);
    } else {
        EXPECT_TRUE(c.touches_directory);
    }
}

using O = LoginOutcome;
using R = LoginReason;
using L = LoginLogLevel;
const char* const kRefusedSmtp =
    "refused per-collaborator login of bob@example.com to support@example.com for service 'smtp': it is for "
    "reading mail only (IMAP, POP3); to send, log in as bob@example.com (sendAs/sendOnBehalf grants decide "
    "which From addresses are allowed)";

INSTANTIATE_TEST_SUITE_P(
    Table, CollaboratorLoginTest,
    ::testing::Values(
        LoginCase{"imap_direct_grant", "imap", "support@example.com", "bob@example.com", "right", Ldap::Up, O::Allowed,
                  R::Allowed, L::Info,
                  "login of bob@example.com to support@example.com (service imap) allowed by an LDAP grant", true},
        LoginCase{"pop3_direct_grant", "pop3", "support@example.com", "bob@example.com", "right", Ldap::Up, O::Allowed,
                  R::Allowed, L::Info,
                  "login of bob@example.com to support@example.com (service pop3) allowed by an LDAP grant", true},
        LoginCase{"alias_of_mailbox", "imap", "help@example.com", "bob@example.com", "right", Ldap::Up, O::Allowed,
                  R::Allowed, L::Info,
                  "login of bob@example.com to help@example.com (service imap) allowed by an LDAP grant", true},
        LoginCase{"through_group", "imap", "support@example.com", "carol@example.com", "right", Ldap::Up, O::Allowed,
                  R::Allowed, L::Info,
                  "login of carol@example.com to support@example.com (service imap) allowed by an LDAP grant", true},
        LoginCase{"no_mailbox", "imap", "", "bob@example.com", "right", Ldap::Up, O::Refused,
                  R::NotCollaboratorLogin, L::Info, "not a MAILBOX*GRANTEE login for bob@example.com: refused", false},
        LoginCase{"mailbox_is_grantee", "imap", "bob@example.com", "bob@example.com", "right", Ldap::Up, O::Refused,
                  R::NotCollaboratorLogin, L::Info, "not a MAILBOX*GRANTEE login for bob@example.com: refused", false},
        LoginCase{"smtp", "smtp", "support@example.com", "bob@example.com", "right", Ldap::Up, O::Refused,
                  R::ServiceRefused, L::Warning, kRefusedSmtp, false},
        LoginCase{"submission", "submission", "support@example.com", "bob@example.com", "right", Ldap::Up, O::Refused,
                  R::ServiceRefused, L::Warning,
                  "refused per-collaborator login of bob@example.com to support@example.com for service "
                  "'submission': *",
                  false},
        LoginCase{"unknown_service_fails_closed", "", "support@example.com", "bob@example.com", "right", Ldap::Up,
                  O::Refused, R::ServiceRefused, L::Warning,
                  "refused per-collaborator login of bob@example.com to support@example.com for service "
                  "'unknown': *",
                  false},
        LoginCase{"service_names_are_exact", "IMAP", "support@example.com", "bob@example.com", "right", Ldap::Up,
                  O::Refused, R::ServiceRefused, L::Warning, "refused per-collaborator login of *", false},
        LoginCase{"smtp_refused_even_with_ldap_down", "smtp", "support@example.com", "bob@example.com", "right",
                  Ldap::Down, O::Refused, R::ServiceRefused, L::Warning, kRefusedSmtp, false},
        LoginCase{"empty_password", "imap", "support@example.com", "bob@example.com", "", Ldap::Up, O::Refused,
                  R::EmptyPassword, L::Info, "empty password for bob@example.com: refused", false},
        LoginCase{"wrong_password", "imap", "support@example.com", "bob@example.com", "wrong", Ldap::Up, O::Refused,
                  R::WrongPasswordOrUnknownUser, L::Info, "wrong password or unknown user bob@example.com", true},
        LoginCase{"unknown_grantee", "imap", "support@example.com", "nobody@example.com", "right", Ldap::Up,
                  O::Refused, R::WrongPasswordOrUnknownUser, L::Info,
                  "wrong password or unknown user nobody@example.com", true},
        LoginCase{"shared_mailbox_has_no_login", "imap", "bob@example.com", "support@example.com", "right", Ldap::Up,
                  O::Refused, R::WrongPasswordOrUnknownUser, L::Info,
                  "wrong password or unknown user support@example.com", true},
        LoginCase{"no_grant", "imap", "alice@example.com", "bob@example.com", "right", Ldap::Up, O::Refused,
                  R::NoGrant, L::Info, "refused login of bob@example.com to alice@example.com: no grant in LDAP", true},
        LoginCase{"send_only_grant_opens_nothing", "imap", "support@example.com", "dave@example.com", "right",
                  Ldap::Up, O::Refused, R::NoGrant, L::Info,
                  "refused login of dave@example.com to support@example.com: no grant in LDAP", true},
        LoginCase{"expired_grant", "imap", "support@example.com", "alice@example.com", "right", Ldap::Up, O::Refused,
                  R::NoGrant, L::Info, "refused login of alice@example.com to support@example.com: no grant in LDAP",
                  true},
        LoginCase{"unknown_mailbox", "imap", "ghost@example.com", "bob@example.com", "right", Ldap::Up, O::Refused,
                  R::NoGrant, L::Info, "refused login of bob@example.com to ghost@example.com: no grant in LDAP", true},
        LoginCase{"dn_shaped_mailbox_is_bad_input", "imap", "uid=support,ou=people,dc=example,dc=com",
                  "bob@example.com", "right", Ldap::Up, O::Refused, R::BadInput, L::Info, "refused: *", true},
        LoginCase{"ldap_down", "imap", "support@example.com", "bob@example.com", "right", Ldap::Down, O::Temporary,
                  R::Trouble, L::Error, "temporary failure: fake LDAP is down", true},
        LoginCase{"password_check_ldap_down", "imap", "support@example.com", "bob@example.com", "right",
                  Ldap::PasswordCheckDown, O::Temporary, R::Trouble, L::Error, "temporary failure: bind: server down",
                  true}),
    [](const ::testing::TestParamInfo<LoginCase>& info) { return std::string(info.param.name); });

TEST(CollaboratorService, OnlyServicesThatOpenMailboxes) {
    EXPECT_TRUE(collaborator_service_allowed("imap"));
    EXPECT_TRUE(collaborator_service_allowed("pop3"));
    for (const char* s : {"smtp", "submission", "lmtp", "sieve", "managesieve", "doveadm", "", "IMAP", "imap "})
        EXPECT_FALSE(collaborator_service_allowed(s)) << s;
}

// A grant revoked between two logins is obeyed at the next one (no state kept here).
TEST(CollaboratorLogin, FollowsTheDirectory) {
    mailgrant::testing::FakeDirectory dir;
    ManualClock clock;
    dir.add_account("bob@example.com", Account{kBob, {"bob@example.com"}, false, {}});
    dir.add_account("support@example.com", Account{kSupport, {"support@example.com"}, true, {}});
    dir.grants.push_back(make_grant(kSupport, "bob", {kBob}, {"INBOX"}, "reader"));
    const PasswordCheck check = [](const std::string&, const std::string& p) { return p == kGoodPassword; };
    const CollaboratorLogin login{"imap", "support@example.com", "bob@example.com", kGoodPassword};
    EXPECT_TRUE(collaborator_login(login, dir, clock, check).allowed());
    dir.grants.clear();
    EXPECT_EQ(collaborator_login(login, dir, clock, check).reason, LoginReason::NoGrant);
}

}  // namespace
