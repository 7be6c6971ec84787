// local_filter.h -- an RFC 4515 filter evaluated against an entry mailgrant already read.
//
// When one search answers several questions at once (an OR of their filters, as a cold
// sender decision asks: directory.h, Directory::sender_facts), each entry that comes back
// must be told apart: did it match the address filter, or the member filter? slapd does
// not say. This evaluates a filter on the entry in three-valued logic: True and False
// only where slapd would certainly answer the same, Unknown everywhere else (an attribute
// that was not read, a substring, ordering, approximate or extensible assertion, an
// attribute option in the filter, a value only Unicode case folding or LDAP's
// insignificant spaces might equate). Values returned with an option ("mail;lang-de")
// count as the attribute's, as slapd matches them. Attribute names are taken as slapd
// returns them: a filter naming an attribute by an alias or a supertype is the caller's
// to refuse. A caller that gets Unknown asks its questions one by one instead, so a
// wrong guess never decides anything.
//
// Values compare case-insensitively (every attribute mailgrant's default filters name --
// objectClass, uid, mail, mailLocalAddress, member, uniqueMember, mailGrantee -- is
// matched so by slapd); two DNs compare by their normal form (dn.h).
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mailgrant/ldap_client.h"

namespace mailgrant {

enum class Truth { False, True, Unknown };

class LocalFilter {
public:
    static constexpr std::size_t kMaxLength = 16384;  // a filter's text
    static constexpr int kMaxDepth = 32;               // nested (&(|(!...

    // nullopt when the text is not a filter this parser reads (a caller then cannot
    // tell entries apart locally and must not try).
    static std::optional<LocalFilter> parse(std::string_view text);

    // `read`: the attributes the search asked for, lower-case (an attribute outside it
    // is Unknown, not absent). objectClass must be among them. An objectClass the entry
    // does not list is Unknown: slapd matches a superclass too ((objectClass=person)
    // matches an entry listing only inetOrgPerson), which the entry alone does not tell.
    Truth evaluate(const LdapEntry& entry, const std::set<std::string>& read) const;

    // Every attribute the filter names, lower-case, each once.
    std::vector<std::string> attributes() const;
    // Names it no attribute but objectClass and those of `allowed` (lower-case)? A caller
    // reads only those by these names: one named by an alias or a supertype would come
    // back under another name, so the caller asks its questions one by one instead.
    bool names_only(const std::set<std::string>& allowed) const;

    struct Node;

private:
    explicit LocalFilter(std::shared_ptr<const Node> root) : root_(std::move(root)) {}
    std::shared_ptr<const Node> root_;
};

}  // namespace mailgrant
