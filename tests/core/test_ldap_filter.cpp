// Unit tests for ldap_filter.h: RFC 4515 escaping keeps input out of filter syntax.
#include "mailgrant/ldap_filter.h"

#include <gtest/gtest.h>

using namespace mailgrant;

namespace {

struct EscapeCase {
    std::string in;
    std::string out;
};

class Escape : public ::testing::TestWithParam<EscapeCase> {};

TEST_P(Escape, Rfc4515) { EXPECT_EQ(escape_filter_value(GetParam().in), GetParam().out); }

INSTANTIATE_TEST_SUITE_P(Table, Escape,
                         ::testing::Values(EscapeCase{"alice@example.com", "alice@example.com"},
                                           EscapeCase{"*", "\\2a"}, EscapeCase{"(", "\\28"},
                                           EscapeCase{")", "\\29"}, EscapeCase{"\\", "\\5c"},
                                           EscapeCase{std::string("a\0b", 3), "a\\00b"},
                                           EscapeCase{"*)(uid=*", "\\2a\\29\\28uid=\\2a"},
                                           EscapeCase{"\xc3\xa9", "\\c3\\a9"}, EscapeCase{"\n", "\\0a"},
                                           EscapeCase{"", ""}));

TEST(FillFilter, EveryPlaceholderGetsTheEscapedValue) {
    EXPECT_EQ(fill_filter("(|(uid=%s)(mail=%s))", "a*"), "(|(uid=a\\2a)(mail=a\\2a))");
    EXPECT_EQ(fill_filter("(uid=%d%s)", "x"), "(uid=%dx)");
}

TEST(AnyOf, WrapsOnlyWhenNeeded) {
    EXPECT_EQ(any_of({"(a=1)"}), "(a=1)");
    EXPECT_EQ(any_of({"(a=1)", "(b=2)"}), "(|(a=1)(b=2))");
}

}  // namespace
