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
// filters themselves on what was read of it (local_filter.h). Whenever that cannot be
// told for certain (a filter it cannot evaluate, an attribute it did not read, a mail-
// enabled group holding the address), the questions are asked one by one as before:
// never a guess. With nested groups the walk's further levels follow (directory.cpp,
// merged_walk), now below the known mailbox.
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

    std::vector<LdapEntry> mailboxes, grant_entries;
    FirstLevel first;
    for (auto& entry : ldap_.search(SearchRequest{base, SearchScope::Subtree, filter, asked})) {
        const Truth is_address = address_filter->evaluate(entry, read, ObjectClassRule::Strict);
        // Listed: a wrong "no" to "is the user in this group" loses a membership, never
        // gains one. The member lists are not read, so a group's answer is Unknown.
        const Truth may_be_group = member_filter->evaluate(entry, read, ObjectClassRule::Listed);
        if (entry.has_value_ci("objectClass", schema.grant_object_class)) {
            if (is_address != Truth::False || may_be_group != Truth::False)
                return Directory::sender_facts(user_dn, address);
            grant_entries.push_back(std::move(entry));
        } else if (is_address == Truth::True) {
            // A mailbox that may also be a group of the user's (a mail-enabled group):
            // its member list was not read.
            if (may_be_group != Truth::False) return Directory::sender_facts(user_dn, address);
            if (dn_within(entry.dn, config_.users_base())) mailboxes.push_back(std::move(entry));
        } else if (is_address == Truth::False && may_be_group != Truth::False) {
            // Only the member filter is left to have matched it.
            if (dn_within(entry.dn, config_.groups_base())) first.steps.push_back(GroupStep{entry.dn, 0});
        } else {
            return Directory::sender_facts(user_dn, address);  // not told apart, or slapd and this disagree
        }
    }
    SenderFacts facts;
    facts.mailbox = single_account(mailboxes, "address '" + address + "'");
    if (!facts.mailbox) return facts;
    const std::string mailbox_key = normalize_dn(facts.mailbox->dn);
    std::vector<LdapEntry> below;
    for (auto& entry : grant_entries)
        if (normalize_dn(parent_dn(entry.dn)) == mailbox_key) below.push_back(std::move(entry));
    first.grants = grants_from_entries(below, schema);
    facts.with = merged_walk(user_dn, facts.mailbox->dn, &first);
    return facts;
}

}  // namespace mailgrant
