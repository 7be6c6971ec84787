// Unit tests for shared_namespace.h: the namespace answer gives, for every mailbox and
// folder, exactly what the per-mailbox questions give (Decider::folder_rights,
// TeamMailboxes::top_level and folders_for) over a table of grants (direct, through
// nested groups, expired, pending, several patterns, a team mailbox, a grant with k on
// every folder); a mailbox whose address now names another entry (an archived owner's
// old address) is listed but not answered; it survives the wire; malformed answers are
// refused whole; the memo keeps a namespace for memo_ms only.
#include "mailgrant/shared_namespace.h"

#include <gtest/gtest.h>

#include "fakes.h"
#include "service_text.h"
#include "mailgrant/caching_directory.h"
#include "mailgrant/gentime.h"

using namespace mailgrant;
using namespace mailgrant::testing::dns;
using mailgrant::testing::make_grant;

namespace {

class SharedNamespaceTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir.add_account("alice@example.com", Account{kAlice, {"alice@example.com"}, false, {}});
        dir.add_account("bob@example.com", Account{kBob, {"bob@example.com", "robert@example.com"}, false, {}});
        dir.add_account("carol@example.com", Account{kCarol, {"carol@example.com"}, false, {}});
        dir.add_account("dave@example.com", Account{kDave, {"dave@example.com"}, false, {}});
        dir.add_account("eve@example.com", Account{kEve, {"eve@example.com"}, false, {}});
        dir.add_account("support@example.com", Account{kSupport, {"support@example.com"}, true, {}});
        // An archived entry kept its old address, which a live mailbox has now: the
        // address finds the live one (added last).
        dir.add_account("old-team", Account{kArchived, {"team@example.com"}, false, {}});
        dir.add_account("team@example.com", Account{kLiveTeam, {"team@example.com"}, true, {}});
        dir.groups[normalize_dn(kCarol)] = {{kLeads, {kLeads}}, {kTeam, {kLeads, kTeam}}};
        clock.set_wall(*parse_generalized_time("20250615120000Z"));
        auto add = [&](const std::string& owner, const std::string& name, const std::string& grantee,
                       std::vector<std::string> folders, const std::string& rights) {
            dir.grants.push_back(make_grant(owner, name, {grantee}, std::move(folders), rights));
            return &dir.grants.back();
        };
        add(kAlice, "a1", kCarol, {"INBOX", "Projects/*"}, "lrs");
        add(kAlice, "a2", kTeam, {"Projects/*", "Archive"}, "lrswi");    // through two groups
        add(kBob, "b1", kLeads, {"*"}, "lrswipkxte");                    // every folder, with k
        add(kBob, "b2", kCarol, {"Sent"}, "lr");
        add(kDave, "d1", kCarol, {"*"}, "lrs");                          // every folder, no k
        add(kEve, "e1", kCarol, {"INBOX"}, "lrs")->not_after = parse_generalized_time("20250101000000Z");  // expired
        add(kEve, "e2", kCarol, {"Drafts"}, "lr")->pending = true;
        add(kSupport, "s1", kTeam, {"INBOX", "Drafts", "Sent"}, "lrsw");  // a team mailbox
        add(kSupport, "s2", kAlice, {"*"}, "lrswipkxtea");                // someone else's
        add(kAlice, "a3", kDave, {"*"}, "lrs");                           // someone else's
        add(kCarol, "c1", kCarol, {"*"}, "lrs");                          // to oneself
        add(kArchived, "old", kCarol, {"*"}, "lrswipkxte");               // below the archived entry
    }
    const std::string kArchived = "uid=old-team,ou=archive,dc=example,dc=com";
    const std::string kLiveTeam = "uid=team,ou=people,dc=example,dc=com";
    mailgrant::testing::FakeDirectory dir;
    ManualClock clock;
    Decider decider{dir, clock};
    TeamMailboxConfig config;
    TeamMailboxes team{config, dir, decider};
};

const char* const kFolders[] = {"INBOX", "Drafts", "Sent", "Trash", "Projects", "Projects/2025",
                                "Projects/2025/q1", "Archive", "Archive/old", "*", "Other"};

TEST_F(SharedNamespaceTest, EveryAnswerEqualsThePerMailboxQuestion) {
    // Owners' addresses asked one by one, and settled in one batch (mailboxes_by_address).
    for (bool settle : {false, true}) {
        SCOPED_TRACE(settle ? "addresses settled in one batch" : "each address asked");
        dir.settle_addresses = settle;
        const auto mailboxes = shared_namespace("carol@example.com", dir, decider, team);
        std::vector<std::string> addresses;
        for (const auto& m : mailboxes) addresses.push_back(m.address);
        std::vector<std::string> owners;
        for (const auto& o : decider.sharing_with("carol@example.com")) owners.push_back(o.owner.primary_address());
        EXPECT_EQ(addresses, owners);
        EXPECT_EQ(addresses, (std::vector<std::string>{"alice@example.com", "bob@example.com", "dave@example.com",
                                                       "support@example.com", "team@example.com"}));
        // team@ is listed (as before: the shared namespace shows it) but not answered: its
        // address finds the live mailbox, whose grants give carol nothing; the archived
        // entry's grant must not answer for it.
        ASSERT_FALSE(mailboxes.back().answered);
        EXPECT_TRUE(mailboxes.back().patterns.empty());
        EXPECT_EQ(decider.folder_rights("carol@example.com", "team@example.com", "INBOX").rights.letters(), "");
        NamespaceMemo memo(std::chrono::milliseconds(500));
        const NamespaceMemo::Clock::time_point t0{std::chrono::seconds(1)};
        memo.put("carol@example.com", mailboxes, t0);
        EXPECT_EQ(memo.find("carol@example.com", "team@example.com", t0), nullptr);
        EXPECT_FALSE(memo.listed("carol@example.com", "team@example.com"));
        EXPECT_NE(memo.find("carol@example.com", "alice@example.com", t0), nullptr);
        int granted = 0;
        for (const auto& m : mailboxes) {
            if (!m.answered) continue;
            for (const char* folder : kFolders) {
                const FolderDecision d = decider.folder_rights("carol@example.com", m.address, folder);
                EXPECT_EQ(folder_letters(m, folder), d.rights.letters()) << m.address << " " << folder << ": " << d.reason;
                granted += d.rights.letters().empty() ? 0 : 1;
            }
            const TopLevelDecision top = team.top_level("carol@example.com", m.address);
            EXPECT_EQ(m.root_rights.letters(), top.root_rights.letters()) << m.address;
            EXPECT_EQ(m.root_reason, top.reason);
            const TeamFoldersDecision folders = team.folders_for("carol@example.com", m.address);
            EXPECT_EQ(m.team, folders.team) << m.address;
            EXPECT_EQ(m.team_reason, folders.reason);
            ASSERT_EQ(m.team_folders.size(), folders.folders.size());
            for (std::size_t i = 0; i < folders.folders.size(); ++i) {
                EXPECT_EQ(m.team_folders[i].name, folders.folders[i].name);
                EXPECT_EQ(m.team_folders[i].special_use, folders.folders[i].special_use);
            }
        }
        EXPECT_GT(granted, 20);  // the table gives rights on many folders: the comparison compares something
        EXPECT_EQ(mailboxes[1].root_rights.letters(), "k");  // bob: '*' with k through nested groups
        EXPECT_EQ(mailboxes[2].root_rights.letters(), "");   // dave: '*' without k
        EXPECT_TRUE(mailboxes[3].team);
        EXPECT_FALSE(mailboxes[0].team);
    }
}

// The owners' addresses checked in one batch is an optimisation: a batch the server
// refuses (an "Other" LDAP error: a limit, a filter it will not run) leaves each owner to
// its own question, with the same answer; LDAP down fails the whole namespace (temporary).
TEST_F(SharedNamespaceTest, ABatchTheServerRefusesFallsBackToEachAddress) {
    dir.settle_addresses = true;
    const auto expected = shared_namespace("carol@example.com", dir, decider, team);
    dir.address_batch_error = LdapErrorKind::Other;
    const auto fallback = shared_namespace("carol@example.com", dir, decider, team);
    ASSERT_EQ(fallback.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(fallback[i].address, expected[i].address);
        EXPECT_EQ(fallback[i].answered, expected[i].answered) << expected[i].address;
        EXPECT_EQ(fallback[i].patterns.size(), expected[i].patterns.size()) << expected[i].address;
    }
    dir.address_batch_error = LdapErrorKind::Unavailable;
    EXPECT_THROW(shared_namespace("carol@example.com", dir, decider, team), LdapError);
}

TEST_F(SharedNamespaceTest, OverACacheTheMailboxesCostNoReadsAfterTheFirst) {
    CacheConfig cache;
    CachingDirectory cached(dir, cache, clock, "ou=people,dc=example,dc=com");
    Decider d(cached, clock);
    TeamMailboxes t(config, cached, d);
    d.sharing_with("carol@example.com");  // the one batched read of the login's grants
    const int after_sharing = dir.calls;
    shared_namespace("carol@example.com", cached, d, t);
    // Every per-mailbox decision came from what that read cached, except the address of
    // the archived owner (outside the users base): read once, to find it names another.
    EXPECT_EQ(dir.calls, after_sharing + 1);
    // And no read of every grant of a mailbox (TeamMailboxes::top_level used to).
    EXPECT_EQ(dir.grants_of_calls, 0);
}

TEST_F(SharedNamespaceTest, SurvivesTheWire) {
    auto mailboxes = shared_namespace("carol@example.com", dir, decider, team);
    mailboxes[0].root_reason = "odd\treason\nwith 100% control";
    mailboxes[0].patterns.emplace_back("Tab\there", *Rights::from_letters("l"));
    ASSERT_FALSE(mailboxes.back().answered);  // an "owner" line on the wire
    ServiceReply reply;
    reply.status = ServiceReply::Status::Ok;
    add_namespace_items(mailboxes, reply);
    bool complete = false;
    const auto back = namespace_from(mailgrant::testing::read_reply_text(format_reply(reply), complete));
    EXPECT_TRUE(complete);
    ASSERT_EQ(back.size(), mailboxes.size());
    for (std::size_t i = 0; i < back.size(); ++i) {
        EXPECT_EQ(back[i].address, mailboxes[i].address);
        EXPECT_EQ(back[i].answered, mailboxes[i].answered);
        EXPECT_EQ(back[i].patterns, mailboxes[i].patterns);
        EXPECT_EQ(back[i].root_rights.letters(), mailboxes[i].root_rights.letters());
        EXPECT_EQ(back[i].root_reason, mailboxes[i].root_reason);
        EXPECT_EQ(back[i].team, mailboxes[i].team);
        EXPECT_EQ(back[i].team_reason, mailboxes[i].team_reason);
        EXPECT_EQ(back[i].team_folders.size(), mailboxes[i].team_folders.size());
    }
}

struct MalformedCase {
    const char* name;
    std::vector<std::vector<std::string>> items;
};

class Malformed : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(Malformed, IsRefusedWhole) {
    ServiceReply reply;
    reply.status = ServiceReply::Status::Ok;
    reply.items = GetParam().items;
    EXPECT_THROW(namespace_from(reply), ProtocolError);
}

INSTANTIATE_TEST_SUITE_P(
    Answers, Malformed,
    ::testing::Values(
        MalformedCase{"PatternFirst", {{"pattern", "*", "lr"}}},
        MalformedCase{"FolderFirst", {{"folder", "Drafts", "\\Drafts"}}},
        MalformedCase{"UnknownKind", {{"mailbox", "a@x", "", "", "0", ""}, {"grant", "*", "lr"}}},
        MalformedCase{"EmptyItem", {{}}},
        MalformedCase{"ShortMailbox", {{"mailbox", "a@x", "", "", "0"}}},
        MalformedCase{"NoAddress", {{"mailbox", "", "", "", "0", ""}}},
        MalformedCase{"TeamNotABit", {{"mailbox", "a@x", "", "", "yes", ""}}},
        MalformedCase{"RootNotLetters", {{"mailbox", "a@x", "kz", "", "0", ""}}},
        MalformedCase{"PatternNotLetters", {{"mailbox", "a@x", "", "", "0", ""}, {"pattern", "*", "lr?"}}},
        MalformedCase{"PatternShort", {{"mailbox", "a@x", "", "", "0", ""}, {"pattern", "*"}}},
        MalformedCase{"FolderOfNoTeam", {{"mailbox", "a@x", "", "", "0", ""}, {"folder", "Drafts", "\\Drafts"}}},
        MalformedCase{"PatternOfAnUnansweredOwner", {{"owner", "a@x"}, {"pattern", "*", "lr"}}},
        MalformedCase{"OwnerWithoutAddress", {{"owner", ""}}},
        MalformedCase{"OwnerLong", {{"owner", "a@x", "lr"}}}),
    [](const ::testing::TestParamInfo<MalformedCase>& info) { return std::string(info.param.name); });

TEST(NamespaceMemo, KeepsANamespaceForItsTimeOnly) {
    using std::chrono::milliseconds;
    const NamespaceMemo::Clock::time_point t0{std::chrono::seconds(100)};
    NamespaceMemo memo(milliseconds(500));
    SharedMailbox m;
    m.address = "alice@example.com";
    memo.put("carol", {m}, t0);
    EXPECT_NE(memo.find("carol", "alice@example.com", t0 + milliseconds(499)), nullptr);
    EXPECT_EQ(memo.find("carol", "alice@example.com", t0 + milliseconds(500)), nullptr);
    EXPECT_EQ(memo.find("carol", "bob@example.com", t0), nullptr);
    EXPECT_EQ(memo.find("dave", "alice@example.com", t0), nullptr);
    EXPECT_EQ(memo.find("carol", "alice@example.com", t0 - milliseconds(1)), nullptr);  // a clock that went back
    memo.forget();
    EXPECT_EQ(memo.find("carol", "alice@example.com", t0), nullptr);

    NamespaceMemo off(milliseconds(0));
    off.put("carol", {m}, t0);
    EXPECT_EQ(off.find("carol", "alice@example.com", t0), nullptr);

    for (int i = 0; i < 40; ++i) memo.put("user" + std::to_string(i), {m}, t0);  // bounded
    EXPECT_NE(memo.find("user39", "alice@example.com", t0), nullptr);
}

}  // namespace
