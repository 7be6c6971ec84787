// Unit tests for dn.h.
#include "mailgrant/dn.h"

#include <gtest/gtest.h>

#include <optional>

using namespace mailgrant;

TEST(Dn, NormalizeIgnoresCaseAndSpacing) {
    EXPECT_EQ(normalize_dn("UID=Bob, OU=People,dc=Example,dc=com"), normalize_dn("uid=bob,ou=people,dc=example,dc=com"));
    EXPECT_FALSE(normalize_dn("uid=bob,ou=people").empty());
    EXPECT_EQ(normalize_dn("not a dn"), "");
}

// Whether two DNs certainly name one entry, whatever the naming attributes' matching
// rules: types ignore case, values do not (a case-sensitive attribute may name two).
TEST(Dn, SameEntryDn) {
    struct Case {
        const char *a, *b;
        bool same;
    };
    const Case cases[] = {
        {"uid=bob,ou=people,dc=ex", "uid=bob,ou=people,dc=ex", true},
        {"UID=bob, ou=people,DC=ex", "uid=bob,ou=people,dc=ex", true},      // types and spacing
        {"cn=a\\,b,dc=ex", "cn=\\61\\2cb,dc=ex", true},                      // escapes, unescaped
        {"uid=Bob,ou=people,dc=ex", "uid=bob,ou=people,dc=ex", false},      // a value's case
        {"uid=bob,ou=People,dc=ex", "uid=bob,ou=people,dc=ex", false},
        {"uid=bob,ou=people,dc=ex", "uid=bob,ou=people", false},            // one RDN more
        {"uid=bob+cn=x,dc=ex", "uid=bob,dc=ex", false},                     // one value more
        {"uid=bob,dc=ex", "cn=bob,dc=ex", false},
        {"uid=#04026162,dc=ex", "uid=ab,dc=ex", false},                     // BER is not a string
        {"not a dn", "not a dn", false},
        {"", "", false},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(same_entry_dn(c.a, c.b), c.same) << c.a << " / " << c.b;
        EXPECT_EQ(same_entry_dn(c.b, c.a), c.same) << c.b << " / " << c.a;
    }
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

// users.dn_template, table-driven: each placeholder, escaping, and what is refused.
TEST(Dn, FillDnTemplate) {
    struct Case {
        const char* tmpl;
        const char* login;
        std::optional<std::string> dn;
    };
    const Case cases[] = {
        {"uid=%n,ou=people,dc=ex", "alice@example.com", "uid=alice,ou=people,dc=ex"},
        {"uid=%n,ou=people,dc=ex", "alice", "uid=alice,ou=people,dc=ex"},
        {"mail=%u,ou=people,dc=ex", "alice@example.com", "mail=alice@example.com,ou=people,dc=ex"},
        {"uid=%n,ou=%d,dc=ex", "a@b.org", "uid=a,ou=b.org,dc=ex"},
        {"uid=%n,ou=%d,dc=ex", "a", "uid=a,ou=,dc=ex"},
        {"uid=%n,ou=people,dc=ex", "a@b@c.org", "uid=a@b,ou=people,dc=ex"},        // the last '@'
        {"uid=%n,ou=people,dc=ex", "x,ou=admins@e.org", "uid=x\\,ou\\=admins,ou=people,dc=ex"},  // one RDN
        {"uid=%n,ou=people,dc=ex", "#x+y@e.org", "uid=\\#x\\+y,ou=people,dc=ex"},
        {"cn=100%%,uid=%n", "a", "cn=100%,uid=a"},
        {"uid=%s,ou=people", "a", std::nullopt},
        {"uid=%n,ou=people%", "a", std::nullopt},
    };
    for (const auto& c : cases) EXPECT_EQ(fill_dn_template(c.tmpl, c.login), c.dn) << c.tmpl << " / " << c.login;
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
