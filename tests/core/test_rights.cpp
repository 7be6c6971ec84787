// Unit tests for rights.h: roles and RFC 4314 letters.
#include "mailgrant/rights.h"

#include <gtest/gtest.h>

using namespace mailgrant;

namespace {

struct RightsCase {
    std::string text;
    std::string letters;  // "" = must be rejected
};

class ParseRights : public ::testing::TestWithParam<RightsCase> {};

TEST_P(ParseRights, RolesAndLetters) {
    std::string error;
    const auto rights = parse_rights(GetParam().text, &error);
    if (GetParam().letters.empty()) {
        EXPECT_FALSE(rights) << GetParam().text;
        EXPECT_FALSE(error.empty());
    } else {
        ASSERT_TRUE(rights) << error;
        EXPECT_EQ(rights->letters(), GetParam().letters);
    }
}

INSTANTIATE_TEST_SUITE_P(Table, ParseRights,
                         ::testing::Values(RightsCase{"reader", "lrs"}, RightsCase{"Editor", "lrswipkxte"},
                                           RightsCase{" admin ", "lrswipkxtea"}, RightsCase{"lrs", "lrs"},
                                           RightsCase{"srl", "lrs"}, RightsCase{"lrswipkxtea", "lrswipkxtea"},
                                           RightsCase{"LR", "lr"}, RightsCase{"lrr", "lr"},
                                           RightsCase{"", ""}, RightsCase{"lrz", ""},
                                           RightsCase{"owner", ""}, RightsCase{"l r", ""},
                                           RightsCase{"reader,editor", ""},
                                           RightsCase{std::string(65, 'l'), ""},
                                           RightsCase{std::string("l\0r", 3), ""}));

TEST(Rights, ErrorNamesTheLetter) {
    std::string error;
    parse_rights("lrz", &error);
    EXPECT_NE(error.find("'z'"), std::string::npos) << error;
}

TEST(Rights, SetOperations) {
    const auto reader = *parse_rights("reader");
    const auto editor = *parse_rights("editor");
    EXPECT_TRUE(editor.contains(reader));
    EXPECT_FALSE(reader.contains(editor));
    EXPECT_EQ((reader | *parse_rights("a")).letters(), "lrsa");
    EXPECT_TRUE(reader.has('l'));
    EXPECT_FALSE(reader.has('a'));
    EXPECT_FALSE(reader.has('z'));
    EXPECT_TRUE(Rights::none().empty());
    EXPECT_EQ(Rights::all().letters(), "lrswipkxtea");
}

TEST(Rights, RoleName) {
    EXPECT_EQ(role_name(*parse_rights("lrs")), "reader");
    EXPECT_EQ(role_name(*parse_rights("lrswipkxtea")), "admin");
    EXPECT_EQ(role_name(*parse_rights("lr")), "");
}

}  // namespace
