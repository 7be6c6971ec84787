// sender_facts.cpp -- LdapDirectory::sender_facts: what a cold sender decision reads, in
// one search after the login's (issue 19: at most 2 per cold policy decision).
//
// The search ORs three questions from ldap.base:
//   the address   users.address_filter (find_address's; kept: entries within users.base);
//   the groups    groups.member_filter for the user (the first level of the group walk;
//                 kept: entries within groups.base);
//   the grants    naming the user and carrying a send right (mailGrantSend present),
//                 anywhere: the mailbox is not known yet, and a user is named by few
//                 grants with a send right (not by every folder share).
// slapd does not say which question an entry answers, so each entry is judged by the
// filters themselves on what was read of it (local_filter.h). What the entry alone cannot
// settle -- a mail-enabled group holding the address, whose member list was not read --
// slapd settles with a base search on that entry (at most kMaxSettled); an entry judged
// against what slapd answered (a grant that may be an address, an entry no filter
// matches) has every question asked one by one as before: never a guess. Groups matter
// only once the mailbox is known. With nested groups the walk's further levels follow
// (directory.cpp, merged_walk), below the known mailbox.
#include <set>

#include "mailgrant/directory.h"
#include "mailgrant/dn.h"
#include "mailgrant/input.h"
#include "mailgrant/ldap_filter.h"
#include "mailgrant/local_filter.h"

namespace mailgrant {

SenderFacts LdapDirectory::sender_facts(const std::string& user_dn, const std::string& address) {
    check_address(address);
    const std::string& base = config_.ldap.base;
    if (!merges_groups() || !dn_within(config_.users_base(), base)) return Directory::sender_facts(user_dn, address);
    const std::string address_text = fill_filter(config_.users.address_filter, address);
    const std::string member_text = fill_filter(config_.groups.member_filter, user_dn);
    const auto address_filter = LocalFilter::parse(address_text);
    const auto member_filter = LocalFilter::parse(member_text);
    if (!address_filter || !member_filter) return Directory::sender_facts(user_dn, address);

    const SchemaConfig& schema = config_.schema;
    std::vector<std::string> attrs = account_attributes();
    for (const auto& a : address_filter->attributes()) attrs.push_back(a);
    for (const auto& a : grant_attributes(schema)) attrs.push_back(a);
    std::set<std::string> read;
    std::vector<std::string> asked;
    for (const auto& a : attrs)
        if (read.insert(ascii_lower(a)).second) asked.push_back(a);
    const std::string grants_filter = "(&(objectClass=" + escape_filter_value(schema.grant_object_class) + ")(" +
                                      schema.grantee + "=" + escape_filter_value(user_dn) + ")(" + schema.send + "=*))";
    // Not limited to users.base and groups.base in the filter (an entryDN assertion is
    // Undefined where an ACL hides entryDN): an entry outside them is left out here.
    const std::string filter = "(|" + address_text + member_text + grants_filter + ")";

    struct Judged {
        LdapEntry entry;
        Truth is_address, may_be_group;
    };
    std::vector<Judged> others;
    std::vector<LdapEntry> grant_entries;
    for (auto& entry : ldap_.search(SearchRequest{base, SearchScope::Subtree, filter, asked})) {
        const Truth is_address = address_filter->evaluate(entry, read, ObjectClassRule::Strict);
        // Listed: a wrong "no" to "is the user in this group" loses a membership, never
        // gains one. The member lists are not read, so a group's answer is Unknown.
        const Truth may_be_group = member_filter->evaluate(entry, read, ObjectClassRule::Listed);
        if (entry.has_value_ci("objectClass", schema.grant_object_class)) {
            // A grant that may also be an address's entry or a group: not told apart.
            if (is_address != Truth::False || may_be_group != Truth::False)
                return Directory::sender_facts(user_dn, address);
            grant_entries.push_back(std::move(entry));
        } else if (is_address == Truth::False && may_be_group == Truth::False) {
            return Directory::sender_facts(user_dn, address);  // slapd and this disagree
        } else {
            others.push_back(Judged{std::move(entry), is_address, may_be_group});
        }
    }
    // What the entry alone cannot settle, slapd settles for that entry: a base search with
    // the filter in question (a few at most; past kMaxSettled, one by one after all).
    std::size_t settled = 0;
    bool too_many = false;
    auto settle = [&](const LdapEntry& entry, const std::string& text) {
        if (++settled > kMaxSettled) {
            too_many = true;
            return false;
        }
        return !ldap_.search(SearchRequest{entry.dn, SearchScope::Base, text, {"1.1"}}).empty();
    };
    std::vector<LdapEntry> mailboxes;
    for (auto& judged : others) {
        if (!dn_within(judged.entry.dn, config_.users_base())) continue;
        if (judged.is_address == Truth::Unknown) judged.is_address = settle(judged.entry, address_text) ? Truth::True : Truth::False;
        if (judged.is_address == Truth::True) mailboxes.push_back(judged.entry);
    }
    if (too_many) return Directory::sender_facts(user_dn, address);
    SenderFacts facts;
    facts.mailbox = single_account(mailboxes, "address '" + address + "'");
    if (!facts.mailbox) return facts;  // no mailbox: the groups do not matter
    FirstLevel first;
    for (const auto& judged : others) {
        if (!dn_within(judged.entry.dn, config_.groups_base()) || judged.may_be_group == Truth::False) continue;
        // Left by the address, only the member filter can have matched it.
        const bool group = judged.is_address == Truth::False || settle(judged.entry, member_text);
        if (group) first.steps.push_back(GroupStep{judged.entry.dn, 0});
    }
    if (too_many) return Directory::sender_facts(user_dn, address);
    const std::string mailbox_key = normalize_dn(facts.mailbox->dn);
    std::vector<LdapEntry> below;
    for (auto& entry : grant_entries)
        if (normalize_dn(parent_dn(entry.dn)) == mailbox_key) below.push_back(std::move(entry));
    first.grants = grants_from_entries(below, schema);
    facts.with = merged_walk(user_dn, facts.mailbox->dn, &first);
    return facts;
}

}  // namespace mailgrant
