// Unit tests for the decision service's line protocol (service_protocol.h): escaping,
// questions, answers and every named limit. Table-driven where the cases are many.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mailgrant/answers.h"
#include "mailgrant/service_protocol.h"
#include "service_text.h"

using namespace mailgrant;

TEST(ServiceProtocol, EscapingRoundTripsEveryByte) {
    std::string all;
    for (int c = 1; c < 256; ++c) all.push_back(static_cast<char>(c));
    const std::string escaped = escape_field(all);
    EXPECT_EQ(escaped.find('\t'), std::string::npos);
    EXPECT_EQ(escaped.find('\n'), std::string::npos);
    EXPECT_EQ(unescape_field(escaped), all);
    EXPECT_EQ(escape_field("a%b\tc"), "a%25b%09c");
}

TEST(ServiceProtocol, BadEscapesAreProtocolErrors) {
    for (const char* text : {"%", "%4", "%zz", "a%g0", "x\x01y"})
        EXPECT_THROW(unescape_field(text), ProtocolError) << text;
}

TEST(ServiceProtocol, QuestionsRoundTrip) {
    const std::vector<ServiceRequest> cases = {
        {ServiceVerb::Rights, {"bob@example.com", "alice@example.com", "Projects/2025"}},
        {ServiceVerb::Owners, {"bob@example.com"}},
        {ServiceVerb::Grantees, {"alice@example.com", "INBOX"}},
        {ServiceVerb::MayOpen, {"bob", "alice"}},
        {ServiceVerb::RootRights, {"bob", "team"}},
        {ServiceVerb::TeamFolders, {"bob", "team"}},
        {ServiceVerb::Login, {"imap", "team@example.com", "bob@example.com", "pa\tss%word\n"}},
        {ServiceVerb::Rights, {"", "", ""}},  // empty fields are the core's to refuse
        {ServiceVerb::Changed, {}},
    };
    for (const auto& request : cases) {
        std::string line = format_request(request);
        ASSERT_EQ(line.back(), '\n');
        line.pop_back();
        const ServiceRequest back = parse_request(line);
        EXPECT_EQ(back.verb, request.verb) << line;
        EXPECT_EQ(back.fields, request.fields) << line;
    }
}

TEST(ServiceProtocol, MalformedQuestionsAreRefused) {
    const std::vector<std::string> cases = {
        "",
        "frobnicate\tx",
        "rights\ta\tb",              // too few fields
        "rights\ta\tb\tc\td",        // too many
        "owners",                    // none
        "owners\ta\tb\tc\td\te\tf\tg\th\ti\tj",  // past kMaxFields
        "owners\tbad%escape",
        std::string("owners\t") + std::string(service_limits::kMaxRequestBytes, 'x'),
    };
    for (const auto& line : cases) EXPECT_THROW(parse_request(line), ProtocolError) << line.substr(0, 40);
    EXPECT_THROW(format_request({ServiceVerb::Owners, {"a", "b"}}), ProtocolError);
    EXPECT_THROW(format_request({ServiceVerb::Owners, {std::string(service_limits::kMaxRequestBytes, 'x')}}),
                 ProtocolError);
}

TEST(ServiceProtocol, AnswersRoundTrip) {
    ServiceReply ok;
    ok.status = ServiceReply::Status::Ok;
    ok.items = {{"0", "bob@example.com", "lrs"}, {"1", "team, support", "lrswi"}};
    ok.values = {"", "reason\twith tab"};
    ServiceReply bad;
    bad.status = ServiceReply::Status::BadInput;
    bad.message = "bad input: login is empty";
    ServiceReply temp;
    temp.status = ServiceReply::Status::Temporary;
    temp.message = "LDAP timeout: no answer";
    ServiceReply fail;
    fail.status = ServiceReply::Status::Failed;
    fail.message = "internal error: odd";
    for (const auto& reply : {ok, bad, temp, fail}) {
        bool complete = false;
        const ServiceReply back = mailgrant::testing::read_reply_text(format_reply(reply), complete);
        EXPECT_TRUE(complete);
        EXPECT_EQ(back.status, reply.status);
        EXPECT_EQ(back.items, reply.items);
        EXPECT_EQ(back.values, reply.values);
        EXPECT_EQ(back.message, reply.message);
    }
}

TEST(ServiceProtocol, AnswerLimitsHold) {
    ReplyReader reader;
    EXPECT_THROW(reader.add_line("surprise\tx"), ProtocolError);
    ReplyReader two;
    EXPECT_THROW(two.add_line("temp\ta\tb"), ProtocolError);  // one message only
    ReplyReader long_line;
    EXPECT_THROW(long_line.add_line("item\t" + std::string(service_limits::kMaxReplyLineBytes, 'a')), ProtocolError);
    ReplyReader many;
    EXPECT_THROW(
        {
            for (std::size_t i = 0; i <= service_limits::kMaxReplyItems; ++i) many.add_line("item\tx");
        },
        ProtocolError);
    ReplyReader big;
    const std::string line = "item\t" + std::string(service_limits::kMaxReplyLineBytes - 10, 'b');
    EXPECT_THROW(
        {
            for (std::size_t i = 0; i < 2 * service_limits::kMaxReplyBytes / line.size(); ++i) big.add_line(line);
        },
        ProtocolError);
}

// A login answer is read strictly: anything not exactly as answers.cpp writes it is a
// temporary failure, never a grant; a "bad" answer is a refusal, never trouble.
TEST(ServiceProtocol, LoginAnswersAreReadStrictly) {
    auto reply_with = [](std::vector<std::string> values) {
        ServiceReply r;
        r.status = ServiceReply::Status::Ok;
        r.values = std::move(values);
        return r;
    };
    EXPECT_EQ(login_verdict(reply_with({"allowed", "info", "allowed", "ok"})).outcome, LoginOutcome::Allowed);
    EXPECT_EQ(login_verdict(reply_with({"refused", "warning", "service-refused", "x"})).reason,
              LoginReason::ServiceRefused);
    const std::vector<std::vector<std::string>> malformed = {
        {"allowed", "info", "", "x"},            // no reason
        {"allowed", "info", "0", "x"},           // a number, not a name
        {"allowed", "info", "no-grant", "x"},    // contradicts itself
        {"refused", "info", "allowed", "x"},     // the other way round
        {"maybe", "info", "allowed", "x"},
        {"allowed", "loud", "allowed", "x"},
        {"allowed", "info", "allowed"},          // too few
        {"allowed", "info", "allowed", "x", "y"},
    };
    for (const auto& values : malformed) {
        const LoginVerdict v = login_verdict(reply_with(values));
        EXPECT_EQ(v.outcome, LoginOutcome::Temporary) << values.size();
        EXPECT_EQ(v.reason, LoginReason::Trouble);
    }
    ServiceReply bad;
    bad.status = ServiceReply::Status::BadInput;
    bad.message = "bad input: question longer than 8 KiB";
    EXPECT_EQ(login_verdict(bad).outcome, LoginOutcome::Refused);
    EXPECT_EQ(login_verdict(bad).reason, LoginReason::BadInput);
    ServiceReply temp;
    temp.status = ServiceReply::Status::Temporary;
    EXPECT_EQ(login_verdict(temp).reason, LoginReason::Trouble);
}
