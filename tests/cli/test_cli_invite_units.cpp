// test_cli_invite_units.cpp -- issue 13: `accept` / `decline` argument parsing and their
// plan (which pending grants, what each becomes, what is refused), the STATE label of a
// pending grant, and the invitation notice. Pure: grants are parsed from in-memory
// entries, the time is the test's. No network.
#include <gtest/gtest.h>

#include "cmd_invite.h"
#include "context.h"
#include "mailgrant/gentime.h"
#include "mailgrant/ldap_client.h"
#include "notify.h"

using namespace mailgrant;
using namespace mailgrant::cli;

namespace {

const char* const kOwner = "uid=alice,ou=people,dc=example,dc=com";
const char* const kDave = "uid=dave,ou=people,dc=example,dc=com";
const char* const kBob = "uid=bob,ou=people,dc=example,dc=com";
constexpr std::time_t kSent = 1798588800;  // 2026-12-30T00:00:00Z
constexpr std::time_t kDay = 86400;

// ---- parse_answer ----

struct ParseCase {
    const char* name;
    std::vector<std::string> args;
    const char* error;  // "" = parses
    const char* grant;  // expected --grant ("" = none)
};

class AnswerParsing : public ::testing::TestWithParam<ParseCase> {};

TEST_P(AnswerParsing, AcceptAndDeclineTakeTheSameArguments) {
    const ParseCase& c = GetParam();
    for (Answer a : {Answer::Accept, Answer::Decline}) {
        if (*c.error) {
            try {
                parse_answer(a, c.args);
                ADD_FAILURE() << "parsed: " << c.name;
            } catch (const UsageError& e) {
                EXPECT_NE(std::string(e.what()).find(c.error), std::string::npos) << e.what();
            }
            continue;
        }
        const AnswerRequest r = parse_answer(a, c.args);
        EXPECT_EQ(r.mailbox, c.args[0]);
        EXPECT_EQ(r.grantee, c.args[1]);
        EXPECT_EQ(r.grant_name.value_or(""), c.grant);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Table, AnswerParsing,
    ::testing::Values(
        ParseCase{"owner_and_grantee", {"alice@example.com", "dave"}, "", ""},
        ParseCase{"with_grant", {"alice", "dave", "--grant", "dave-2"}, "", "dave-2"},
        ParseCase{"grant_equals", {"alice", "dave", "--grant=projects"}, "", "projects"},
        ParseCase{"bind_options", {"alice", "dave", "--sasl-external", "--ldap-uri", "ldapi:///"}, "", ""},
        ParseCase{"bind_dn", {"alice", "dave", "--bind-dn", "cn=admin", "--bind-password-file", "/f", "--ldif"}, "", ""},
        ParseCase{"no_grantee", {"alice"}, "takes OWNER GRANTEE", ""},
        ParseCase{"three_positionals", {"alice", "dave", "bob"}, "takes OWNER GRANTEE", ""},
        ParseCase{"nothing", {}, "takes OWNER GRANTEE", ""},
        ParseCase{"grant_twice", {"alice", "dave", "--grant", "a", "--grant", "b"}, "--grant", ""},
        ParseCase{"grant_empty", {"alice", "dave", "--grant="}, "--grant needs", ""},
        ParseCase{"grant_without_value", {"alice", "dave", "--grant"}, "--grant", ""},
        ParseCase{"folder_is_not_an_option", {"alice", "dave", "--folder", "INBOX"}, "unknown option '--folder'", ""}),
    [](const auto& info) { return std::string(info.param.name); });

// ---- plan_answer ----

Grant make(const std::string& name, std::vector<std::string> grantees, bool pending, std::time_t created = kSent) {
    LdapEntry e;
    e.dn = "cn=" + name + "," + kOwner;
    e.attributes["cn"] = {name};
    e.attributes["mailgrantee"] = std::move(grantees);
    e.attributes["mailgrantfolder"] = {"INBOX"};
    e.attributes["mailgrantrights"] = {"reader"};
    if (pending) e.attributes["mailgrantpending"] = {"TRUE"};
    e.attributes["createtimestamp"] = {format_generalized_time(created)};
    return grant_from_entry(e, SchemaConfig{});
}

struct PlanCase {
    const char* name;
    Answer answer;
    std::vector<Grant> grants;
    const char* grant_name;  // "" = no --grant
    std::time_t now;
    // "" = refused; else the changes, one per step: "modify cn=NAME" / "delete cn=NAME"
    std::vector<std::string> changes;
    const char* refusal;  // substring of the refusal
};

std::string describe(const Change& c) {
    const std::string rdn = c.dn.substr(0, c.dn.find(','));
    if (c.type == Change::Type::Delete) return "delete " + rdn;
    std::string out = "modify " + rdn;
    for (const auto& m : c.modifications)
        out += std::string(m.op == Modification::Op::Delete ? " -" : " +") + m.attribute +
               (m.values.empty() ? "" : "=" + m.values.front());
    return out;
}

class AnswerPlan : public ::testing::TestWithParam<PlanCase> {};

TEST_P(AnswerPlan, OnlyPendingGrantsOfTheGrantee) {
    const PlanCase& c = GetParam();
    Config config;
    config.invitations.expire_after_s = 14 * kDay;
    const std::optional<std::string> name = *c.grant_name ? std::optional<std::string>(c.grant_name) : std::nullopt;
    try {
        const auto steps = plan_answer(c.answer, c.grants, kDave, name, "alice@example.com", "dave@example.com", c.now, config);
        std::vector<std::string> got;
        for (const auto& s : steps) got.push_back(describe(s.change));
        EXPECT_EQ(got, c.changes);
        EXPECT_STREQ(c.refusal, "") << "not refused";
    } catch (const Refusal& e) {
        EXPECT_TRUE(c.changes.empty()) << "refused: " << e.what();
        EXPECT_NE(std::string(e.what()).find(c.refusal), std::string::npos) << e.what();
        EXPECT_STRNE(c.refusal, "");
    }
}

INSTANTIATE_TEST_SUITE_P(
    Table, AnswerPlan,
    ::testing::Values(
        PlanCase{"accept_removes_pending", Answer::Accept, {make("dave", {kDave}, true)}, "", kSent + kDay,
                 {"modify cn=dave -mailGrantPending"}, ""},
        PlanCase{"accept_dn_case_insensitive", Answer::Accept, {make("dave", {"UID=Dave,ou=People,dc=example,dc=com"}, true)},
                 "", kSent, {"modify cn=dave -mailGrantPending"}, ""},
        PlanCase{"accept_every_pending_one", Answer::Accept,
                 {make("dave", {kDave}, true), make("dave-2", {kDave}, true), make("old", {kDave}, false)}, "", kSent,
                 {"modify cn=dave -mailGrantPending", "modify cn=dave-2 -mailGrantPending"}, ""},
        PlanCase{"accept_only_the_named_one", Answer::Accept, {make("dave", {kDave}, true), make("dave-2", {kDave}, true)},
                 "DAVE-2", kSent, {"modify cn=dave-2 -mailGrantPending"}, ""},
        PlanCase{"accept_expired_refused", Answer::Accept, {make("dave", {kDave}, true)}, "", kSent + 14 * kDay, {},
                 "invitation 'dave': pending, but the invitation expired on 2027-01-13 00:00:00Z"},
        PlanCase{"accept_one_expired_refuses_all", Answer::Accept,
                 {make("dave", {kDave}, true), make("dave-2", {kDave}, true, kSent + 10 * kDay)}, "", kSent + 15 * kDay, {},
                 "invitation 'dave': pending, but the invitation expired"},
        PlanCase{"accept_nothing_pending", Answer::Accept, {make("dave", {kDave}, false)}, "", kSent, {},
                 "no pending invitation for dave@example.com on alice@example.com ('dave' is already an accepted grant"},
        PlanCase{"accept_other_grantee_only", Answer::Accept, {make("bob", {kBob}, true)}, "", kSent, {},
                 "no pending invitation for dave@example.com"},
        PlanCase{"accept_no_grants", Answer::Accept, {}, "", kSent, {}, "no pending invitation"},
        PlanCase{"accept_unknown_name", Answer::Accept, {make("dave", {kDave}, true)}, "nope", kSent, {},
                 "has no grant named 'nope'"},
        PlanCase{"accept_named_active", Answer::Accept, {make("dave", {kDave}, false)}, "dave", kSent, {},
                 "grant 'dave' of alice@example.com is no pending invitation"},
        PlanCase{"accept_shared_needs_grant", Answer::Accept, {make("team", {kDave, kBob}, true)}, "", kSent, {},
                 "also names 1 other grantee(s)"},
        PlanCase{"accept_shared_named", Answer::Accept, {make("team", {kDave, kBob}, true)}, "team", kSent,
                 {"modify cn=team -mailGrantPending"}, ""},
        PlanCase{"decline_deletes", Answer::Decline, {make("dave", {kDave}, true), make("old", {kDave}, false)}, "", kSent,
                 {"delete cn=dave"}, ""},
        PlanCase{"decline_expired_too", Answer::Decline, {make("dave", {kDave}, true)}, "", kSent + 100 * kDay,
                 {"delete cn=dave"}, ""},
        PlanCase{"decline_shared_takes_grantee_out", Answer::Decline, {make("team", {kDave, kBob}, true)}, "", kSent,
                 {"modify cn=team -mailGrantee=" + std::string(kDave)}, ""},
        PlanCase{"decline_never_active", Answer::Decline, {make("dave", {kDave}, false)}, "", kSent, {},
                 "never changes: use mailgrant revoke"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(InviteView, StateLabelOfPendingGrants) {
    InvitationsConfig c;
    c.expire_after_s = 14 * kDay;
    EXPECT_EQ(grant_state_label(make("d", {kDave}, false), kSent, c), "active");
    EXPECT_EQ(grant_state_label(make("d", {kDave}, true), kSent, c),
              "pending (invitation sent 2026-12-30 00:00:00Z, expires 2027-01-13 00:00:00Z)");
    EXPECT_EQ(grant_state_label(make("d", {kDave}, true), kSent + 14 * kDay, c),
              "pending, but the invitation expired on 2027-01-13 00:00:00Z (sent 2026-12-30 00:00:00Z)");
}

TEST(InviteNotice, SaysItIsAnInvitation) {
    Notice n;
    n.from = "postmaster@example.com";
    n.to = "dave@example.com";
    n.owner = "alice@example.com";
    n.folders = {"INBOX"};
    n.rights = "lrs";
    n.role = "reader";
    n.date = kSent;
    const std::string plain = compose_notice(n);
    EXPECT_EQ(plain.find("invitation"), std::string::npos);
    n.invitation = true;
    n.invitation_expires = kSent + 14 * kDay;
    const std::string invite = compose_notice(n);
    EXPECT_NE(invite.find("Subject: Invitation: alice@example.com"), std::string::npos);
    EXPECT_NE(invite.find("an invitation waiting to be accepted"), std::string::npos);
    EXPECT_NE(invite.find("before 2027-01-13 00:00:00Z"), std::string::npos);
    EXPECT_NE(invite.find("  Folders:  INBOX"), std::string::npos);  // what it will give, as before
}

}  // namespace
