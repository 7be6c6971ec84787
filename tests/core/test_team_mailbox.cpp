// Unit tests for team_mailbox.h over an in-memory directory: which grants let a person
// create top-level folders of a mailbox (table), which mailboxes get special-use folders
// (table), the folder names and flags from the config, and that LDAP trouble propagates.
#include "mailgrant/team_mailbox.h"

#include <gtest/gtest.h>

#include "fakes.h"
#include "mailgrant/gentime.h"
#include "mailgrant/ldap_error.h"

using namespace mailgrant;

namespace {

using mailgrant::testing::dns::kAlice;
using mailgrant::testing::dns::kBob;
using mailgrant::testing::dns::kCarol;
using mailgrant::testing::dns::kSupport;
using mailgrant::testing::dns::kTeam;
using mailgrant::testing::dns::kLeads;

using mailgrant::testing::make_grant;

class TeamMailboxTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir.add_account("alice@example.com", Account{kAlice, {"alice@example.com"}, false, {}});
        dir.add_account("bob@example.com", Account{kBob, {"bob@example.com"}, false, {}});
        dir.add_account("carol@example.com", Account{kCarol, {"carol@example.com"}, false, {}});
        dir.add_account("support@example.com", Account{kSupport, {"support@example.com", "help@example.com"}, true, {}});
        // carol is in leads, leads is in team.
        dir.groups[normalize_dn(kCarol)] = {{kLeads, {kLeads}}, {kTeam, {kLeads, kTeam}}};
        clock.set_wall(*parse_generalized_time("20250615120000Z"));
    }
    mailgrant::testing::FakeDirectory dir;
    ManualClock clock;
    Decider decider{dir, clock};
    TeamMailboxConfig config;
    TeamMailboxes team{config, dir, decider};
};

// ---- may a grantee create top-level folders? ----
struct GrantSpec {
    std::string grantee;
    std::vector<std::string> folders;
    std::string rights;
    std::string not_after;  // "" = open-ended
};

struct TopLevelCase {
    const char* name;
    std::vector<GrantSpec> grants;  // all below support@
    const char* login;
    bool may_create;
    const char* reason_has;
};

class TopLevel : public TeamMailboxTest, public ::testing::WithParamInterface<TopLevelCase> {};

TEST_P(TopLevel, Decides) {
    const TopLevelCase& c = GetParam();
    int n = 0;
    for (const GrantSpec& spec : c.grants) {
        Grant g = make_grant(kSupport, "g" + std::to_string(n++), {spec.grantee}, spec.folders, spec.rights);
        if (!spec.not_after.empty()) g.not_after = parse_generalized_time(spec.not_after);
        dir.grants.push_back(g);
    }
    const TopLevelDecision d = team.top_level(c.login, "support@example.com");
    EXPECT_EQ(d.may_create, c.may_create) << d.reason;
    EXPECT_EQ(d.root_rights.letters(), c.may_create ? "k" : "") << d.reason;
    EXPECT_FALSE(d.owner);
    EXPECT_NE(d.reason.find(c.reason_has), std::string::npos) << d.reason;
    EXPECT_NE(d.reason.find(c.may_create ? "may create top-level folders in support@example.com"
                                         : "may not create top-level folders in support@example.com"),
              std::string::npos)
        << d.reason;
}

INSTANTIATE_TEST_SUITE_P(
    Grants, TopLevel,
    ::testing::Values(
        TopLevelCase{"EditorOnStar", {{kBob, {"*"}, "editor", ""}}, "bob@example.com", true,
                     "grant 'g0' (cn=g0,uid=support,ou=people,dc=example,dc=com) to the user directly covers every "
                     "folder ('*') with rights lrswipkxte"},
        TopLevelCase{"AdminOnStarThroughNestedGroups", {{kTeam, {"*"}, "admin", ""}}, "carol@example.com", true,
                     "through nested groups"},
        TopLevelCase{"LettersWithK", {{kBob, {"INBOX", "*"}, "lk", ""}}, "bob@example.com", true, "rights lk"},
        TopLevelCase{"DoubleStarCoversEverything", {{kBob, {"**"}, "editor", ""}}, "bob@example.com", true,
                     "covers every folder"},
        TopLevelCase{"ReaderOnStar", {{kBob, {"*"}, "reader", ""}}, "bob@example.com", false,
                     "covers every folder but gives only lrs"},
        TopLevelCase{"PercentIsTopLevelOnly", {{kBob, {"%"}, "editor", ""}}, "bob@example.com", false,
                     "no valid grant of theirs covers every folder ('*')"},
        TopLevelCase{"InboxOnly", {{kBob, {"INBOX", "INBOX/*"}, "editor", ""}}, "bob@example.com", false,
                     "no valid grant of theirs covers every folder"},
        TopLevelCase{"ReaderOnStarAndEditorBelowProjects",
                     {{kBob, {"*"}, "reader", ""}, {kBob, {"Projects/*"}, "editor", ""}}, "bob@example.com", false,
                     "gives only lrs"},
        TopLevelCase{"ReaderOnStarAndEditorOnStarViaGroup",
                     {{kCarol, {"*"}, "reader", ""}, {kTeam, {"*"}, "editor", ""}}, "carol@example.com", true,
                     "grant 'g1'"},
        TopLevelCase{"ExpiredEditorOnStar", {{kBob, {"*"}, "editor", "20250101000000Z"}}, "bob@example.com", false,
                     "no valid grant of theirs"},
        TopLevelCase{"SomeoneElsesGrant", {{kCarol, {"*"}, "editor", ""}}, "bob@example.com", false,
                     "no valid grant of theirs"},
        TopLevelCase{"UnknownLogin", {{kBob, {"*"}, "editor", ""}}, "nobody@example.com", false,
                     "'nobody@example.com' is not known in LDAP"}),
    [](const ::testing::TestParamInfo<TopLevelCase>& info) { return std::string(info.param.name); });

TEST_F(TeamMailboxTest, TheOwnerIsLeftToDovecot) {
    dir.grants.push_back(make_grant(kAlice, "g", {kBob}, {"*"}, "editor"));
    const TopLevelDecision d = team.top_level("alice@example.com", "alice@example.com");
    EXPECT_TRUE(d.owner);
    EXPECT_FALSE(d.may_create);
    EXPECT_TRUE(d.root_rights.empty());
}

TEST_F(TeamMailboxTest, UnknownMailboxGivesNothing) {
    const TopLevelDecision d = team.top_level("bob@example.com", "nobody@example.com");
    EXPECT_FALSE(d.may_create);
    EXPECT_NE(d.reason.find("no mailbox 'nobody@example.com'"), std::string::npos) << d.reason;
}

TEST(PatternCoversEveryFolder, Table) {
    const std::vector<std::pair<const char*, bool>> cases{
        {"*", true}, {"**", true}, {"%", false}, {"%*", false}, {"*/%", false}, {"", false},
        {"INBOX", false}, {"INBOX/*", false}, {"Projects*", false}};
    for (const auto& [pattern, covers] : cases) EXPECT_EQ(pattern_covers_every_folder(pattern), covers) << pattern;
}

// ---- which mailboxes get special-use folders ----
struct FoldersCase {
    const char* name;
    const char* owner_dn;
    std::vector<std::string> folders;  // the grant's folders ({} = a send-only grant)
    const char* grant_rights;
    const char* login;
    const char* mailbox;
    bool team;
    const char* reason_has;
};

class TeamFolders : public TeamMailboxTest, public ::testing::WithParamInterface<FoldersCase> {};

TEST_P(TeamFolders, Decides) {
    const FoldersCase& c = GetParam();
    Grant g = make_grant(c.owner_dn, "g", {kTeam}, c.folders, c.grant_rights);
    if (c.folders.empty()) g.send_as = true;
    dir.grants.push_back(g);
    const TeamFoldersDecision d = team.folders_for(c.login, c.mailbox);
    EXPECT_EQ(d.team, c.team) << d.reason;
    EXPECT_EQ(d.folders.size(), c.team ? 4u : 0u);
    EXPECT_NE(d.reason.find(c.reason_has), std::string::npos) << d.reason;
}

INSTANTIATE_TEST_SUITE_P(
    Mailboxes, TeamFolders,
    ::testing::Values(
        FoldersCase{"MemberOfSharedMailbox", kSupport.c_str(), {"*"}, "editor", "carol@example.com",
                    "support@example.com", true, "is a shared mailbox"},
        FoldersCase{"ReaderOnInboxOnlyStillGetsThem", kSupport.c_str(), {"INBOX"}, "lr", "carol@example.com",
                    "support@example.com", true, "holds a grant"},
        FoldersCase{"ByAlias", kSupport.c_str(), {"*"}, "reader", "carol@example.com", "help@example.com", true,
                    "is a shared mailbox"},
        FoldersCase{"PersonsMailbox", kAlice.c_str(), {"*"}, "editor", "carol@example.com", "alice@example.com",
                    false, "is not a shared mailbox"},
        FoldersCase{"NoGrant", kSupport.c_str(), {"*"}, "editor", "bob@example.com", "support@example.com", false,
                    "holds no valid folder grant"},
        FoldersCase{"SendOnlyGrant", kSupport.c_str(), {}, "", "carol@example.com", "support@example.com", false,
                    "holds no valid folder grant"},
        FoldersCase{"UnknownMailbox", kSupport.c_str(), {"*"}, "editor", "carol@example.com",
                    "nobody@example.com", false, "no mailbox 'nobody@example.com'"}),
    [](const ::testing::TestParamInfo<FoldersCase>& info) { return std::string(info.param.name); });

TEST_F(TeamMailboxTest, FolderNamesAndFlagsComeFromTheConfig) {
    config.sent = "Sent Items";
    config.junk = "Spam";
    dir.grants.push_back(make_grant(kSupport, "g", {kTeam}, {"*"}, "editor"));
    const TeamFoldersDecision d = team.folders_for("carol@example.com", "support@example.com");
    ASSERT_TRUE(d.team) << d.reason;
    ASSERT_EQ(d.folders.size(), 4u);
    const std::vector<std::pair<std::string, std::string>> expected{
        {"Drafts", "\\Drafts"}, {"Sent Items", "\\Sent"}, {"Trash", "\\Trash"}, {"Spam", "\\Junk"}};
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(d.folders[i].name, expected[i].first);
        EXPECT_EQ(d.folders[i].special_use, expected[i].second);
    }
}

TEST(TeamSpecialFolders, AFolderNamedTwiceIsOneFolderWithBothFlags) {
    TeamMailboxConfig config;
    config.junk = "Trash";
    const std::vector<SpecialFolder> folders = team_special_folders(config);
    ASSERT_EQ(folders.size(), 3u);
    EXPECT_EQ(folders[2].name, "Trash");
    EXPECT_EQ(folders[2].special_use, "\\Trash \\Junk");
}

TEST_F(TeamMailboxTest, LdapTroublePropagatesAndNeverDecides) {
    dir.grants.push_back(make_grant(kSupport, "g", {kTeam}, {"*"}, "editor"));
    dir.fail = true;
    EXPECT_THROW(team.top_level("carol@example.com", "support@example.com"), LdapError);
    EXPECT_THROW(team.folders_for("carol@example.com", "support@example.com"), LdapError);
}

}  // namespace
