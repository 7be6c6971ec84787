// Unit tests for dn.h.
#include "mailgrant/dn.h"

#include <gtest/gtest.h>

using namespace mailgrant;

TEST(Dn, NormalizeIgnoresCaseAndSpacing) {
    EXPECT_EQ(normalize_dn("UID=Bob, OU=People,dc=Example,dc=com"), normalize_dn("uid=bob,ou=people,dc=example,dc=com"));
    EXPECT_FALSE(normalize_dn("uid=bob,ou=people").empty());
    EXPECT_EQ(normalize_dn("not a dn"), "");
}

TEST(Dn, ParentSkipsEscapedCommas) {
    EXPECT_EQ(parent_dn("cn=team,uid=support,ou=people,dc=example,dc=com"), "uid=support,ou=people,dc=example,dc=com");
    EXPECT_EQ(parent_dn("cn=a\\,b,uid=x,dc=y"), "uid=x,dc=y");
    EXPECT_EQ(parent_dn("cn=\"a,b\",uid=x"), "uid=x");
    EXPECT_EQ(parent_dn("dc=com"), "");
}

TEST(Dn, EscapeRdnValueKeepsOneRdn) {
    EXPECT_EQ(escape_rdn_value("share-bob"), "share-bob");
    EXPECT_EQ(escape_rdn_value("a,b+c=d"), "a\\,b\\+c\\=d");
    EXPECT_EQ(escape_rdn_value(" #x "), "\\ #x\\ ");
    EXPECT_EQ(escape_rdn_value("#x"), "\\#x");
    EXPECT_EQ(escape_rdn_value(std::string("a\0b\n", 4)), "a\\00b\\0a");
    for (const std::string& value : std::vector<std::string>{"a,b", "x\\y", "\"q\"", "<>;", " lead", "trail ", "+", std::string("n\0l", 3)}) {
        const std::string dn = "cn=" + escape_rdn_value(value) + ",uid=alice,dc=ex";
        EXPECT_EQ(first_rdn_value(dn), value) << dn;
        EXPECT_EQ(parent_dn(dn), "uid=alice,dc=ex") << dn;
    }
}

TEST(Dn, LooksLikeDn) {
    EXPECT_TRUE(looks_like_dn("uid=alice,ou=people,dc=example,dc=com"));
    EXPECT_TRUE(looks_like_dn("mail=a@x.org,ou=people,dc=x"));
    EXPECT_TRUE(looks_like_dn("cn=support-team"));
    EXPECT_FALSE(looks_like_dn("alice@example.com"));
    EXPECT_FALSE(looks_like_dn("srs0=abc=xy@example.com"));
    EXPECT_FALSE(looks_like_dn("alice"));
    EXPECT_FALSE(looks_like_dn("=x"));
}
