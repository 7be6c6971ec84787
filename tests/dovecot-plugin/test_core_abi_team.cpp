// Unit tests for the team-mailbox entries of the Dovecot plugin's C ABI (mailgrant-core.h:
// mailgrant_core_root_rights, mailgrant_core_team_folders): the C side gets the core's
// answer as letters / callbacks plus a one-line reason, LDAP trouble is an error that
// grants nothing and opens the breaker, missing names are bad input, nothing throws.
// The decisions are tested in tests/core/test_team_mailbox.cpp; end to end in
// test_team_mailbox.py.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "../core/fakes.h"
#include "core_abi_testing.h"
#include "mailgrant/gentime.h"

using namespace mailgrant;

namespace {

using mailgrant::testing::dns::kBob;
using mailgrant::testing::dns::kEve;
using mailgrant::testing::dns::kAlice;
using mailgrant::testing::dns::kSupport;

using Folders = std::vector<std::pair<std::string, std::string>>;

void collect(void* context, const char* name, const char* special_use) {
    static_cast<Folders*>(context)->emplace_back(name, special_use);
}

class CoreAbiTeam : public ::testing::Test {
protected:
    void SetUp() override {
        dir.add_account("bob@example.com", Account{kBob, {"bob@example.com"}, false});
        dir.add_account("eve@example.com", Account{kEve, {"eve@example.com"}, false});
        dir.add_account("alice@example.com", Account{kAlice, {"alice@example.com"}, false});
        dir.add_account("support@example.com", Account{kSupport, {"support@example.com"}, true});
        dir.grants.push_back(mailgrant::testing::make_grant(kSupport, "team", {kBob}, {"*"}, "editor"));
        dir.grants.push_back(mailgrant::testing::make_grant(kSupport, "readers", {kEve}, {"*"}, "reader"));
        dir.grants.push_back(mailgrant::testing::make_grant(kAlice, "projects", {kBob}, {"Projects"}, "reader"));
        clock.set_wall(*parse_generalized_time("20250615120000Z"));
        CacheConfig cache;
        cache.ttl_s = 0;
        cache.negative_ttl_s = 5;
        core = mailgrant_core_for_testing(dir, clock, cache);
    }
    void TearDown() override { mailgrant_core_close(core); }

    int root(const char* login, const char* mailbox, std::string& letters, std::string& message) {
        char l[32] = "junk", m[512] = "junk";
        const int rc = mailgrant_core_root_rights(core, login, mailbox, l, sizeof l, m, sizeof m);
        letters = l;
        message = m;
        return rc;
    }
    int folders(const char* login, const char* mailbox, Folders& out, std::string& message) {
        char m[512] = "junk";
        const int rc = mailgrant_core_team_folders(core, login, mailbox, collect, &out, m, sizeof m);
        message = m;
        return rc;
    }

    mailgrant::testing::FakeDirectory dir;
    ManualClock clock;
    mailgrant_core* core = nullptr;
};

TEST_F(CoreAbiTeam, RootRightsAreKForAnEditorOnStarAndNothingForAReader) {
    std::string letters, message;
    EXPECT_EQ(root("bob@example.com", "support@example.com", letters, message), 0);
    EXPECT_EQ(letters, "k");
    EXPECT_NE(message.find("'bob@example.com' may create top-level folders in support@example.com"),
              std::string::npos)
        << message;
    EXPECT_EQ(root("eve@example.com", "support@example.com", letters, message), 0);
    EXPECT_EQ(letters, "");
    EXPECT_NE(message.find("covers every folder but gives only lrs"), std::string::npos) << message;
    EXPECT_EQ(root("alice@example.com", "alice@example.com", letters, message), 0);
    EXPECT_EQ(letters, "");  // the owner: Dovecot's own rights
}

TEST_F(CoreAbiTeam, TeamFoldersOnlyForSharedMailboxesWithAGrant) {
    Folders seen;
    std::string message;
    EXPECT_EQ(folders("bob@example.com", "support@example.com", seen, message), 1);
    EXPECT_EQ(seen, (Folders{{"Drafts", "\\Drafts"}, {"Sent", "\\Sent"}, {"Trash", "\\Trash"}, {"Junk", "\\Junk"}}));
    seen.clear();
    EXPECT_EQ(folders("bob@example.com", "alice@example.com", seen, message), 0);
    EXPECT_TRUE(seen.empty());
    EXPECT_NE(message.find("not a shared mailbox"), std::string::npos) << message;
    EXPECT_EQ(folders("alice@example.com", "support@example.com", seen, message), 0);
    EXPECT_TRUE(seen.empty());
}

TEST_F(CoreAbiTeam, LdapTroubleGrantsNothingAndOpensTheBreaker) {
    dir.fail = true;
    std::string letters, message;
    Folders seen;
    EXPECT_EQ(root("bob@example.com", "support@example.com", letters, message), -1);
    EXPECT_EQ(letters, "");
    EXPECT_NE(message.find("LDAP"), std::string::npos) << message;
    const int calls = dir.calls;
    dir.fail = false;  // LDAP is back, but the breaker is open for negative_ttl_s
    EXPECT_EQ(folders("bob@example.com", "support@example.com", seen, message), -1);
    EXPECT_TRUE(seen.empty());
    EXPECT_EQ(dir.calls, calls);  // answered without asking the directory
    clock.advance(6);
    EXPECT_EQ(folders("bob@example.com", "support@example.com", seen, message), 1);
    EXPECT_EQ(seen.size(), 4u);
}

TEST_F(CoreAbiTeam, MissingNamesAndMissingConfigurationAreErrors) {
    std::string letters, message;
    Folders seen;
    EXPECT_EQ(root(nullptr, "support@example.com", letters, message), MAILGRANT_CORE_BAD_INPUT);
    EXPECT_EQ(folders("bob@example.com", nullptr, seen, message), MAILGRANT_CORE_BAD_INPUT);
    char l[8] = "junk", m[256];
    EXPECT_EQ(mailgrant_core_root_rights(nullptr, "bob@example.com", "support@example.com", l, sizeof l, m, sizeof m),
              -1);
    EXPECT_STREQ(l, "");
    EXPECT_EQ(mailgrant_core_team_folders(nullptr, "bob@example.com", "support@example.com", collect, &seen, m,
                                          sizeof m),
              -1);
    EXPECT_TRUE(seen.empty());
}

}  // namespace
