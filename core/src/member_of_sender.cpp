// member_of_sender.cpp -- LdapDirectory::sender_facts_for with groups.membership memberof:
// a cold sender decision for a user in groups in two searches, the login's and one more
// (issue 19: at most 2 per cold policy decision), and one per further level of nesting.
//
// Why memberOf: a grant naming one of the user's groups can be asked for only once the
// groups are known, and LDAP has no join. In search mode the groups take a search of their
// own ((member=<user>), sender_facts.cpp), so a user in groups costs three. slapd's memberof
// overlay keeps that join up to date on the user's entry: the login search reads the
// user's memberOf (find_login), and this one search from ldap.base ORs
//   the address   users.address_filter (kept: entries within users.base);
//   the groups    the user's direct groups by entryDN, for their own memberOf (the next
//                 level of nesting; the overlay does not flatten it);
//   the grants    naming the user or one of those groups and carrying a send right,
//                 anywhere: the mailbox is not known yet.
// Each entry's part is proved, never inferred, as in sender_facts.cpp: the address filter
// evaluated on the entry (local_filter.h; Unknown is settled by slapd with a base search,
// at most kMaxSettled), a group by its DN being one of those asked for, a grant by its
// class, a grantee asked for and a send right. An entry that is none of them, a grant
// that is also something else, or a search refused or cut by a size limit: every question
// one by one (Directory::sender_facts), never a guess.
//
// Further levels (merged_walk's way): each level's groups by entryDN and the grants below
// the mailbox naming anyone found so far, in one search; the last level's grants replace
// the earlier ones, so they come in slapd's order, as grants_of gives them. The groups
// come in the order of groups_by_member_of (the memberOf reads one by one).
#include <ldap.h>

#include <map>
#include <set>

#include "mailgrant/directory.h"
#include "mailgrant/dn.h"
#include "mailgrant/input.h"
#include "mailgrant/ldap_error.h"
#include "mailgrant/ldap_filter.h"
#include "mailgrant/local_filter.h"

namespace mailgrant {

namespace {

// The DNs of `frontier` within `base`, by normal form -> frontier index (walk_nested never
// puts one DN in a frontier twice).
std::map<std::string, std::size_t> in_base(const std::vector<GroupMembership>& frontier, const std::string& base) {
    std::map<std::string, std::size_t> out;
    for (std::size_t i = 0; i < frontier.size(); ++i) {
        const std::string key = normalize_dn(frontier[i].dn);
        if (!key.empty() && dn_within(frontier[i].dn, base)) out.emplace(key, i);
    }
    return out;
}

bool names_one_of(const LdapEntry& grant, const std::string& grantee_attr, const std::set<std::string>& keys) {
    for (const auto& g : grant.values(grantee_attr))
        if (keys.count(normalize_dn(g))) return true;
    return false;
}

// Thrown inside the walk: an entry this search cannot place. Caught below, where every
// question is then asked one by one.
struct OneByOne {};

}  // namespace

SenderFacts LdapDirectory::sender_facts_for(const Account& user, const std::string& address) {
    check_address(address);
    const std::string& base = config_.ldap.base;
    if (config_.groups.membership != MembershipMode::MemberOf || !user.member_of || !dn_within(config_.users_base(), base))
        return sender_facts(user.dn, address);
    const std::string address_text = fill_filter(config_.users.address_filter, address);
    const auto address_filter = LocalFilter::parse(address_text);
    std::set<std::string> account_attrs;
    for (const auto& a : account_attributes()) account_attrs.insert(ascii_lower(a));
    if (!address_filter || !address_filter->names_only(account_attrs)) return sender_facts(user.dn, address);

    const SchemaConfig& schema = config_.schema;
    const std::string& member_of = config_.groups.member_of_attribute;
    std::vector<std::string> attrs = account_attributes();
    for (const auto& a : grant_attributes(schema)) attrs.push_back(a);
    attrs.push_back(member_of);
    std::set<std::string> read;  // every attribute asked for, all its values
    for (const auto& a : attrs) read.insert(ascii_lower(a));
    const std::string grant_class = "(objectClass=" + escape_filter_value(schema.grant_object_class) + ")";

    SenderFacts facts;
    bool first_done = false;
    std::vector<std::string> known{user.dn};  // the user, then every group found so far
    std::size_t grants_name = 0;              // how many of `known` the grants held name
    std::size_t settled = 0;

    // The first search: the address, the groups of `level` (the user's direct groups; none
    // when the walk stops before them) and the grants naming the user or one of them.
    // Returns the memberOf of each of `level`.
    auto first_search = [&](const std::vector<GroupMembership>& level) {
        first_done = true;
        for (const auto& g : level) known.push_back(g.dn);
        const auto groups = in_base(level, base);
        if (groups.size() > kDnsPerFilter || 1 + level.size() > kGranteesPerFilter) throw OneByOne{};
        std::set<std::string> grantee_keys{normalize_dn(user.dn)};
        std::vector<std::string> grantees{"(" + schema.grantee + "=" + escape_filter_value(user.dn) + ")"};
        for (const auto& g : level) {
            grantee_keys.insert(normalize_dn(g.dn));
            grantees.push_back("(" + schema.grantee + "=" + escape_filter_value(g.dn) + ")");
        }
        std::vector<std::string> terms{address_text,
                                       "(&" + grant_class + any_of(grantees) + "(" + schema.send + "=*))"};
        for (const auto& kv : groups) terms.push_back("(entryDN=" + escape_filter_value(level[kv.second].dn) + ")");
        std::vector<LdapEntry> found;
        try {
            found = ldap_.search(SearchRequest{base, SearchScope::Subtree, any_of(terms), attrs});
        } catch (const LdapError& e) {
            // This search's own limits (more grants naming the user than a lookup may
            // hold), not LDAP trouble: the questions one by one ask less.
            if (e.code() == LDAP_SIZELIMIT_EXCEEDED || e.code() == LDAP_ADMINLIMIT_EXCEEDED) throw OneByOne{};
            throw;
        }
        std::vector<std::vector<std::string>> parents(level.size());
        std::vector<bool> group_read(level.size(), false);
        std::vector<LdapEntry> mailboxes, grant_entries;
        for (auto& entry : found) {
            Truth is_address = address_filter->evaluate(entry, read);
            const auto group = groups.find(normalize_dn(entry.dn));
            if (entry.has_value_ci("objectClass", schema.grant_object_class)) {
                if (group != groups.end() || is_address != Truth::False || entry.values(schema.send).empty() ||
                    !names_one_of(entry, schema.grantee, grantee_keys))
                    throw OneByOne{};
                grant_entries.push_back(std::move(entry));
                continue;
            }
            if (is_address == Truth::Unknown) {
                if (++settled > kMaxSettled) throw OneByOne{};
                is_address = ldap_.search(SearchRequest{entry.dn, SearchScope::Base, address_text, {"1.1"}}).empty()
                                 ? Truth::False
                                 : Truth::True;
            }
            if (group != groups.end()) {
                parents[group->second] = entry.values(member_of);
                group_read[group->second] = true;
            } else if (is_address == Truth::False) {
                throw OneByOne{};  // slapd returned it: this and slapd disagree
            }
            if (is_address == Truth::True && dn_within(entry.dn, config_.users_base())) mailboxes.push_back(std::move(entry));
        }
        facts.mailbox = single_account(mailboxes, "address '" + address + "'");
        if (facts.mailbox) {
            const std::string mailbox_key = normalize_dn(facts.mailbox->dn);
            std::vector<LdapEntry> below;
            for (auto& entry : grant_entries)
                if (normalize_dn(parent_dn(entry.dn)) == mailbox_key) below.push_back(std::move(entry));
            facts.with.grants = grants_from_entries(below, schema);
            grants_name = 1 + level.size();
        }
        // A group outside the base, or one the search did not return (gone, or an ACL
        // hiding its entryDN): read by itself, as groups_by_member_of does.
        for (std::size_t i = 0; i < level.size(); ++i)
            if (!group_read[i])
                for (const auto& entry : ldap_.search(SearchRequest{level[i].dn, SearchScope::Base, "(objectClass=*)", {member_of}}))
                    parents[i] = entry.values(member_of);
        return parents;
    };

    // A further level, the mailbox known: its groups' memberOf and the grants below the
    // mailbox naming anyone found so far, in one search.
    auto next_search = [&](const std::vector<GroupMembership>& level) {
        for (const auto& g : level) known.push_back(g.dn);
        const auto groups = in_base(level, base);
        std::vector<std::vector<std::string>> parents(level.size());
        std::vector<bool> group_read(level.size(), false);
        const bool with_grants = groups.size() <= kDnsPerFilter && known.size() <= kGranteesPerFilter;
        std::vector<LdapEntry> grant_entries;
        if (with_grants) {
            std::vector<std::string> terms{grant_filter(known, facts.mailbox->dn)};
            for (const auto& kv : groups) terms.push_back("(entryDN=" + escape_filter_value(level[kv.second].dn) + ")");
            std::vector<std::string> asked = grant_attributes(schema);
            asked.push_back("objectClass");
            asked.push_back(member_of);
            for (auto& entry : ldap_.search(SearchRequest{base, SearchScope::Subtree, any_of(terms), asked})) {
                const auto group = groups.find(normalize_dn(entry.dn));
                const bool grant = entry.has_value_ci("objectClass", schema.grant_object_class);
                if (group != groups.end() && !grant) {
                    parents[group->second] = entry.values(member_of);
                    group_read[group->second] = true;
                } else if (grant && group == groups.end()) {
                    grant_entries.push_back(std::move(entry));
                } else {
                    throw OneByOne{};
                }
            }
            facts.with.grants = grants_from_entries(grant_entries, schema);
            grants_name = known.size();
        } else {  // too many for one filter: the groups as groups_by_member_of reads them, the grants after the walk
            std::vector<std::string> dns;
            for (const auto& kv : groups) dns.push_back(level[kv.second].dn);
            for (const auto& entry : entries_by_dn(dns, {member_of}, kDnsPerFilter)) {
                const auto group = groups.find(normalize_dn(entry.dn));
                if (group == groups.end()) continue;
                parents[group->second] = entry.values(member_of);
                group_read[group->second] = true;
            }
        }
        for (std::size_t i = 0; i < level.size(); ++i)
            if (!group_read[i])
                for (const auto& entry : ldap_.search(SearchRequest{level[i].dn, SearchScope::Base, "(objectClass=*)", {member_of}}))
                    parents[i] = entry.values(member_of);
        return parents;
    };

    try {
        std::size_t depth = 0;
        facts.with.groups = walk_nested(user.dn, config_.groups.max_depth, [&](const std::vector<GroupMembership>& frontier) {
            std::vector<GroupStep> steps;
            const std::size_t level = depth++;
            if (level == 0) {  // the user: the memberOf the login search read
                for (const auto& dn : *user.member_of) steps.push_back(GroupStep{dn, 0});
                return steps;
            }
            const auto parents = level == 1 ? first_search(frontier) : next_search(frontier);
            if (!facts.mailbox) return steps;  // no mailbox: the groups do not matter
            for (std::size_t i = 0; i < parents.size(); ++i)
                for (const auto& dn : parents[i]) steps.push_back(GroupStep{dn, i});
            return steps;
        });
        // The walk stopped before the user's direct groups were a level of their own (none,
        // or groups.max_depth 1): the first search still asks for the address and the grants.
        if (!first_done) {
            std::vector<GroupMembership> direct;
            for (const auto& g : facts.with.groups)
                if (g.path.size() == 1) direct.push_back(g);
            first_search(direct);
        }
    } catch (const OneByOne&) {
        return sender_facts(user.dn, address);
    }
    if (!facts.mailbox) return SenderFacts{};
    // The walk ended with groups the last grant filter did not name (depth limit, or too
    // many for one filter): every grant once more, naming all of them.
    if (grants_name < 1 + facts.with.groups.size())
        facts.with.grants = grants_naming(grantee_dns(user.dn, facts.with.groups), facts.mailbox->dn);
    return facts;
}

}  // namespace mailgrant
