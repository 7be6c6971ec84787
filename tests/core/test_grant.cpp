// Unit tests for grant.h: parsing entries and the validity window.
#include "mailgrant/grant.h"

#include <gtest/gtest.h>

#include "fakes.h"

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

}  // namespace
