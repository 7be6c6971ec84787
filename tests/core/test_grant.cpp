// Unit tests for grant.h: parsing entries and the validity window.
#include "mailgrant/grant.h"

#include <gtest/gtest.h>

#include "fakes.h"
#include "mailgrant/warnings.h"

using namespace mailgrant;
using mailgrant::testing::entry;

namespace {

const SchemaConfig kSchema;

Grant parse(std::map<std::string, std::vector<std::string>> attrs) {
    return grant_from_entry(entry("cn=g,uid=alice,ou=people,dc=example,dc=com", std::move(attrs)), kSchema);
}

TEST(Grant, ParsesEveryAttribute) {
    const auto g = parse({{"cn", {"g"}},
                          {"mailGrantee", {"uid=bob,ou=people,dc=example,dc=com"}},
                          {"mailGrantFolder", {"INBOX", "Projects/*"}},
                          {"mailGrantRights", {"reader"}},
                          {"mailGrantSend", {"sendAs", "SENDONBEHALF"}},
                          {"mailGrantNotBefore", {"20200101000000Z"}},
                          {"mailGrantNotAfter", {"20200201000000Z"}}});
    EXPECT_EQ(g.owner_dn, "uid=alice,ou=people,dc=example,dc=com");
    EXPECT_EQ(g.name, "g");
    ASSERT_TRUE(g.rights);
    EXPECT_EQ(g.rights->letters(), "lrs");
    EXPECT_TRUE(g.send_as);
    EXPECT_TRUE(g.send_on_behalf);
    EXPECT_TRUE(g.problems.empty());
    EXPECT_EQ(*g.matching_folder("Projects/x"), "Projects/*");
    EXPECT_FALSE(g.matching_folder("Sent"));
}

struct WindowCase {
    const char* not_before;  // "" = absent
    const char* not_after;
    std::time_t now;
    GrantState expected;
};

class Window : public ::testing::TestWithParam<WindowCase> {};

TEST_P(Window, StateAt) {
    std::map<std::string, std::vector<std::string>> attrs{{"mailGrantee", {"uid=b,dc=x"}}};
    if (*GetParam().not_before) attrs["mailGrantNotBefore"] = {GetParam().not_before};
    if (*GetParam().not_after) attrs["mailGrantNotAfter"] = {GetParam().not_after};
    EXPECT_EQ(parse(attrs).state_at(GetParam().now), GetParam().expected);
}

// 1577836800 = 2020-01-01T00:00:00Z, 1580515200 = 2020-02-01T00:00:00Z
INSTANTIATE_TEST_SUITE_P(Table, Window,
                         ::testing::Values(WindowCase{"", "", 0, GrantState::Active},
                                           WindowCase{"20200101000000Z", "", 1577836799, GrantState::NotYetValid},
                                           WindowCase{"20200101000000Z", "", 1577836800, GrantState::Active},
                                           WindowCase{"", "20200201000000Z", 1580515200, GrantState::Active},
                                           WindowCase{"", "20200201000000Z", 1580515201, GrantState::Expired},
                                           WindowCase{"20200101000000Z", "20200201000000Z", 1579000000, GrantState::Active},
                                           WindowCase{"garbage", "", 1579000000, GrantState::Invalid},
                                           WindowCase{"", "2020-02-01", 0, GrantState::Invalid}));

// mailGrantPending: an invitation gives nothing until the attribute goes (or is FALSE);
// a value that is neither TRUE nor FALSE keeps it closed and is reported.
TEST(Grant, PendingInvitationIsItsOwnState) {
    const struct {
        const char* value;  // "" = absent
        GrantState expected;
        std::size_t problems;
    } cases[] = {{"", GrantState::Active, 0},   {"TRUE", GrantState::Pending, 0}, {"true", GrantState::Pending, 0},
                 {"FALSE", GrantState::Active, 0}, {"yes", GrantState::Pending, 1}};
    for (const auto& c : cases) {
        std::map<std::string, std::vector<std::string>> attrs{{"mailGrantee", {"uid=b,dc=x"}}};
        if (*c.value) attrs["mailGrantPending"] = {c.value};
        const auto g = parse(attrs);
        EXPECT_EQ(g.state_at(0), c.expected) << c.value;
        EXPECT_EQ(g.problems.size(), c.problems) << c.value;
    }
    EXPECT_STREQ(to_string(GrantState::Pending), "pending (an invitation not accepted yet)");
}

TEST(Grant, BadValuesGiveLessAndAreReported) {
    const auto g = parse({{"mailGrantee", {"uid=b,dc=x"}},
                          {"mailGrantFolder", {"*"}},
                          {"mailGrantRights", {"everything"}},
                          {"mailGrantSend", {"sendAs", "impersonate"}}});
    EXPECT_FALSE(g.rights);  // no folder access
    EXPECT_TRUE(g.send_as);  // the valid part still counts
    EXPECT_EQ(g.problems.size(), 2u);
}

TEST(Grant, ReportsMissingGranteeAndInvertedWindow) {
    const auto g = parse({{"mailGrantNotBefore", {"20200201000000Z"}}, {"mailGrantNotAfter", {"20200101000000Z"}}});
    EXPECT_EQ(g.problems.size(), 2u);
    EXPECT_EQ(g.state_at(1577836800 + 86400 * 40), GrantState::Expired);
}

// Issue 10, part 2: of a search result, an entry that cannot be a grant skips itself and
// is named in exactly one warning line; a grant with bad values is kept (it gives less,
// and `check` reports its problems).
TEST(Grant, FromEntriesSkipsOnlyTheUnusableEntry) {
    struct Case {
        const char* name;
        std::string dn;
        bool kept;
    };
    const std::vector<Case> cases{
        {"good", "cn=a,uid=alice,dc=x", true},
        {"no_parent", "cn=root", false},
        {"parent_does_not_parse", "cn=b,not a dn", false},
        {"parent_too_long", "cn=c,uid=" + std::string(1100, 'x') + ",dc=x", false},
        {"control_character_in_dn", "cn=d\n,x", false},
    };
    for (const auto& c : cases) {
        std::vector<Warning> warnings;
        ScopedWarningSink sink([&](const Warning& w) { warnings.push_back(w); });
        const auto bad_values = entry("cn=bad,uid=alice,dc=x", {{"mailGrantRights", {"everything"}}});
        const auto grants = grants_from_entries({bad_values, entry(c.dn, {{"mailGrantee", {"uid=b,dc=x"}}})}, kSchema);
        ASSERT_EQ(grants.size(), c.kept ? 2u : 1u) << c.name;
        EXPECT_EQ(grants[0].dn, "cn=bad,uid=alice,dc=x") << c.name;
        EXPECT_FALSE(grants[0].problems.empty()) << c.name;
        ASSERT_EQ(warnings.size(), c.kept ? 0u : 1u) << c.name;
        if (c.kept) continue;
        EXPECT_EQ(warnings[0].entry_dn, c.dn) << c.name;
        EXPECT_EQ(warnings[0].text.find('\n'), std::string::npos) << c.name << ": one line, always";
        EXPECT_EQ(warnings[0].text.rfind("grant entry cn=", 0), 0u) << warnings[0].text;
    }
}

TEST(Grant, WarningSinkIsRestoredAfterItsScope) {
    int outer = 0, inner = 0;
    ScopedWarningSink a([&](const Warning&) { ++outer; });
    {
        ScopedWarningSink b([&](const Warning&) { ++inner; });
        warn(Warning{"", "inner"});
    }
    warn(Warning{"", "outer"});
    EXPECT_EQ(inner, 1);
    EXPECT_EQ(outer, 1);
}

}  // namespace
