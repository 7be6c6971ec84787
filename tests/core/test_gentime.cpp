// Unit tests for gentime.h: strict GeneralizedTime.
#include "mailgrant/gentime.h"

#include <gtest/gtest.h>

using namespace mailgrant;

namespace {

struct TimeCase {
    std::string text;
    long long expected;  // -1 = must be rejected
};

class GeneralizedTime : public ::testing::TestWithParam<TimeCase> {};

TEST_P(GeneralizedTime, Parses) {
    const auto t = parse_generalized_time(GetParam().text);
    if (GetParam().expected < 0) {
        EXPECT_FALSE(t) << GetParam().text;
    } else {
        ASSERT_TRUE(t) << GetParam().text;
        EXPECT_EQ(static_cast<long long>(*t), GetParam().expected) << GetParam().text;
    }
}

INSTANTIATE_TEST_SUITE_P(
    Table, GeneralizedTime,
    ::testing::Values(TimeCase{"19700101000000Z", 0}, TimeCase{"20200101000000Z", 1577836800},
                      TimeCase{"2020010100Z", 1577836800}, TimeCase{"202001010000Z", 1577836800},
                      TimeCase{"20200101000000.123Z", 1577836800}, TimeCase{"20200101000000,5Z", 1577836800},
                      TimeCase{"20200101020000+0200", 1577836800}, TimeCase{"20191231220000-02", 1577836800},
                      TimeCase{"20240229120000Z", 1709208000}, TimeCase{"20161231235960Z", 1483228799},
                      TimeCase{"20230229000000Z", -1}, TimeCase{"20201301000000Z", -1},
                      TimeCase{"20200100000000Z", -1}, TimeCase{"20200101250000Z", -1},
                      TimeCase{"20200101000000", -1}, TimeCase{"20200101000000Zjunk", -1},
                      TimeCase{"2020-01-01T00:00:00Z", -1}, TimeCase{"", -1}, TimeCase{"20200101000000.Z", -1},
                      TimeCase{"20200101000000+2400", -1}, TimeCase{std::string(50, '1') + "Z", -1}));

TEST(GeneralizedTime, FormatRoundTrips) {
    EXPECT_EQ(format_generalized_time(1577836800), "20200101000000Z");
    EXPECT_EQ(*parse_generalized_time(format_generalized_time(1234567890)), 1234567890);
}

}  // namespace
