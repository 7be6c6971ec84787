// Unit tests for header_check.h: the From:/Sender: decision over the fake directory
// (the end-to-end milter test covers the libmilter side with a real Postfix).
#include "header_check.h"

#include <gtest/gtest.h>

#include "fixture.h"

using namespace mailgrant;
using namespace mailgrant::policy;
using Kind = HeaderVerdict::Kind;

namespace {

struct Case {
    const char* name;
    const char* login;
    std::vector<std::string> from;
    std::vector<std::string> sender;
    Kind kind;
    const char* add_sender;  // expected added Sender: ("" = none)
    const char* reason_part;  // substring of the reason ("" = any)
};

class HeaderCheck : public ::testing::TestWithParam<Case> {
protected:
    void SetUp() override { mailgrant::testing::populate(dir); }
    mailgrant::testing::FakeDirectory dir;
    ManualClock clock;
    Decider decider{dir, clock};
};

TEST_P(HeaderCheck, Table) {
    const auto& c = GetParam();
    const auto v = judge_authenticated(decider, dir, c.login, MessageHeaders{c.from, c.sender});
    EXPECT_EQ(v.kind, c.kind) << v.reason;
    EXPECT_EQ(v.add_sender, c.add_sender) << v.reason;
    EXPECT_NE(v.reason.find(c.reason_part), std::string::npos) << v.reason;
}

INSTANTIATE_TEST_SUITE_P(
    Table, HeaderCheck,
    ::testing::Values(
        Case{"own", "alice@example.com", {"Alice <alice@example.com>"}, {}, Kind::Accept, "", ""},
        Case{"own_alias_any_case", "alice@example.com", {"<A.Smith@Example.COM>"}, {}, Kind::Accept, "", ""},
        Case{"send_as_group", "bob@example.com", {"Support <support@example.com>"}, {}, Kind::Accept, "", ""},
        Case{"send_as_alias", "bob@example.com", {"help@example.com"}, {}, Kind::Accept, "", ""},
        Case{"on_behalf_adds_sender", "bob@example.com", {"Alice <alice@example.com>"}, {}, Kind::Accept,
             "bob@example.com", ""},
        Case{"on_behalf_own_sender_kept", "bob@example.com", {"alice@example.com"}, {"Bob <bob@example.com>"},
             Kind::Accept, "", ""},
        Case{"on_behalf_foreign_sender", "bob@example.com", {"alice@example.com"}, {"eve@example.com"},
             Kind::Reject, "", "Sender"},
        Case{"forged", "eve@example.com", {"CEO <support@example.com>"}, {}, Kind::Reject, "",
             "not owned by or delegated to user eve@example.com"},
        Case{"display_name_trick", "eve@example.com", {"\"support@example.com\" <eve@example.com>"}, {},
             Kind::Accept, "", ""},
        Case{"display_name_trick_reverse", "eve@example.com", {"\"eve@example.com\" <support@example.com>"}, {},
             Kind::Reject, "", "support@example.com"},
        Case{"one_bad_of_two", "bob@example.com", {"bob@example.com, eve@example.com"}, {"bob@example.com"},
             Kind::Reject, "", "eve@example.com"},
        Case{"two_from_headers", "bob@example.com", {"bob@example.com", "support@example.com"}, {}, Kind::Reject,
             "", "From: headers"},
        Case{"no_from", "bob@example.com", {}, {}, Kind::Reject, "", "no From:"},
        Case{"unparsable", "bob@example.com", {"bob@example.com <"}, {}, Kind::Reject, "", "refused"},
        Case{"shared_mailbox_login", "support@example.com", {"help@example.com"}, {}, Kind::Reject, "", ""}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(HeaderCheckErrors, LdapTroublePropagatesForTheTempfail) {
    mailgrant::testing::FakeDirectory dir;
    mailgrant::testing::populate(dir);
    dir.fail = true;
    ManualClock clock;
    Decider decider(dir, clock);
    EXPECT_THROW(judge_authenticated(decider, dir, "bob@example.com", MessageHeaders{{"support@example.com"}, {}}),
                 LdapError);
}

TEST(HeaderCheckUnauthenticated, OnlyLocalDomainsWithRejectLocal) {
    PolicyConfig config;
    EXPECT_EQ(judge_unauthenticated(config, MessageHeaders{{"ceo@example.com"}, {}}).kind, Kind::Accept);
    config.unauthenticated = UnauthenticatedMode::RejectLocal;
    config.local_domains = {"example.com"};
    EXPECT_EQ(judge_unauthenticated(config, MessageHeaders{{"ceo@example.com"}, {}}).kind, Kind::Reject);
    EXPECT_EQ(judge_unauthenticated(config, MessageHeaders{{"x@badexample.com"}, {}}).kind, Kind::Accept);
}

TEST(ReplyText, IsOneSafeLine) {
    EXPECT_EQ(reply_text("50% off\r\nX: y"), "50%% off??X: y");  // % doubled, CR LF neutralised
    EXPECT_LE(reply_text(std::string(1000, 'a')).size(), 403u);
}

}  // namespace
