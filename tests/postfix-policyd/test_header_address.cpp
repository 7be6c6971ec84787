// Unit tests for the From:/Sender: header parser: what is accepted (and which address
// it yields), what is refused (and why), limits and hostile inputs.
#include "header_address.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace mailgrant::policy;

namespace {

struct Good {
    const char* name;
    std::string value;
    std::vector<std::string> addresses;
    std::string first_display = "";
};

class FromAccepted : public ::testing::TestWithParam<Good> {};

TEST_P(FromAccepted, YieldsTheAddresses) {
    const auto r = parse_from_header(GetParam().value);
    ASSERT_TRUE(r.ok) << r.error;
    std::vector<std::string> got;
    for (const auto& m : r.mailboxes) got.push_back(m.address);
    EXPECT_EQ(got, GetParam().addresses);
    EXPECT_EQ(r.mailboxes.front().display_name, GetParam().first_display);
}

INSTANTIATE_TEST_SUITE_P(
    Table, FromAccepted,
    ::testing::Values(
        Good{"bare", "eve@example.com", {"eve@example.com"}},
        Good{"leading_space", "  eve@example.com  ", {"eve@example.com"}},
        Good{"angle_only", "<eve@example.com>", {"eve@example.com"}},
        Good{"angle_spaces", "< eve@example.com >", {"eve@example.com"}},
        Good{"display", "Eve Outsider <eve@example.com>", {"eve@example.com"}, "Eve Outsider"},
        Good{"quoted_display", "\"Outsider, Eve\" <eve@example.com>", {"eve@example.com"}, "Outsider, Eve"},
        // The display-name trick: the address decides, whatever the name claims.
        Good{"display_trick", "\"support@example.com\" <eve@example.com>", {"eve@example.com"}, "support@example.com"},
        Good{"quoted_pair", "\"Eve \\\"the\\\" O\" <eve@example.com>", {"eve@example.com"}, "Eve \"the\" O"},
        Good{"encoded_word_display", "=?utf-8?q?Ev=C3=A9?= <eve@example.com>", {"eve@example.com"}, "=?utf-8?q?Ev=C3=A9?="},
        Good{"utf8_display", "\xc3\x89ve <eve@example.com>", {"eve@example.com"}, "\xc3\x89ve"},
        Good{"obs_phrase_dot", "John Q. Public <jqp@example.com>", {"jqp@example.com"}, "John Q. Public"},
        Good{"trailing_comment", "eve@example.com (Eve Outsider)", {"eve@example.com"}},
        Good{"nested_comment", "(a (b) c) <eve@example.com> (x)", {"eve@example.com"}},
        Good{"dotted_local", "first.last@mail.example.com", {"first.last@mail.example.com"}},
        Good{"plus_local", "eve+tag@example.com", {"eve+tag@example.com"}},
        Good{"quoted_plain_local_unquoted", "\"eve\"@example.com", {"eve@example.com"}},
        Good{"quoted_local_kept", "\"john doe\"@example.com", {"\"john doe\"@example.com"}},
        Good{"quoted_local_with_at", "<\"support@example.com\"@evil.test>", {"\"support@example.com\"@evil.test"}},
        Good{"domain_literal", "eve@[192.0.2.1]", {"eve@[192.0.2.1]"}},
        Good{"two", "eve@example.com, Bob <bob@example.com>", {"eve@example.com", "bob@example.com"}},
        Good{"obs_empty_elements", ", eve@example.com,,bob@example.com,", {"eve@example.com", "bob@example.com"}},
        Good{"group", "Team: eve@example.com, Bob <bob@example.com>;", {"eve@example.com", "bob@example.com"}},
        Good{"group_then_mailbox", "T: a@example.com;, b@example.com", {"a@example.com", "b@example.com"}},
        Good{"folded_crlf", "Eve\r\n Outsider\r\n\t<eve@example.com>", {"eve@example.com"}, "Eve Outsider"},
        Good{"folded_lf", "Eve\n <eve@example.com>", {"eve@example.com"}, "Eve"},
        Good{"trailing_crlf", "eve@example.com\r\n", {"eve@example.com"}},
        Good{"case_kept", "EVE@Example.COM", {"EVE@Example.COM"}}),
    [](const auto& info) { return std::string(info.param.name); });

struct Bad {
    const char* name;
    std::string value;
    const char* error;  // a substring of the reason
};

class FromRefused : public ::testing::TestWithParam<Bad> {};

TEST_P(FromRefused, WithAClearReason) {
    const auto r = parse_from_header(GetParam().value);
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(r.mailboxes.empty());
    EXPECT_NE(r.error.find(GetParam().error), std::string::npos) << "reason: " << r.error;
    EXPECT_EQ(r.error.find('\n'), std::string::npos);
    EXPECT_EQ(r.error.find('\r'), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Table, FromRefused,
    ::testing::Values(
        Bad{"empty", "", "names no mailbox"},
        Bad{"blank", "   ", "names no mailbox"},
        Bad{"empty_group", "undisclosed-recipients:;", "names no mailbox"},
        Bad{"no_domain", "eve", "no @domain"},
        Bad{"angle_no_domain", "<eve>", "no @domain"},
        Bad{"null_address", "<>", "empty address"},
        // Unquoted address as display name: clients disagree on which one they show.
        Bad{"unquoted_at_in_display", "eve@example.com <support@example.com>", "unquoted '@'"},
        Bad{"two_angles", "Eve <eve@example.com> <support@example.com>", "expected ','"},
        Bad{"trailing_junk", "<eve@example.com> support@example.com", "expected ','"},
        Bad{"unclosed_angle", "Eve <eve@example.com", "expected '>'"},
        Bad{"stray_close_angle", "eve@example.com>", "expected ','"},
        Bad{"source_route", "<@relay.test:eve@example.com>", "source routes"},
        Bad{"two_at", "eve@support@example.com", "more than one '@'"},
        Bad{"space_in_address", "eve @example.com", "inside an address"},
        Bad{"comment_in_address", "eve(x)@example.com", "inside an address"},
        Bad{"space_after_at", "<eve@ example.com>", "inside an address"},
        Bad{"obs_spaced_local", "john . doe@example.com", "bad dot"},
        Bad{"leading_dot", ".eve@example.com", "expected an address"},
        Bad{"double_dot", "eve..x@example.com", "bad dot"},
        Bad{"trailing_dot_domain", "eve@example.com.", "bad dot"},
        Bad{"encoded_word_local", "=?utf-8?q?ceo=40example.com?=@evil.test", "encoded-word"},
        Bad{"encoded_word_domain", "<eve@=?utf-8?q?example.com?=>", "encoded-word"},
        Bad{"unterminated_quote", "\"Eve <eve@example.com>", "unterminated quoted string"},
        Bad{"unterminated_comment", "eve@example.com (Eve", "unterminated comment"},
        Bad{"stray_paren", "eve@example.com)", "')'"},
        Bad{"nested_group", "A: B: eve@example.com;;", "group inside a group"},
        Bad{"unclosed_group", "A: eve@example.com", "not closed"},
        Bad{"nameless_group", ": eve@example.com;", "without a name"},
        Bad{"bare_cr", "Eve\r<eve@example.com>", "bare CR"},
        Bad{"unfolded_lf", "eve@example.com\nFrom: ceo@example.com", "line break"},
        Bad{"nul", std::string("eve@example.com\0ceo@example.com", 31), "NUL"},
        Bad{"control", "Eve\x01 <eve@example.com>", "control character"},
        Bad{"del", "Eve\x7f <eve@example.com>", "control character"},
        Bad{"bad_utf8", "\xc3 <eve@example.com>", "UTF-8"},
        Bad{"overlong_utf8", "\xc0\xaf <eve@example.com>", "UTF-8"},
        Bad{"surrogate_utf8", "\xed\xa0\x80 <eve@example.com>", "UTF-8"},
        Bad{"backslash_outside", "Eve\\ <eve@example.com>", "backslash"},
        Bad{"bad_literal", "eve@[1.2.3.4 ]", "domain literal"},
        Bad{"semicolon", "eve@example.com; ceo@example.com", "expected ','"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(HeaderLimits, DeepCommentsAreRefused) {
    std::string deep = "eve@example.com ";
    for (int i = 0; i <= kMaxCommentDepth; ++i) deep += "(";
    for (int i = 0; i <= kMaxCommentDepth; ++i) deep += ")";
    const auto r = parse_from_header(deep);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("nested deeper"), std::string::npos) << r.error;
    std::string ok = "eve@example.com ";
    for (int i = 0; i < kMaxCommentDepth; ++i) ok += "(";
    for (int i = 0; i < kMaxCommentDepth; ++i) ok += ")";
    EXPECT_TRUE(parse_from_header(ok).ok);
}

TEST(HeaderLimits, TooManyAddressesAreRefusedNotTruncated) {
    std::string list;
    for (std::size_t i = 0; i < kMaxHeaderMailboxes; ++i) list += "u" + std::to_string(i) + "@example.com,";
    EXPECT_TRUE(parse_from_header(list).ok);
    list += "ceo@example.com";
    const auto r = parse_from_header(list);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("more than"), std::string::npos) << r.error;
}

TEST(HeaderLimits, OverlongHeaderIsRefused) {
    const std::string name(kMaxHeaderValueBytes, 'a');
    const auto r = parse_from_header(name + " <eve@example.com>");
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("longer than"), std::string::npos) << r.error;
}

TEST(HeaderHostile, PathologicalInputsEndQuickly) {
    // Each of these would hurt a backtracking or recursive parser; all must simply fail or pass.
    const std::vector<std::string> inputs = {
        std::string(kMaxHeaderValueBytes, '('),  std::string(kMaxHeaderValueBytes, '"'),
        std::string(kMaxHeaderValueBytes, ','),  std::string(kMaxHeaderValueBytes, '<'),
        std::string(kMaxHeaderValueBytes, '@'),  std::string(kMaxHeaderValueBytes / 2, ':') + ";",
        std::string(kMaxHeaderValueBytes, '.'),  std::string(kMaxHeaderValueBytes, '\\'),
    };
    for (const auto& in : inputs) {
        const auto r = parse_from_header(in);
        EXPECT_FALSE(r.ok) << in.substr(0, 10);
        EXPECT_FALSE(r.error.empty());
    }
    std::string many_words;
    while (many_words.size() < kMaxHeaderValueBytes - 40) many_words += "w. ";
    EXPECT_TRUE(parse_from_header(many_words + "<eve@example.com>").ok);
}

TEST(SenderHeader, OneMailboxOnly) {
    auto r = parse_sender_header("Bob Jones <bob@example.com>");
    ASSERT_TRUE(r.ok) << r.error;
    ASSERT_EQ(r.mailboxes.size(), 1u);
    EXPECT_EQ(r.mailboxes[0].address, "bob@example.com");

    r = parse_sender_header("bob@example.com, eve@example.com");
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("more than one mailbox"), std::string::npos) << r.error;

    r = parse_sender_header("Team: bob@example.com;");
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("group"), std::string::npos) << r.error;

    r = parse_sender_header("");
    EXPECT_FALSE(r.ok);
}

TEST(FromHeader, GroupMembersCarryTheGroupName) {
    const auto r = parse_from_header("Team: eve@example.com;");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.mailboxes[0].group, "Team");
}

}  // namespace
