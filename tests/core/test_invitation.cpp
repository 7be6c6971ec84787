// Unit tests for invitation.h: when a pending grant's invitation can still be accepted.
// The clock is the test's (the decision takes `now`); the age is createTimestamp.
#include "mailgrant/invitation.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "fakes.h"

using namespace mailgrant;
using mailgrant::testing::entry;

namespace {

const SchemaConfig kSchema;
constexpr std::time_t kSent = 1798588800;  // 2026-12-30T00:00:00Z = "20261230000000Z"
constexpr long long kDay = 86400;

Grant grant(const char* pending, const char* created) {
    std::map<std::string, std::vector<std::string>> attrs{{"mailGrantee", {"uid=b,dc=x"}}};
    if (*pending) attrs["mailGrantPending"] = {pending};
    if (*created) attrs["createTimestamp"] = {created};
    return grant_from_entry(entry("cn=g,uid=a,dc=x", attrs), kSchema);
}

InvitationsConfig expiring(long long seconds) {
    InvitationsConfig c;
    c.expire_after_s = seconds;
    return c;
}

struct Case {
    const char* name;
    const char* pending;  // "" = absent
    const char* created;  // "" = not readable
    long long expire_after_s;
    std::time_t now;
    InvitationState expected;
};

class InvitationTable : public ::testing::TestWithParam<Case> {};

TEST_P(InvitationTable, StateAt) {
    const Case& c = GetParam();
    const Invitation inv = invitation_of(grant(c.pending, c.created), c.now, expiring(c.expire_after_s));
    EXPECT_EQ(inv.state, c.expected);
    EXPECT_EQ(inv.acceptable(), c.expected == InvitationState::Open);
    EXPECT_EQ(inv.describe().empty(), c.expected == InvitationState::NotPending);
}

INSTANTIATE_TEST_SUITE_P(
    Table, InvitationTable,
    ::testing::Values(
        Case{"active_grant", "", "20261230000000Z", 14 * kDay, kSent + 100 * kDay, InvitationState::NotPending},
        Case{"false_is_no_invitation", "FALSE", "20261230000000Z", 60, kSent + 100 * kDay, InvitationState::NotPending},
        Case{"fresh", "TRUE", "20261230000000Z", 14 * kDay, kSent, InvitationState::Open},
        Case{"last_second", "TRUE", "20261230000000Z", 14 * kDay, kSent + 14 * kDay - 1, InvitationState::Open},
        Case{"first_expired_second", "TRUE", "20261230000000Z", 14 * kDay, kSent + 14 * kDay, InvitationState::Expired},
        Case{"seconds_granularity", "TRUE", "20261230000000Z", 2, kSent + 2, InvitationState::Expired},
        Case{"never_expires", "TRUE", "20261230000000Z", 0, kSent + 3650 * kDay, InvitationState::Open},
        Case{"never_expires_age_unknown", "TRUE", "", 0, kSent, InvitationState::Open},
        Case{"age_unknown", "TRUE", "", 14 * kDay, kSent, InvitationState::AgeUnknown},
        Case{"age_unreadable", "TRUE", "yesterday", 14 * kDay, kSent, InvitationState::AgeUnknown},
        Case{"unreadable_pending_value", "yes", "20261230000000Z", 14 * kDay, kSent + 1, InvitationState::Open},
        Case{"clock_before_creation", "TRUE", "20261230000000Z", 14 * kDay, kSent - kDay, InvitationState::Open}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Invitation, SaysWhenItWasSentAndWhenItExpires) {
    const Grant g = grant("TRUE", "20261230000000Z");
    EXPECT_EQ(invitation_of(g, kSent, expiring(14 * kDay)).describe(),
              "pending (invitation sent 2026-12-30 00:00:00Z, expires 2027-01-13 00:00:00Z)");
    EXPECT_EQ(invitation_of(g, kSent + 20 * kDay, expiring(14 * kDay)).describe(),
              "pending, but the invitation expired on 2027-01-13 00:00:00Z (sent 2026-12-30 00:00:00Z)");
    EXPECT_EQ(invitation_of(g, kSent, expiring(0)).describe(),
              "pending (invitation sent 2026-12-30 00:00:00Z, never expires)");
    EXPECT_EQ(*invitation_of(g, kSent, expiring(14 * kDay)).expires, kSent + 14 * kDay);
    EXPECT_FALSE(invitation_of(g, kSent, expiring(0)).expires);
    EXPECT_NE(invitation_of(grant("TRUE", ""), kSent, expiring(kDay)).describe().find("createTimestamp"), std::string::npos);
}

// Expired or not, a pending grant gives nothing (grant.h): the invitation's age never
// changes the grant's state, only whether it may be accepted.
TEST(Invitation, PendingStaysPendingWhateverItsAge) {
    const Grant g = grant("TRUE", "20261230000000Z");
    EXPECT_EQ(g.state_at(kSent), GrantState::Pending);
    EXPECT_EQ(g.state_at(kSent + 100 * kDay), GrantState::Pending);
    EXPECT_TRUE(g.problems.empty());
    ASSERT_TRUE(g.created);
    EXPECT_EQ(*g.created, kSent);
}

TEST(Invitation, CreateTimestampIsRequestedWithEveryGrant) {
    const auto attrs = grant_attributes(kSchema);
    EXPECT_NE(std::find(attrs.begin(), attrs.end(), "createTimestamp"), attrs.end());
    EXPECT_NE(std::find(attrs.begin(), attrs.end(), kSchema.pending), attrs.end());
}

}  // namespace
