// Unit tests for directory.h against a recording searcher: which filters are sent, that
// values are escaped, how groups nest, and that ambiguity is an error.
#include "mailgrant/directory.h"

#include <gtest/gtest.h>

#include <ldap.h>

#include <functional>

#include "fakes.h"
#include "mailgrant/bad_input.h"
#include "mailgrant/config.h"
#include "mailgrant/ldap_error.h"
#include "mailgrant/ldap_filter.h"
#include "mailgrant/warnings.h"

using namespace mailgrant;
using mailgrant::testing::entry;
using mailgrant::testing::RecordingSearcher;

namespace {

class DirectoryTest : public ::testing::Test {
protected:
    DirectoryTest() { config.ldap.base = "dc=example,dc=com"; }
    Config config;
    RecordingSearcher ldap;
};

TEST_F(DirectoryTest, LoginFilterEscapesInjection) {
    LdapDirectory dir(config, ldap);
    EXPECT_FALSE(dir.find_login("*)(uid=*"));
    ASSERT_EQ(ldap.requests.size(), 1u);
    EXPECT_EQ(ldap.requests[0].filter,
              "(&(objectClass=inetOrgPerson)(|(uid=\\2a\\29\\28uid=\\2a)(mail=\\2a\\29\\28uid=\\2a)))");
    EXPECT_EQ(ldap.requests[0].base, "dc=example,dc=com");
}

TEST_F(DirectoryTest, AccountCollectsMailAndAliasesAndSharedFlag) {
    ldap.answer = [](const SearchRequest&) {
        return std::vector<LdapEntry>{entry("uid=support,dc=example,dc=com",
                                            {{"objectClass", {"inetOrgPerson", "MailSharedMailbox"}},
                                             {"mail", {"support@example.com"}},
                                             {"mailLocalAddress", {"help@example.com", "SUPPORT@example.com"}}})};
    };
    LdapDirectory dir(config, ldap);
    const auto a = dir.find_mailbox("help@example.com");
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->shared_mailbox);
    EXPECT_EQ(a->addresses, (std::vector<std::string>{"support@example.com", "help@example.com"}));
    EXPECT_TRUE(a->owns_address("Help@Example.COM"));
    EXPECT_EQ(ldap.requests[0].filter, "(|(mail=help@example.com)(mailLocalAddress=help@example.com))");
}

TEST_F(DirectoryTest, MailboxByDnIsABaseSearch) {
    LdapDirectory dir(config, ldap);
    dir.find_mailbox("uid=alice,ou=people,dc=example,dc=com");
    ASSERT_EQ(ldap.requests.size(), 1u);
    EXPECT_EQ(ldap.requests[0].scope, SearchScope::Base);
    EXPECT_EQ(ldap.requests[0].base, "uid=alice,ou=people,dc=example,dc=com");
}

TEST_F(DirectoryTest, AmbiguousLoginIsAnErrorNotAChoice) {
    ldap.answer = [](const SearchRequest&) {
        return std::vector<LdapEntry>{entry("uid=a,dc=x", {{"mail", {"a@x"}}}), entry("uid=b,dc=x", {{"mail", {"a@x"}}})};
    };
    LdapDirectory dir(config, ldap);
    EXPECT_THROW(dir.find_login("a@x"), LdapError);
}

// Issue 10, part 4: input that can never be found is BadInput (the client's mistake,
// 5.7.1), never LdapError (4xx, counted as LDAP trouble, opens the plugin's breaker), and
// costs no search.
struct BadInputCase {
    const char* name;
    std::function<void(Directory&)> call;
    const char* expected;  // substring of the message
};

class DirectoryBadInput : public DirectoryTest, public ::testing::WithParamInterface<BadInputCase> {};

TEST_P(DirectoryBadInput, RefusedBeforeSearching) {
    const auto& c = GetParam();
    LdapDirectory dir(config, ldap);
    try {
        c.call(dir);
        ADD_FAILURE() << "expected BadInput";
    } catch (const BadInput& e) {
        EXPECT_NE(std::string(e.what()).find(c.expected), std::string::npos) << e.what();
    }
    EXPECT_TRUE(ldap.requests.empty());
}

const std::string k321(321, 'a');
const std::string kAddress321 = std::string(309, 'a') + "@example.com";

INSTANTIATE_TEST_SUITE_P(
    Table, DirectoryBadInput,
    ::testing::Values(
        BadInputCase{"long_login", [](Directory& d) { d.find_login(k321); }, "login is longer than 320"},
        BadInputCase{"empty_login", [](Directory& d) { d.find_login(""); }, "empty login"},
        BadInputCase{"login_newline", [](Directory& d) { d.find_login("bob\n@example.com"); }, "control character"},
        BadInputCase{"long_address", [](Directory& d) { d.find_mailbox(kAddress321); }, "longer than 320"},
        BadInputCase{"empty_address", [](Directory& d) { d.find_mailbox(""); }, "empty"},
        // DN-shaped but no DN ("c@example.com" is no RDN): no base search on it.
        BadInputCase{"dn_shaped_address", [](Directory& d) { d.find_mailbox("a=b,c@example.com"); }, "not a valid DN"},
        BadInputCase{"dn_too_long", [](Directory& d) { d.find_mailbox("uid=" + std::string(1100, 'x') + ",dc=x"); },
                     "longer than 1024"},
        // A client's address is never read as a DN, even a valid one.
        BadInputCase{"address_given_as_dn",
                     [](Directory& d) { d.find_address("uid=alice,ou=people,dc=example,dc=com"); },
                     "shape of an LDAP DN"},
        BadInputCase{"address_dn_shaped", [](Directory& d) { d.find_address("a=b,c@example.com"); }, "shape of an LDAP DN"},
        BadInputCase{"address_long", [](Directory& d) { d.find_address(kAddress321); }, "longer than 320"},
        BadInputCase{"grants_of_no_dn", [](Directory& d) { d.grants_of("alice@example.com"); }, "not a valid DN"}),
    [](const auto& info) { return std::string(info.param.name); });

// What BadInput must not take away: names of legal size and shape are searched.
TEST_F(DirectoryTest, LimitsLetLegalNamesThrough) {
    LdapDirectory dir(config, ldap);
    EXPECT_FALSE(dir.find_login(std::string(320, 'a')));
    EXPECT_FALSE(dir.find_address(std::string(308, 'a') + "@example.com"));   // 320 in all
    EXPECT_FALSE(dir.find_address("srs0=hash=tt=example.org=bob@example.com"));  // '=' but no DN
    EXPECT_FALSE(dir.find_mailbox("uid=" + std::string(600, 'x') + ",dc=x"));    // a long DN from LDAP
    EXPECT_EQ(ldap.requests.size(), 4u);
}

// A DN libldap parses but slapd refuses (unknown attribute type) is the asker's mistake.
TEST_F(DirectoryTest, DnTheServerRefusesIsBadInput) {
    ldap.answer = [](const SearchRequest&) -> std::vector<LdapEntry> {
        throw LdapError(LdapErrorKind::Other, 34, "invalid DN syntax");
    };
    LdapDirectory dir(config, ldap);
    EXPECT_THROW(dir.find_mailbox("foo=bar,baz=qux"), BadInput);
    // Any other LDAP error stays an LDAP error.
    ldap.answer = [](const SearchRequest&) -> std::vector<LdapEntry> {
        throw LdapError(LdapErrorKind::Unavailable, -1, "down");
    };
    EXPECT_THROW(dir.find_mailbox("uid=alice,dc=x"), LdapError);
    EXPECT_THROW(dir.find_mailbox("alice@example.com"), LdapError);
}

// Issue 10, part 2: a grant that cannot be one (no usable parent) is left out and named
// in one warning; the other grants of the same search are returned.
TEST_F(DirectoryTest, GrantWithoutUsableOwnerSkipsOnlyItself) {
    ldap.answer = [](const SearchRequest&) {
        return std::vector<LdapEntry>{
            entry("cn=lonely", {{"mailGrantee", {"uid=bob,dc=x"}}, {"mailGrantFolder", {"*"}}, {"mailGrantRights", {"reader"}}}),
            entry("cn=good,uid=alice,dc=x",
                  {{"mailGrantee", {"uid=bob,dc=x"}}, {"mailGrantFolder", {"*"}}, {"mailGrantRights", {"reader"}}})};
    };
    std::vector<Warning> warnings;
    ScopedWarningSink sink([&](const Warning& w) { warnings.push_back(w); });
    LdapDirectory dir(config, ldap);
    const auto grants = dir.grants_to({"uid=bob,dc=x"});
    ASSERT_EQ(grants.size(), 1u);
    EXPECT_EQ(grants[0].dn, "cn=good,uid=alice,dc=x");
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_EQ(warnings[0].entry_dn, "cn=lonely");
    EXPECT_NE(warnings[0].text.find("cn=lonely"), std::string::npos) << warnings[0].text;
}

// Groups as a graph: member lists by group DN. A <-> B is a cycle; C is nested 3 deep.
std::vector<LdapEntry> answer_groups(const SearchRequest& r) {
    const std::map<std::string, std::vector<std::string>> groups{
        {"cn=a,dc=x", {"uid=u,dc=x", "cn=b,dc=x"}},
        {"cn=b,dc=x", {"cn=a,dc=x"}},
        {"cn=c,dc=x", {"cn=b,dc=x"}},
        {"cn=d,dc=x", {"cn=c,dc=x"}},
    };
    std::vector<LdapEntry> out;
    for (const auto& [dn, members] : groups)
        for (const auto& m : members)
            if (r.filter.find("(member=" + m + ")") != std::string::npos) {
                out.push_back(entry(dn, {{"member", members}}));
                break;
            }
    return out;
}

TEST_F(DirectoryTest, NestedGroupsWithCycleAndPaths) {
    ldap.answer = answer_groups;
    LdapDirectory dir(config, ldap);
    const auto groups = dir.groups_of("uid=u,dc=x");
    ASSERT_EQ(groups.size(), 4u);
    EXPECT_EQ(groups[0].dn, "cn=a,dc=x");
    EXPECT_EQ(groups[0].path, (std::vector<std::string>{"cn=a,dc=x"}));
    EXPECT_EQ(groups[3].dn, "cn=d,dc=x");
    EXPECT_EQ(groups[3].path, (std::vector<std::string>{"cn=a,dc=x", "cn=b,dc=x", "cn=c,dc=x", "cn=d,dc=x"}));
    // The walk ends: one search per level, and the cycle back to A is not followed twice.
    EXPECT_LE(ldap.requests.size(), 5u);
}

TEST_F(DirectoryTest, DepthLimitStopsTheWalk) {
    config.groups.max_depth = 2;
    ldap.answer = answer_groups;
    LdapDirectory dir(config, ldap);
    const auto groups = dir.groups_of("uid=u,dc=x");
    ASSERT_EQ(groups.size(), 2u);  // a, then b; c and d are deeper
    EXPECT_EQ(ldap.requests.size(), 2u);
}

TEST_F(DirectoryTest, MemberOfMode) {
    config.groups.membership = MembershipMode::MemberOf;
    ldap.answer = [](const SearchRequest& r) {
        if (r.base == "uid=u,dc=x") return std::vector<LdapEntry>{entry(r.base, {{"memberOf", {"cn=a,dc=x"}}})};
        if (r.base == "cn=a,dc=x") return std::vector<LdapEntry>{entry(r.base, {{"memberOf", {"cn=b,dc=x", "uid=u,dc=x"}}})};
        if (r.base == "cn=b,dc=x") return std::vector<LdapEntry>{entry(r.base, {{"memberOf", {"cn=a,dc=x"}}})};
        return std::vector<LdapEntry>{};
    };
    LdapDirectory dir(config, ldap);
    const auto groups = dir.groups_of("uid=u,dc=x");
    ASSERT_EQ(groups.size(), 2u);
    EXPECT_EQ(groups[1].path, (std::vector<std::string>{"cn=a,dc=x", "cn=b,dc=x"}));
}

// A level of several groups: one OR-search of their entryDNs from ldap.base; a group the
// search does not return (here cn=gone) and one outside the base are read by themselves.
// The answer keeps the frontier's order, as the reads one by one gave it.
TEST_F(DirectoryTest, MemberOfModeReadsALevelOfGroupsInOneSearch) {
    config.groups.membership = MembershipMode::MemberOf;
    config.ldap.base = "dc=x";
    const std::string a = "cn=a,dc=x", b = "cn=b,dc=x", gone = "cn=gone,dc=x", outside = "cn=o,dc=y";
    ldap.answer = [&](const SearchRequest& r) {
        if (r.base == "uid=u,dc=x") return std::vector<LdapEntry>{entry(r.base, {{"memberOf", {a, gone, outside, b}}})};
        if (r.scope == SearchScope::Subtree)  // the level's search: slapd returns b, then a (any order), not gone
            return std::vector<LdapEntry>{entry("CN=B,dc=x", {{"memberOf", {"cn=top,dc=x"}}}), entry(a, {})};
        if (r.base == outside) return std::vector<LdapEntry>{entry(r.base, {{"memberOf", {"cn=top2,dc=y"}}})};
        return std::vector<LdapEntry>{};  // cn=gone, cn=top, cn=top2: no entry / no memberOf
    };
    LdapDirectory dir(config, ldap);
    const auto groups = dir.groups_of("uid=u,dc=x");
    std::vector<std::string> dns;
    for (const auto& g : groups) dns.push_back(g.dn);
    EXPECT_EQ(dns, (std::vector<std::string>{a, gone, outside, b, "cn=top2,dc=y", "cn=top,dc=x"}));
    EXPECT_EQ(groups.back().path, (std::vector<std::string>{b, "cn=top,dc=x"}));
    ASSERT_GE(ldap.requests.size(), 2u);
    EXPECT_EQ(ldap.requests[1].base, "dc=x");
    EXPECT_EQ(ldap.requests[1].scope, SearchScope::Subtree);
    EXPECT_EQ(ldap.requests[1].filter, "(|(entryDN=cn=a,dc=x)(entryDN=cn=b,dc=x)(entryDN=cn=gone,dc=x))");
    EXPECT_EQ(ldap.requests[1].attributes, (std::vector<std::string>{"memberOf"}));
    // then cn=gone and cn=o by themselves; the next level has one group in the base (top)
    // and one outside (top2): each read by itself, in the frontier's order
    ASSERT_EQ(ldap.requests.size(), 6u);
    EXPECT_EQ(ldap.requests[2].base, gone);
    EXPECT_EQ(ldap.requests[3].base, outside);
    EXPECT_EQ(ldap.requests[4].base, "cn=top2,dc=y");
    EXPECT_EQ(ldap.requests[5].base, "cn=top,dc=x");
}

TEST_F(DirectoryTest, GrantsOfIsOneLevelBelowTheMailbox) {
    LdapDirectory dir(config, ldap);
    dir.grants_of("uid=alice,ou=people,dc=example,dc=com");
    ASSERT_EQ(ldap.requests.size(), 1u);
    EXPECT_EQ(ldap.requests[0].scope, SearchScope::OneLevel);
    EXPECT_EQ(ldap.requests[0].filter, "(objectClass=mailGrant)");
}

TEST_F(DirectoryTest, GrantsToIsOneEscapedSearch) {
    LdapDirectory dir(config, ldap);
    dir.grants_to({"uid=bob,dc=x", "cn=a\\,b,dc=x"});
    ASSERT_EQ(ldap.requests.size(), 1u);
    EXPECT_EQ(ldap.requests[0].filter, "(&(objectClass=mailGrant)(|(mailGrantee=uid=bob,dc=x)(mailGrantee=cn=a\\5c,b,dc=x)))");
}

TEST_F(DirectoryTest, SchemaMappingChangesAttributeNames) {
    config.schema.grant_object_class = "kolabDelegate";
    config.schema.grantee = "delegate";
    LdapDirectory dir(config, ldap);
    dir.grants_to({"uid=bob,dc=x"});
    EXPECT_EQ(ldap.requests[0].filter, "(&(objectClass=kolabDelegate)(delegate=uid=bob,dc=x))");
}

// A login's groups and grants: each level's group search also asks for the grants naming
// everyone found so far, so the walk costs no more searches than groups_of() alone and
// the last search holds every grant (issue 19: a fixed number of searches per login).
TEST_F(DirectoryTest, GroupsAndGrantsShareTheWalksSearches) {
    config.ldap.base = "dc=x";
    ldap.answer = [](const SearchRequest& r) {
        auto out = answer_groups(r);
        if (r.filter.find("(mailGrantee=cn=c,dc=x)") != std::string::npos)
            out.push_back(entry("cn=g,uid=alice,dc=x",
                                {{"objectClass", {"mailGrant"}}, {"cn", {"g"}}, {"mailGrantee", {"cn=c,dc=x"}}}));
        return out;
    };
    LdapDirectory dir(config, ldap);
    const auto alone = dir.groups_of("uid=u,dc=x");
    const std::size_t walk_searches = ldap.requests.size();
    ldap.requests.clear();
    const auto answer = dir.groups_and_grants("uid=u,dc=x", "");
    EXPECT_EQ(ldap.requests.size(), walk_searches);
    ASSERT_EQ(answer.groups.size(), alone.size());
    for (std::size_t i = 0; i < alone.size(); ++i) {
        EXPECT_EQ(answer.groups[i].dn, alone[i].dn);
        EXPECT_EQ(answer.groups[i].path, alone[i].path);
    }
    ASSERT_EQ(answer.grants.size(), 1u);
    EXPECT_EQ(answer.grants[0].owner_dn, "uid=alice,dc=x");
    // The last search names the user and every group (escaped), anywhere below the base.
    EXPECT_EQ(ldap.requests.back().base, "dc=x");
    EXPECT_NE(ldap.requests.back().filter.find("(&(objectClass=mailGrant)(|(mailGrantee=uid=u,dc=x)(mailGrantee=cn=a,dc=x)"),
              std::string::npos)
        << ldap.requests.back().filter;
}

TEST_F(DirectoryTest, GroupsAndGrantsBelowOneMailboxIsOneSearchForAUserInNoGroup) {
    LdapDirectory dir(config, ldap);
    dir.groups_and_grants("uid=bob,dc=example,dc=com", "uid=a*b,dc=example,dc=com");
    ASSERT_EQ(ldap.requests.size(), 1u);
    EXPECT_EQ(ldap.requests[0].base, "dc=example,dc=com");
    EXPECT_NE(ldap.requests[0].filter.find("(&(objectClass=mailGrant)(mailGrantee=uid=bob,dc=example,dc=com)"
                                           "(entryDN:dnOneLevelMatch:=uid=a\\2ab,dc=example,dc=com))"),
              std::string::npos)
        << ldap.requests[0].filter;
}

TEST_F(DirectoryTest, GroupsAndGrantsWithTheDepthLimitAsksOnceMoreForTheDeepestGroups) {
    config.ldap.base = "dc=x";
    config.groups.max_depth = 1;
    ldap.answer = answer_groups;
    LdapDirectory dir(config, ldap);
    const auto answer = dir.groups_and_grants("uid=u,dc=x", "");
    ASSERT_EQ(answer.groups.size(), 1u);  // a
    ASSERT_EQ(ldap.requests.size(), 2u);  // the walk's one level, then the grants naming a too
    EXPECT_EQ(ldap.requests[1].filter, "(&(objectClass=mailGrant)(|(mailGrantee=uid=u,dc=x)(mailGrantee=cn=a,dc=x)))");
}

TEST_F(DirectoryTest, GroupsAndGrantsInMemberOfModeAreTheSeparateQuestions) {
    config.groups.membership = MembershipMode::MemberOf;
    LdapDirectory dir(config, ldap);
    dir.groups_and_grants("uid=u,dc=example,dc=com", "uid=a,dc=example,dc=com");
    ASSERT_EQ(ldap.requests.size(), 2u);
    EXPECT_EQ(ldap.requests[0].scope, SearchScope::Base);  // memberOf of the user
    EXPECT_EQ(ldap.requests[1].scope, SearchScope::OneLevel);  // the mailbox's grants
}

TEST_F(DirectoryTest, FindMailboxesIsOneEntryDnSearch) {
    ldap.answer = [](const SearchRequest&) {
        return std::vector<LdapEntry>{entry("uid=a,dc=example,dc=com", {{"mail", {"a@example.com"}}}),
                                      entry("ou=x,dc=example,dc=com", {{"ou", {"x"}}})};
    };
    LdapDirectory dir(config, ldap);
    const auto accounts = dir.find_mailboxes(
        {"uid=a,dc=example,dc=com", "UID=A,dc=example,dc=com", "cn=x\\,y,dc=example,dc=com", "ou=x,dc=example,dc=com"});
    ASSERT_EQ(ldap.requests.size(), 1u);
    EXPECT_EQ(ldap.requests[0].filter,
              "(|(entryDN=uid=a,dc=example,dc=com)(entryDN=cn=x\\5c,y,dc=example,dc=com)(entryDN=ou=x,dc=example,dc=com))");
    ASSERT_EQ(accounts.size(), 1u);  // the ou has no address: no mailbox
    EXPECT_EQ(accounts[0].primary_address(), "a@example.com");
    EXPECT_THROW(dir.find_mailboxes({"not a dn"}), BadInput);
}

TEST_F(DirectoryTest, FindMailboxesChunksLongLists) {
    LdapDirectory dir(config, ldap);
    std::vector<std::string> dns;
    for (std::size_t i = 0; i < LdapDirectory::kDnsPerOwnerFilter + 1; ++i)
        dns.push_back("uid=u" + std::to_string(i) + ",dc=example,dc=com");
    dir.find_mailboxes(dns);
    EXPECT_EQ(ldap.requests.size(), 2u);
}

}  // namespace

// The cold sender decision's one search (sender_facts.cpp): what it asks, and when it
// asks the questions one by one instead.
namespace sender {

const std::string kBob = "uid=bob,dc=example,dc=com";

TEST_F(DirectoryTest, SenderFactsAskAddressGroupsAndSendGrantsInOneSearch) {
    ldap.answer = [](const SearchRequest& r) {
        if (r.scope != SearchScope::Subtree) return std::vector<LdapEntry>{};
        return std::vector<LdapEntry>{
            entry("uid=alice,dc=example,dc=com", {{"objectClass", {"inetOrgPerson"}}, {"mail", {"alice@example.com"}}}),
            entry("cn=s,uid=alice,dc=example,dc=com",
                  {{"objectClass", {"mailGrant"}}, {"cn", {"s"}}, {"mailGrantee", {kBob}}, {"mailGrantSend", {"sendAs"}}}),
            entry("cn=elsewhere,uid=carol,dc=example,dc=com",
                  {{"objectClass", {"mailGrant"}}, {"mailGrantee", {kBob}}, {"mailGrantSend", {"sendAs"}}})};
    };
    LdapDirectory dir(config, ldap);
    const auto facts = dir.sender_facts(kBob, "alice@example.com");
    ASSERT_EQ(ldap.requests.size(), 1u);
    const auto& r = ldap.requests[0];
    EXPECT_EQ(r.filter, "(|(|(mail=alice@example.com)(mailLocalAddress=alice@example.com))" +
                            fill_filter(config.groups.member_filter, kBob) +
                            "(&(objectClass=mailGrant)(mailGrantee=" + kBob + ")(mailGrantSend=*)))");
    // Of the member attributes only the user's own DN; every other attribute whole.
    EXPECT_EQ(r.values_filter.rfind("((member=" + kBob + ")(uniqueMember=" + kBob + ")(objectClass=*)(mail=*)", 0), 0u)
        << r.values_filter;
    ASSERT_TRUE(facts.mailbox);
    EXPECT_EQ(facts.mailbox->dn, "uid=alice,dc=example,dc=com");
    ASSERT_EQ(facts.with.grants.size(), 1u);  // the grant below carol is not alice's
    EXPECT_EQ(facts.with.grants[0].name, "s");
    EXPECT_TRUE(facts.with.groups.empty());
}

TEST_F(DirectoryTest, SenderFactsOneByOneWhenTheDirectoryRefusesOrLimits) {
    for (int code : {LDAP_UNAVAILABLE_CRITICAL_EXTENSION, LDAP_SIZELIMIT_EXCEEDED, LDAP_ADMINLIMIT_EXCEEDED}) {
        RecordingSearcher refusing;
        refusing.answer = [code](const SearchRequest& r) -> std::vector<LdapEntry> {
            if (!r.values_filter.empty()) throw LdapError(LdapErrorKind::Other, code, "refused");
            return {};
        };
        LdapDirectory dir(config, refusing);
        EXPECT_FALSE(dir.sender_facts(kBob, "alice@example.com").mailbox) << code;
        ASSERT_EQ(refusing.requests.size(), 2u) << code;  // then the address alone
        EXPECT_EQ(refusing.requests[1].filter, "(|(mail=alice@example.com)(mailLocalAddress=alice@example.com))");
    }
    // LDAP trouble is not this search's own: it is thrown (the policy daemon defers).
    RecordingSearcher down;
    down.answer = [](const SearchRequest&) -> std::vector<LdapEntry> {
        throw LdapError(LdapErrorKind::Unavailable, LDAP_SERVER_DOWN, "down");
    };
    LdapDirectory dir(config, down);
    EXPECT_THROW(dir.sender_facts(kBob, "alice@example.com"), LdapError);
}

TEST_F(DirectoryTest, SenderFactsOneByOneForFiltersItCannotJudge) {
    LdapDirectory dir(config, ldap);
    config.users.address_filter = "(rfc822Mailbox=%s)";  // an alias slapd returns as mail
    dir.sender_facts(kBob, "alice@example.com");
    ASSERT_FALSE(ldap.requests.empty());
    EXPECT_EQ(ldap.requests[0].filter, "(rfc822Mailbox=alice@example.com)");
    ldap.requests.clear();
    config.users.address_filter = "(|(mail=%s)(mailLocalAddress=%s))";
    config.groups.membership = MembershipMode::MemberOf;
    dir.sender_facts(kBob, "alice@example.com");
    ASSERT_FALSE(ldap.requests.empty());
    EXPECT_TRUE(ldap.requests[0].values_filter.empty());
}

// An entry slapd returned that is none of the three parts: this and slapd disagree, so
// the questions are asked one by one, never a part guessed for it.
TEST_F(DirectoryTest, SenderFactsOneByOneWhenAnEntryIsNoPart) {
    ldap.answer = [](const SearchRequest& r) {
        if (r.values_filter.empty() || r.scope != SearchScope::Subtree) return std::vector<LdapEntry>{};
        return std::vector<LdapEntry>{entry("cn=odd,dc=example,dc=com", {{"objectClass", {"groupOfNames"}}})};
    };
    LdapDirectory dir(config, ldap);
    EXPECT_FALSE(dir.sender_facts(kBob, "alice@example.com").mailbox);
    ASSERT_EQ(ldap.requests.size(), 2u);
    EXPECT_TRUE(ldap.requests[1].values_filter.empty());
}

}  // namespace sender
