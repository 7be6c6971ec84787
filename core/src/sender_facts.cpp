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
// slapd does not say which question an entry answers, so each part an entry plays must
// be proved, never inferred from the others being ruled out: the filters are evaluated
// on the entry (local_filter.h, three-valued), with the member attributes read through
// RFC 3876 matched values (only the user's own DN comes back of a group's members, so a
// group of 10,000 costs one value). An entry is
//   the address's   when the address filter is True on it,
//   the user's group   when the member filter is True on it,
//   a grant           when it lists the grant class, names the user and has a send right.
// One the entry alone does not settle (an objectClass slapd may match through a
// subclass, a value only Unicode case folding might equate) slapd settles with a base
// search on it (at most
// kMaxSettled); an entry that is none of the three although slapd returned it has every
// question asked one by one as before, and so has a directory that refuses the control or
// whose answer passes a size limit: never a guess. Groups matter only once the mailbox is
// known. With nested groups the walk's further levels follow (directory.cpp,
// merged_walk), below the known mailbox.
#include <set>

#include "mailgrant/directory.h"
#include "mailgrant/dn.h"
#include "mailgrant/input.h"
#include "mailgrant/ldap_filter.h"
#include "mailgrant/local_filter.h"

namespace mailgrant {

SenderFacts LdapDirectory::sender_facts(const std::string& user_dn, const std::string& address) {
    return sender_facts_from(user_dn, nullptr, address);
}

SenderFacts LdapDirectory::sender_facts_from(const std::string& user_dn, const std::vector<std::string>* direct,
                                             const std::string& address) {
    check_address(address);
    const std::string& base = config_.ldap.base;
    if (!merges_groups() || !dn_within(config_.users_base(), base)) return Directory::sender_facts(user_dn, address);
    // The level this search asks for: the groups naming the user, or, with the user's
    // direct groups known, the groups naming one of those.
    const std::vector<std::string> frontier = direct ? *direct : std::vector<std::string>{user_dn};
    std::vector<std::string> known{user_dn};  // every grantee the grant term names
    if (direct) known.insert(known.end(), direct->begin(), direct->end());
    if (frontier.size() > kDnsPerFilter || known.size() > kGranteesPerFilter) return Directory::sender_facts(user_dn, address);
    const std::string address_text = fill_filter(config_.users.address_filter, address);
    std::vector<std::string> member_terms;
    for (const auto& dn : frontier) member_terms.push_back(fill_filter(config_.groups.member_filter, dn));
    // No group to ask about (the login found none): the member term is left out.
    const std::string member_text = member_terms.empty() ? "" : any_of(member_terms);
    const auto address_filter = LocalFilter::parse(address_text);
    const auto member_filter = LocalFilter::parse(member_text.empty() ? "(!(objectClass=*))" : member_text);
    // Only filters on the attributes mailgrant reads by those names (an alias or a
    // supertype would come back under another name): else one by one.
    const std::vector<std::string> account_attrs = account_attributes();
    std::set<std::string> address_attrs, member_attrs;
    for (const auto& a : account_attrs) address_attrs.insert(ascii_lower(a));
    for (const auto& a : config_.groups.member_attributes) member_attrs.insert(ascii_lower(a));
    if (!address_filter || !member_filter || !address_filter->names_only(address_attrs) ||
        !member_filter->names_only(member_attrs))
        return Directory::sender_facts(user_dn, address);

    // Each attribute asked once, with its matched-values items: of the member attributes
    // the frontier's DNs, of every other attribute all values.
    const SchemaConfig& schema = config_.schema;
    std::set<std::string> read;
    std::vector<std::string> asked;
    std::string values_filter = "(";
    auto ask = [&](const std::string& attribute, const std::vector<std::string>& values) {
        if (!read.insert(ascii_lower(attribute)).second) return;
        asked.push_back(attribute);
        for (const auto& value : values) values_filter += "(" + attribute + "=" + value + ")";
    };
    std::vector<std::string> frontier_values;
    for (const auto& dn : frontier) frontier_values.push_back(escape_filter_value(dn));
    for (const auto& a : config_.groups.member_attributes) ask(a, frontier_values);
    for (const auto& a : account_attrs) ask(a, {"*"});
    for (const auto& a : grant_attributes(schema)) ask(a, {"*"});
    values_filter += ")";
    std::vector<std::string> grantee_terms;
    std::set<std::string> known_keys;
    for (const auto& dn : known) {
        grantee_terms.push_back("(" + schema.grantee + "=" + escape_filter_value(dn) + ")");
        known_keys.insert(normalize_dn(dn));
    }
    const std::string grants_filter = "(&(objectClass=" + escape_filter_value(schema.grant_object_class) + ")" +
                                      any_of(grantee_terms) + "(" + schema.send + "=*))";
    // Not limited to users.base and groups.base in the filter (an entryDN assertion is
    // Undefined where an ACL hides entryDN): an entry outside them is left out below.
    SearchRequest request{base, SearchScope::Subtree, "(|" + address_text + member_text + grants_filter + ")", asked};
    request.values_filter = values_filter;
    auto found = merged_search(request);
    if (!found) return Directory::sender_facts(user_dn, address);

    std::size_t settled = 0;
    bool too_many = false;
    // slapd's own answer for one entry: does `text` match it?
    auto settle = [&](const LdapEntry& entry, const std::string& text) {
        if (++settled > kMaxSettled) {
            too_many = true;
            return false;
        }
        return !ldap_.search(SearchRequest{entry.dn, SearchScope::Base, text, {"1.1"}}).empty();
    };
    std::vector<GroupMembership> frontier_groups;  // via_of's view of the frontier
    for (const auto& dn : frontier) frontier_groups.push_back(GroupMembership{dn, {}});
    std::vector<LdapEntry> mailboxes, grant_entries;
    std::vector<GroupStep> steps;
    for (auto& entry : *found) {
        Truth is_address = address_filter->evaluate(entry, read);
        Truth is_group = member_filter->evaluate(entry, read);
        if (entry.has_value_ci("objectClass", schema.grant_object_class)) {
            bool names_known = false;
            for (const auto& g : entry.values(schema.grantee)) names_known = names_known || known_keys.count(normalize_dn(g));
            // A grant that is also an address's entry or a group: not for this search.
            if (!names_known || entry.values(schema.send).empty() || is_address != Truth::False ||
                is_group != Truth::False)
                return Directory::sender_facts(user_dn, address);
            grant_entries.push_back(std::move(entry));
            continue;
        }
        // A group of the user's may hold the address too (a mail-enabled group), and an
        // address's entry may be a group of the user's: each part is settled on its own.
        if (is_address == Truth::Unknown) is_address = settle(entry, address_text) ? Truth::True : Truth::False;
        if (is_group == Truth::Unknown) is_group = settle(entry, member_text) ? Truth::True : Truth::False;
        if (too_many) return Directory::sender_facts(user_dn, address);
        if (is_address == Truth::False && is_group == Truth::False)
            return Directory::sender_facts(user_dn, address);  // slapd returned it: this and slapd disagree
        if (is_group == Truth::True && dn_within(entry.dn, config_.groups_base()))
            steps.push_back(GroupStep{entry.dn, via_of(entry, frontier_groups, 0, frontier_groups.size())});
        if (is_address == Truth::True && dn_within(entry.dn, config_.users_base())) mailboxes.push_back(std::move(entry));
    }
    SenderFacts facts;
    facts.mailbox = single_account(mailboxes, "address '" + address + "'");
    if (!facts.mailbox) return facts;  // no mailbox: the groups do not matter
    Prefetched pre;
    if (direct) {
        std::vector<GroupStep> first;
        for (const auto& dn : *direct) first.push_back(GroupStep{dn, 0});
        pre.levels.push_back(std::move(first));
    }
    pre.levels.push_back(std::move(steps));
    pre.grants = grants_below(grant_entries, facts.mailbox->dn);
    pre.grants_name = known.size();
    facts.with = merged_walk(user_dn, facts.mailbox->dn, &pre);
    return facts;
}

// Of the grants a search from the base found, those directly below the mailbox: the
// mailbox was not known when the search was made.
std::vector<Grant> LdapDirectory::grants_below(std::vector<LdapEntry>& grant_entries, const std::string& mailbox_dn) const {
    const std::string mailbox_key = normalize_dn(mailbox_dn);
    std::vector<LdapEntry> below;
    for (auto& entry : grant_entries)
        if (normalize_dn(parent_dn(entry.dn)) == mailbox_key) below.push_back(std::move(entry));
    return grants_from_entries(below, config_.schema);
}

}  // namespace mailgrant
