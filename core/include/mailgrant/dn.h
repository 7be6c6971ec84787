// dn.h -- distinguished names as mailgrant compares them.
//
// Grants name their grantee by DN and the owner is the grant's parent, so DNs read from
// different entries must compare equal however they were typed ("UID=Bob, ou=People").
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mailgrant {

// Canonical form for comparison: LDAPv3 string form via libldap, ASCII lower-cased.
// (All naming attributes mailgrant expects -- uid, cn, ou, dc, mail -- match case-insensitively.)
// Returns the empty string for a DN that does not parse.
std::string normalize_dn(std::string_view dn);

// True when `a` and `b` certainly name the same entry, whatever matching rules the
// directory gives their naming attributes: the same RDNs in the same order, attribute
// types compared ignoring ASCII case, values byte for byte once unescaped ("uid=Bob" is
// not "uid=bob" here, though normalize_dn makes them equal). For a decision that takes
// one DN for another (login_groups.cpp: the guessed DN is the login's own): a naming
// attribute may be case-sensitive, and then two entries differ only in case. False for
// a DN that does not parse.
bool same_entry_dn(std::string_view a, std::string_view b);

// The parent of "cn=x,uid=alice,ou=people,..." is "uid=alice,ou=people,..."; "" for a root.
std::string parent_dn(std::string_view dn);

// The first RDN as libldap parses it: its (first) attribute type as written, its value
// unescaped, and whether it has more than one (uid=a+cn=b). nullopt for a DN that does
// not parse or has no RDN.
struct FirstRdn {
    std::string type, value;
    bool multi_valued = false;
};
std::optional<FirstRdn> first_rdn(std::string_view dn);

// The value of the first RDN, unescaped: "support-team" for
// "cn=support-team,ou=groups,..." and "a,b" for "cn=a\\,b,...". "" for a DN that does
// not parse. Names a group to people (GETACL's $group) without cutting DNs by hand.
std::string first_rdn_value(std::string_view dn);

// A value escaped for use as an RDN value (RFC 4514 section 2.4): ',', '+', '"', '\\',
// '<', '>', ';', '=' and a leading '#' or space / trailing space get a backslash; control
// bytes and NUL become \XX. So "cn=" + escape_rdn_value(name) + "," + parent is one RDN
// whatever the name holds (a grant named after "a,b" cannot move to another parent).
std::string escape_rdn_value(std::string_view value);

// users.dn_template filled for a login, as Dovecot's auth_bind_userdn is: %u the login,
// %n its part before the last '@' (all of it without one), %d the part after ("" without
// one), %% a '%'; each value escaped by escape_rdn_value. (Dovecot 2.3 cuts %n at the
// first '@': a login with two '@' then guesses another DN, which the login search
// disproves at the cost of one search.) A guess only: mailgrant keeps
// what it found with it only once the login search proved the DN (login_groups.cpp).
// nullopt for another '%' sequence (config.cpp refuses such a template).
std::optional<std::string> fill_dn_template(std::string_view tmpl, std::string_view login);

// A login cut as fill_dn_template's %n and %d cut it: the part before the last '@' (all
// of it without one) and the part after ("" without one).
struct LoginParts {
    std::string_view local, domain;
};
LoginParts split_login(std::string_view login);

// `dn` is `base` or below it, both compared normalised; an unparsable DN is below
// nothing, and everything is below an empty base.
bool dn_within(std::string_view dn, std::string_view base);

// True when the text has the shape of a DN (attr=value) rather than an address or login.
bool looks_like_dn(std::string_view text);

std::string ascii_lower(std::string_view text);

}  // namespace mailgrant
