// Unit tests for sent_copy.h: which mail sent as a mailbox is filed in its Sent folder
// (table-driven), how the routing recipient is built and recognised, and that an LDAP
// failure while looking the mailbox up propagates (the milter then defers the message).
#include "mailgrant/sent_copy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "fakes.h"
#include "mailgrant/ldap_error.h"

namespace mailgrant {
namespace {

const char* kSupport = "uid=support,ou=people,dc=example,dc=com";
const char* kAlice = "uid=alice,ou=people,dc=example,dc=com";
const char* kDomain = "sent-copy.mailgrant.invalid";

SenderDecision author(SenderRight right, const std::string& mailbox_dn) {
    SenderDecision d;
    d.right = right;
    d.mailbox_dn = mailbox_dn;
    return d;
}

Account account(const std::string& dn, const std::string& address, bool shared, std::optional<bool> sent_copy) {
    Account a;
    a.dn = dn;
    a.addresses = {address};
    a.shared_mailbox = shared;
    a.sent_copy = sent_copy;
    return a;
}

struct Case {
    const char* name;
    SenderRight right;
    bool shared;                  // the mailbox is a mailSharedMailbox
    std::optional<bool> attribute;  // mailSharedSentCopy on it
    SentCopyDefault site;         // team_mailbox.sent_copy
    bool domain_set;              // team_mailbox.sent_copy_domain
    bool copy;
    const char* reason;  // substring
};

class SentCopyTable : public ::testing::TestWithParam<Case> {};

TEST_P(SentCopyTable, Decides) {
    const Case& c = GetParam();
    TeamMailboxConfig config;
    config.sent_copy = c.site;
    config.sent_copy_domain = c.domain_set ? kDomain : "";
    const auto box = account(kSupport, "support@Example.com", c.shared, c.attribute);
    const SentCopy s = decide_sent_copy(config, author(c.right, kSupport), box);
    EXPECT_EQ(s.copy, c.copy) << s.reason;
    EXPECT_NE(s.reason.find(c.reason), std::string::npos) << s.reason;
    EXPECT_EQ(s.folder, "Sent");
    EXPECT_EQ(s.mailbox, "support@Example.com");
    EXPECT_EQ(s.recipient, c.copy ? "\"support@example.com\"@sent-copy.mailgrant.invalid" : "");
}

constexpr auto Shared = SentCopyDefault::Shared;
constexpr auto All = SentCopyDefault::All;
constexpr auto None = SentCopyDefault::None;
const std::optional<bool> unset;

INSTANTIATE_TEST_SUITE_P(
    Table, SentCopyTable,
    ::testing::Values(
        Case{"send_as_shared_default", SenderRight::SendAs, true, unset, Shared, true, true,
             "sendAs support@Example.com: site default team_mailbox.sent_copy=shared and the mailbox is a shared"},
        Case{"on_behalf_shared_default", SenderRight::SendOnBehalf, true, unset, Shared, true, true, "sendOnBehalf"},
        Case{"person_mailbox_shared_default", SenderRight::SendAs, false, unset, Shared, true, false,
             "is not a shared mailbox"},
        Case{"person_mailbox_all", SenderRight::SendOnBehalf, false, unset, All, true, true, "sent_copy=all"},
        Case{"shared_mailbox_none", SenderRight::SendAs, true, unset, None, true, false, "sent_copy=none"},
        Case{"switch_false_beats_default", SenderRight::SendAs, true, false, Shared, true, false, "switch is FALSE"},
        Case{"switch_false_beats_all", SenderRight::SendAs, true, false, All, true, false, "switch is FALSE"},
        Case{"switch_true_beats_none", SenderRight::SendAs, true, true, None, true, true, "switch is TRUE"},
        Case{"switch_true_on_person", SenderRight::SendAs, false, true, Shared, true, true, "switch is TRUE"},
        Case{"own_address_never", SenderRight::Own, true, true, All, true, false, "own address"},
        Case{"denied_never", SenderRight::Denied, true, true, All, true, false, "denied"},
        Case{"null_sender_never", SenderRight::NullSender, true, true, All, true, false, "null sender"},
        Case{"no_route_no_copy", SenderRight::SendAs, true, unset, Shared, false, false,
             "team_mailbox.sent_copy_domain is not set"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(SentCopy, UnknownMailboxGetsNoCopy) {
    TeamMailboxConfig config;
    config.sent_copy_domain = kDomain;
    const SentCopy s = decide_sent_copy(config, author(SenderRight::SendAs, kSupport), std::nullopt);
    EXPECT_FALSE(s.copy);
    EXPECT_NE(s.reason.find("has no address"), std::string::npos) << s.reason;
}

TEST(SentCopy, FolderIsTheConfiguredSentName) {
    TeamMailboxConfig config;
    config.sent = "Sent Items";
    config.sent_copy_domain = kDomain;
    const SentCopy s = decide_sent_copy(config, author(SenderRight::SendAs, kSupport),
                                        account(kSupport, "support@example.com", true, unset));
    EXPECT_TRUE(s.copy);
    EXPECT_EQ(s.folder, "Sent Items");
}

TEST(SentCopyRecipient, BuildsAndRefuses) {
    EXPECT_EQ(sent_copy_recipient("support@example.com", kDomain), "\"support@example.com\"@sent-copy.mailgrant.invalid");
    EXPECT_EQ(sent_copy_recipient("first.last+team@Sub.Example.COM", kDomain),
              "\"first.last+team@sub.example.com\"@sent-copy.mailgrant.invalid");
    EXPECT_EQ(sent_copy_recipient("support@example.com", ""), "");
    EXPECT_EQ(sent_copy_recipient("\"john doe\"@example.com", kDomain), "");  // quoted: LDA would lose the quotes
    EXPECT_EQ(sent_copy_recipient("a..b@example.com", kDomain), "");
    EXPECT_EQ(sent_copy_recipient("support", kDomain), "");
    EXPECT_EQ(sent_copy_recipient("@example.com", kDomain), "");
    EXPECT_EQ(sent_copy_recipient("support@", kDomain), "");
    EXPECT_EQ(sent_copy_recipient(std::string(240, 'a') + "@example.com", kDomain), "");  // over an SMTP path
}

TEST(SentCopyRecipient, RecognisesTheReservedDomainOnly) {
    EXPECT_TRUE(is_sent_copy_recipient("support@example.com.sent-copy.mailgrant.invalid", kDomain));
    EXPECT_TRUE(is_sent_copy_recipient("\"support@example.com\"@sent-copy.mailgrant.invalid", kDomain));
    EXPECT_TRUE(is_sent_copy_recipient("support@example.com@sent-copy.mailgrant.invalid", kDomain));
    EXPECT_TRUE(is_sent_copy_recipient("Support@Example.COM.Sent-Copy.Mailgrant.Invalid", kDomain));
    EXPECT_TRUE(is_sent_copy_recipient("x@sent-copy.mailgrant.invalid", kDomain));
    EXPECT_TRUE(is_sent_copy_recipient("x@example.com.sent-copy.mailgrant.invalid.", kDomain));
    EXPECT_FALSE(is_sent_copy_recipient("x@notsent-copy.mailgrant.invalid", kDomain));
    // routes Postfix itself would rewrite into the reserved domain after the check
    EXPECT_TRUE(is_sent_copy_recipient("\"ceo@example.com\"%sent-copy.mailgrant.invalid@localhost", kDomain));
    EXPECT_TRUE(is_sent_copy_recipient("sent-copy.mailgrant.invalid!\"ceo@example.com\"@localhost", kDomain));
    EXPECT_TRUE(is_sent_copy_recipient("sent-copy.mailgrant.invalid@example.com", kDomain));
    EXPECT_FALSE(is_sent_copy_recipient("x@sent-copy.mailgrant.invalidx", kDomain));
    EXPECT_FALSE(is_sent_copy_recipient("support@example.com", kDomain));
    EXPECT_FALSE(is_sent_copy_recipient("support@example.com.sent-copy.mailgrant.invalid", ""));
    EXPECT_FALSE(is_sent_copy_recipient("", kDomain));
}

TEST(SentCopies, OnePerMailboxAndOnlyForOthersMailboxes) {
    testing::FakeDirectory dir;
    dir.add_account("support@example.com", account(kSupport, "support@example.com", true, unset));
    dir.add_account("alice@example.com", account(kAlice, "alice@example.com", false, unset));
    TeamMailboxConfig config;
    config.sent_copy_domain = kDomain;
    const auto copies = sent_copies(config, dir,
                                    {author(SenderRight::Own, kAlice), author(SenderRight::SendAs, kSupport),
                                     author(SenderRight::SendOnBehalf, "UID=Support,ou=people,dc=example,dc=com"),
                                     author(SenderRight::SendAs, kAlice)});
    ASSERT_EQ(copies.size(), 2u);  // support once (two spellings of its DN), alice as someone else's mailbox
    EXPECT_TRUE(copies[0].copy);
    EXPECT_EQ(copies[0].mailbox, "support@example.com");
    EXPECT_FALSE(copies[1].copy);  // alice is a person: default "shared"
    EXPECT_EQ(copies[1].mailbox, "alice@example.com");
}

TEST(SentCopies, LdapTroublePropagates) {
    testing::FakeDirectory dir;
    dir.add_account("support@example.com", account(kSupport, "support@example.com", true, unset));
    dir.fail = true;
    TeamMailboxConfig config;
    config.sent_copy_domain = kDomain;
    EXPECT_THROW(sent_copies(config, dir, {author(SenderRight::SendAs, kSupport)}), LdapError);
    // Nothing to look up: no LDAP call, no error.
    EXPECT_TRUE(sent_copies(config, dir, {author(SenderRight::Own, kAlice)}).empty());
}

// The switch is read from LDAP by every search that builds an Account.
TEST(SentCopyAttribute, RequestedAndParsed) {
    Config config;
    config.ldap.base = "dc=example,dc=com";
    testing::RecordingSearcher ldap;
    LdapDirectory directory(config, ldap);
    const auto attrs = directory.account_attributes();
    EXPECT_NE(std::find(attrs.begin(), attrs.end(), "mailSharedSentCopy"), attrs.end());
    const struct {
        std::vector<std::string> values;
        std::optional<bool> expected;
    } cases[] = {{{"TRUE"}, true}, {{"FALSE"}, false}, {{"false"}, false}, {{}, std::nullopt}, {{"yes"}, std::nullopt}};
    for (const auto& c : cases) {
        std::map<std::string, std::vector<std::string>> attributes{{"objectClass", {"inetOrgPerson", "mailSharedMailbox"}},
                                                                   {"mail", {"support@example.com"}}};
        if (!c.values.empty()) attributes["mailSharedSentCopy"] = c.values;
        ldap.answer = [&](const SearchRequest&) { return std::vector<LdapEntry>{testing::entry(kSupport, attributes)}; };
        const auto found = directory.find_mailbox("support@example.com");
        ASSERT_TRUE(found);
        EXPECT_EQ(found->sent_copy, c.expected) << (c.values.empty() ? "(absent)" : c.values.front());
        EXPECT_TRUE(found->shared_mailbox);
        // and it is asked for in that search
        const auto& asked = ldap.requests.back().attributes;
        EXPECT_NE(std::find(asked.begin(), asked.end(), "mailSharedSentCopy"), asked.end());
    }
}

}  // namespace
}  // namespace mailgrant
