// Unit tests for the policy request parser: grammar, limits, pipelining, split reads.
#include "request_parser.h"

#include <gtest/gtest.h>

using namespace mailgrant::policy;
using Status = RequestParser::Status;

namespace {

TEST(RequestParser, ParsesOneRequestAndLeavesTheNext) {
    RequestParser parser;
    std::string buffer = "request=smtpd_access_policy\nsender=a@b\nsasl_username=\n\nrequest=smtpd";
    ASSERT_EQ(parser.parse(buffer), Status::Complete);
    const auto r = parser.take();
    EXPECT_EQ(r.get("sender"), "a@b");
    EXPECT_EQ(r.get("sasl_username"), "");
    EXPECT_EQ(r.get("missing"), "");
    EXPECT_EQ(buffer, "request=smtpd");
    EXPECT_EQ(parser.parse(buffer), Status::NeedMore);
}

TEST(RequestParser, ByteByByteFeedingGivesTheSameRequest) {
    const std::string wire = "request=smtpd_access_policy\nsender=x@y\nsize=12\n\n";
    RequestParser parser;
    std::string buffer;
    Status status = Status::NeedMore;
    for (char c : wire) {
        ASSERT_EQ(status, Status::NeedMore);
        buffer += c;
        status = parser.parse(buffer);
    }
    ASSERT_EQ(status, Status::Complete);
    EXPECT_EQ(parser.take().get("size"), "12");
}

TEST(RequestParser, ValueMayContainEqualsAndBeEmpty) {
    RequestParser parser;
    std::string buffer = "sender=srs0=ab=cd@x\nccert_subject=\n\n";
    ASSERT_EQ(parser.parse(buffer), Status::Complete);
    EXPECT_EQ(parser.take().get("sender"), "srs0=ab=cd@x");
}

TEST(RequestParser, ToleratesCrLf) {
    RequestParser parser;
    std::string buffer = "sender=a@b\r\n\r\n";
    ASSERT_EQ(parser.parse(buffer), Status::Complete);
    EXPECT_EQ(parser.take().get("sender"), "a@b");
}

struct BadInput {
    const char* name;
    std::string wire;
    const char* error;
};

class RequestParserErrors : public ::testing::TestWithParam<BadInput> {};

TEST_P(RequestParserErrors, AreReportedNotCrashed) {
    RequestParser parser;
    std::string buffer = GetParam().wire;
    ASSERT_EQ(parser.parse(buffer), Status::Error);
    EXPECT_NE(parser.error().find(GetParam().error), std::string::npos) << parser.error();
    EXPECT_EQ(parser.parse(buffer), Status::Error);  // stays failed
}

std::string many_attributes(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += "a" + std::to_string(i) + "=x\n";
    return s + "\n";
}

INSTANTIATE_TEST_SUITE_P(
    Table, RequestParserErrors,
    ::testing::Values(BadInput{"no_equals", "garbage\n\n", "line without '='"},
                      BadInput{"empty_name", "=value\n\n", "bad attribute name"},
                      BadInput{"bad_name", "send er=x\n\n", "bad attribute name"},
                      BadInput{"nul", std::string("sender=a\0b\n\n", 12), "NUL byte"},
                      BadInput{"repeated", "sender=a\nsender=b\n\n", "attribute repeated"},
                      BadInput{"empty_request", "\n", "empty request"},
                      BadInput{"long_line_unterminated", "sender=" + std::string(5000, 'a'), "line longer than 4096"},
                      BadInput{"long_line_terminated", "sender=" + std::string(5000, 'a') + "\n\n", "line longer than 4096"},
                      BadInput{"too_many_attributes", many_attributes(129), "more than 128 attributes"},
                      BadInput{"too_big", many_attributes(0).substr(1) + [] {
                                   std::string s;
                                   for (int i = 0; i < 20; ++i) s += "v" + std::to_string(i) + "=" + std::string(4000, 'x') + "\n";
                                   return s;
                               }(), "request larger than"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(RequestParser, ExactlyAtTheLimitsIsAccepted) {
    RequestParser parser;
    std::string buffer = many_attributes(128);
    EXPECT_EQ(parser.parse(buffer), Status::Complete);
    RequestParser p2;
    std::string line = "sender=" + std::string(RequestParser::kMaxLineBytes - 8, 'a') + "\n\n";
    EXPECT_EQ(p2.parse(line), Status::Complete);
}

TEST(Printable, EscapesAndTruncates) {
    EXPECT_EQ(printable("a\nb\\"), "a\\x0ab\\x5c");
    EXPECT_EQ(printable(std::string(10, 'x'), 4), "xxxx...");
}

}  // namespace
