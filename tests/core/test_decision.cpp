// Unit tests for decision.h over an in-memory directory: roles, patterns, groups,
// validity, sender rights, and that LDAP errors never become access.
#include "mailgrant/decision.h"

#include <gtest/gtest.h>

#include "fakes.h"
#include "mailgrant/gentime.h"

using namespace mailgrant;

namespace {

using mailgrant::testing::dns::kAlice;
using mailgrant::testing::dns::kBob;
using mailgrant::testing::dns::kCarol;
using mailgrant::testing::dns::kSupport;
using mailgrant::testing::dns::kTeam;
using mailgrant::testing::dns::kLeads;

using mailgrant::testing::make_grant;

class DecisionTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir.add_account("alice@example.com", Account{kAlice, {"alice@example.com", "a.smith@example.com"}, false, {}});
        dir.add_account("bob@example.com", Account{kBob, {"bob@example.com"}, false, {}});
        dir.add_account("carol@example.com", Account{kCarol, {"carol@example.com"}, false, {}});
        dir.add_account("support@example.com", Account{kSupport, {"support@example.com", "help@example.com"}, true, {}});
        // carol is in leads, leads is in team.
        dir.groups[normalize_dn(kCarol)] = {{kLeads, {kLeads}}, {kTeam, {kLeads, kTeam}}};
        dir.groups[normalize_dn(kBob)] = {{kTeam, {kTeam}}};
        clock.set_wall(*parse_generalized_time("20250615120000Z"));
    }
    mailgrant::testing::FakeDirectory dir;
    ManualClock clock;
    Decider decider{dir, clock};
};

struct FolderCase {
    const char* name;
    std::vector<std::string> folders;
    const char* rights;
    const char* folder;
    const char* expected;  // "" = no access
};

class FolderRights : public DecisionTest, public ::testing::WithParamInterface<FolderCase> {};

TEST_P(FolderRights, DirectGrantToBob) {
    const auto& c = GetParam();
    dir.grants.push_back(make_grant(kAlice, "g", {kBob}, c.folders, c.rights));
    const auto d = decider.folder_rights("bob@example.com", "alice@example.com", c.folder);
    EXPECT_EQ(d.rights.letters(), c.expected) << d.reason;
    EXPECT_FALSE(d.owner);
    if (*c.expected) {
        ASSERT_EQ(d.applied.size(), 1u);
        EXPECT_TRUE(d.applied[0].path.group_path.empty());
    }
}

INSTANTIATE_TEST_SUITE_P(
    Table, FolderRights,
    ::testing::Values(FolderCase{"reader", {"INBOX"}, "reader", "INBOX", "lrs"},
                      FolderCase{"editor", {"INBOX"}, "editor", "inbox", "lrswipkxte"},
                      FolderCase{"admin", {"*"}, "admin", "Sent", "lrswipkxtea"},
                      FolderCase{"letters", {"INBOX"}, "lr", "INBOX", "lr"},
                      FolderCase{"pattern_child", {"Projects/*"}, "reader", "Projects/x", "lrs"},
                      FolderCase{"pattern_not_parent", {"Projects/*"}, "reader", "Projects", ""},
                      FolderCase{"other_folder", {"INBOX"}, "reader", "Sent", ""},
                      FolderCase{"no_folders", {}, "reader", "INBOX", ""},
                      FolderCase{"bad_rights", {"*"}, "everything", "INBOX", ""},
                      FolderCase{"no_rights", {"*"}, "", "INBOX", ""}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(DecisionTest, RightsOfSeveralGrantsAddUp) {
    dir.grants.push_back(make_grant(kAlice, "read", {kBob}, {"*"}, "reader"));
    dir.grants.push_back(make_grant(kAlice, "write", {kTeam}, {"INBOX"}, "wi"));
    const auto d = decider.folder_rights("bob@example.com", "alice@example.com", "INBOX");
    EXPECT_EQ(d.rights.letters(), "lrswi");
    EXPECT_EQ(d.applied.size(), 2u);
}

TEST_F(DecisionTest, NestedGroupGrantCarriesItsPath) {
    dir.grants.push_back(make_grant(kSupport, "team", {kTeam}, {"*"}, "editor"));
    const auto d = decider.folder_rights("carol@example.com", "support@example.com", "INBOX");
    EXPECT_EQ(d.rights.letters(), "lrswipkxte");
    ASSERT_EQ(d.applied.size(), 1u);
    EXPECT_EQ(d.applied[0].path.group_path, (std::vector<std::string>{kLeads, kTeam}));
    EXPECT_NE(d.reason.find("through nested groups"), std::string::npos) << d.reason;
}

TEST_F(DecisionTest, OtherPeoplesGrantsGiveNothing) {
    dir.grants.push_back(make_grant(kAlice, "g", {kCarol}, {"*"}, "admin"));
    EXPECT_TRUE(decider.folder_rights("bob@example.com", "alice@example.com", "INBOX").rights.empty());
}

TEST_F(DecisionTest, ValidityWindowIsObeyed) {
    auto g = make_grant(kAlice, "vacation", {kBob}, {"INBOX"}, "reader");
    g.not_before = parse_generalized_time("20250701000000Z");
    g.not_after = parse_generalized_time("20250715000000Z");
    dir.grants.push_back(g);
    auto d = decider.folder_rights("bob@example.com", "alice@example.com", "INBOX");
    EXPECT_TRUE(d.rights.empty());
    ASSERT_EQ(d.not_applied.size(), 1u);
    EXPECT_NE(d.not_applied[0].find("not yet valid"), std::string::npos);
    clock.set_wall(*parse_generalized_time("20250710000000Z"));
    EXPECT_EQ(decider.folder_rights("bob@example.com", "alice@example.com", "INBOX").rights.letters(), "lrs");
    clock.set_wall(*parse_generalized_time("20250716000000Z"));
    d = decider.folder_rights("bob@example.com", "alice@example.com", "INBOX");
    EXPECT_TRUE(d.rights.empty());
    EXPECT_NE(d.not_applied[0].find("expired"), std::string::npos);
}

// An invitation not accepted yet gives nothing anywhere: no folder rights, no send
// right, no shared namespace; explain's reasons say "pending". Accepting (the attribute
// removed) gives it all.
TEST_F(DecisionTest, PendingInvitationGivesNothingUntilAccepted) {
    auto g = make_grant(kSupport, "invite-bob", {kBob}, {"*"}, "editor");
    g.send_as = true;
    g.pending = true;
    dir.grants.push_back(g);
    const auto rights = decider.folder_rights("bob@example.com", "support@example.com", "INBOX");
    EXPECT_TRUE(rights.rights.empty());
    ASSERT_EQ(rights.not_applied.size(), 1u);
    EXPECT_NE(rights.not_applied[0].find("pending"), std::string::npos) << rights.not_applied[0];
    const auto send = decider.sender("bob@example.com", "support@example.com");
    EXPECT_FALSE(send.allowed());
    EXPECT_FALSE(decider.may_open_mailbox("bob@example.com", "support@example.com"));
    EXPECT_TRUE(decider.sharing_with("bob@example.com").empty());
    dir.grants.back().pending = false;  // accepted
    EXPECT_EQ(decider.folder_rights("bob@example.com", "support@example.com", "INBOX").rights.letters(), "lrswipkxte");
    EXPECT_EQ(decider.sender("bob@example.com", "support@example.com").right, SenderRight::SendAs);
    EXPECT_EQ(decider.sharing_with("bob@example.com").size(), 1u);
}

TEST_F(DecisionTest, OwnerAndUnknowns) {
    EXPECT_TRUE(decider.folder_rights("alice@example.com", "a.smith@example.com", "INBOX").owner);
    EXPECT_TRUE(decider.folder_rights("nobody@example.com", "alice@example.com", "INBOX").rights.empty());
    EXPECT_TRUE(decider.folder_rights("bob@example.com", "nobody@example.com", "INBOX").rights.empty());
}

struct SenderCase {
    const char* name;
    const char* login;
    const char* address;
    SenderRight expected;
};

class SenderRights : public DecisionTest, public ::testing::WithParamInterface<SenderCase> {
protected:
    void SetUp() override {
        DecisionTest::SetUp();
        auto team = make_grant(kSupport, "team", {kTeam}, {"*"}, "editor");
        team.send_as = true;
        dir.grants.push_back(team);
        auto behalf = make_grant(kAlice, "assistant", {kBob}, {}, "");
        behalf.send_on_behalf = true;
        dir.grants.push_back(behalf);
        auto old = make_grant(kCarol, "old", {kBob}, {}, "");
        old.send_as = true;
        old.not_after = parse_generalized_time("20240101000000Z");
        dir.grants.push_back(old);
    }
};

TEST_P(SenderRights, Table) {
    const auto& c = GetParam();
    const auto d = decider.sender(c.login, c.address);
    EXPECT_EQ(d.right, c.expected) << d.reason;
    EXPECT_FALSE(d.reason.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Table, SenderRights,
    ::testing::Values(SenderCase{"null_sender", "bob@example.com", "", SenderRight::NullSender},
                      SenderCase{"own", "alice@example.com", "alice@example.com", SenderRight::Own},
                      SenderCase{"own_alias_any_case", "alice@example.com", "A.Smith@EXAMPLE.com", SenderRight::Own},
                      SenderCase{"login_equals_sender", "Bob@Example.com", "bob@example.com", SenderRight::Own},
                      SenderCase{"send_as_by_group", "bob@example.com", "support@example.com", SenderRight::SendAs},
                      SenderCase{"send_as_alias_nested", "carol@example.com", "HELP@example.com", SenderRight::SendAs},
                      SenderCase{"on_behalf", "bob@example.com", "alice@example.com", SenderRight::SendOnBehalf},
                      SenderCase{"expired", "bob@example.com", "carol@example.com", SenderRight::Denied},
                      SenderCase{"no_grant", "carol@example.com", "alice@example.com", SenderRight::Denied},
                      SenderCase{"unknown_address", "bob@example.com", "ceo@example.com", SenderRight::Denied},
                      SenderCase{"foreign_domain", "bob@example.com", "bob@example.com.evil.org", SenderRight::Denied},
                      SenderCase{"unknown_login", "mallory@example.com", "support@example.com", SenderRight::Denied},
                      SenderCase{"shared_mailbox_login", "support@example.com", "help@example.com", SenderRight::Denied},
                      SenderCase{"shared_mailbox_login_own_name", "support@example.com", "support@example.com",
                                 SenderRight::Denied}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(DecisionTest, SendAsBeatsOnBehalf) {
    auto g1 = make_grant(kAlice, "behalf", {kBob}, {}, "");
    g1.send_on_behalf = true;
    auto g2 = make_grant(kAlice, "as", {kTeam}, {}, "");
    g2.send_as = true;
    dir.grants = {g1, g2};
    const auto d = decider.sender("bob@example.com", "alice@example.com");
    EXPECT_EQ(d.right, SenderRight::SendAs);
    ASSERT_TRUE(d.via);
    EXPECT_EQ(d.via->grant_name, "as");
}

// Issue 10: Postfix's sasl_username can name a shared mailbox (a master or authzid login,
// or a password set on it by mistake). Its own address is then no free pass.
TEST_F(DecisionTest, SharedMailboxLoginIsNeverItsOwnSender) {
    for (const char* address : {"support@example.com", "SUPPORT@example.com", "help@example.com"}) {
        const auto d = decider.sender("support@example.com", address);
        EXPECT_EQ(d.right, SenderRight::Denied) << address;
        EXPECT_NE(d.reason.find("shared mailbox"), std::string::npos) << d.reason;
    }
}

// The own address is looked up like any other: LDAP down defers it (never a blind permit).
TEST_F(DecisionTest, SenderEqualToLoginStillAsksLdap) {
    EXPECT_EQ(decider.sender("Bob@Example.com", "bob@example.COM").right, SenderRight::Own);
    EXPECT_GT(dir.calls, 0);
    dir.fail = true;
    EXPECT_THROW(decider.sender("Bob@Example.com", "bob@example.COM"), LdapError);
}

TEST_F(DecisionTest, LdapErrorsPropagateAndNeverGrant) {
    dir.grants.push_back(make_grant(kAlice, "g", {kBob}, {"*"}, "admin"));
    dir.fail = true;
    EXPECT_THROW(decider.folder_rights("bob@example.com", "alice@example.com", "INBOX"), LdapError);
    EXPECT_THROW(decider.sender("bob@example.com", "alice@example.com"), LdapError);
    EXPECT_THROW(decider.sharing_with("bob@example.com"), LdapError);
}

TEST_F(DecisionTest, MayOpenMailboxAgreesWithSharingWith) {
    dir.grants.push_back(make_grant(kSupport, "team", {kTeam}, {"*"}, "editor"));
    auto send_only = make_grant(kAlice, "send", {kBob}, {}, "");
    send_only.send_as = true;
    dir.grants.push_back(send_only);
    auto expired = make_grant(kCarol, "old", {kBob}, {"*"}, "reader");
    expired.not_after = parse_generalized_time("20240101000000Z");
    dir.grants.push_back(expired);
    EXPECT_TRUE(decider.may_open_mailbox("bob@example.com", "help@example.com"));    // group, alias
    EXPECT_TRUE(decider.may_open_mailbox("carol@example.com", "support@example.com"));  // nested group
    EXPECT_FALSE(decider.may_open_mailbox("bob@example.com", "alice@example.com"));  // send right only
    EXPECT_FALSE(decider.may_open_mailbox("bob@example.com", "carol@example.com"));  // expired
    EXPECT_FALSE(decider.may_open_mailbox("bob@example.com", "bob@example.com"));    // own mailbox
    EXPECT_FALSE(decider.may_open_mailbox("nobody@example.com", "support@example.com"));
    EXPECT_FALSE(decider.may_open_mailbox("bob@example.com", "nobody@example.com"));
}

TEST_F(DecisionTest, SharingWithListsOwnersWithActiveFolderGrants) {
    dir.grants.push_back(make_grant(kAlice, "projects", {kBob}, {"Projects/*"}, "reader"));
    dir.grants.push_back(make_grant(kSupport, "team", {kTeam}, {"*"}, "editor"));
    auto expired = make_grant(kCarol, "old", {kBob}, {"*"}, "reader");
    expired.not_after = parse_generalized_time("20240101000000Z");
    dir.grants.push_back(expired);
    auto send_only = make_grant(kCarol, "send", {kBob}, {}, "");
    send_only.send_as = true;
    dir.grants.push_back(send_only);
    const auto owners = decider.sharing_with("bob@example.com");
    ASSERT_EQ(owners.size(), 2u);
    EXPECT_EQ(owners[0].owner.primary_address(), "alice@example.com");
    EXPECT_EQ(owners[1].owner.primary_address(), "support@example.com");
    EXPECT_EQ(owners[1].grants[0].path.group_path, (std::vector<std::string>{kTeam}));
}

}  // namespace
