// member_of_walk.cpp -- groups.membership memberof: the group walk over memberOf
// (LdapDirectory::groups_by_member_of, from the user's DN alone), and, with the user's
// memberOf read by the login search (find_login), the walk of a login's answers with the
// grants in the same searches (issue 19): ::member_of_groups_and_grants and
// ::member_of_sender_facts (what groups_and_grants_for and sender_facts_for ask there).
//
// Why memberOf: a grant naming one of the user's groups can be asked for only once the
// groups are known, and LDAP has no join. In search mode the groups take a search of their
// own ((member=<user>), sender_facts.cpp), so a user in groups costs a cold send decision
// three searches. slapd's memberof overlay keeps that join up to date on the user's entry,
// and the login search reads it: the walk starts one level further.
//
// Each level (member_of_level): the level's groups by entryDN (for their own memberOf, the
// next level: the overlay does not flatten nesting) and the grants naming anyone found so
// far (below the mailbox, or anywhere), in one search from ldap.base; the last level's
// grants replace the earlier ones, so they come in slapd's order, as grants_of and
// grants_to give them (merged_walk's way). The groups come in groups_by_member_of's order
// (the memberOf reads one by one). A user in no group: one grant search. In groups that
// nest no further: one search. One more per level of nesting.
//
// A cold send decision (member_of_sender_facts) asks its first level with the address too: one
// search from ldap.base ORs
//   the address   users.address_filter (kept: entries within users.base);
//   the groups    the user's direct groups by entryDN;
//   the grants    naming the user or one of those groups and carrying a send right,
//                 anywhere: the mailbox is not known yet.
// so the login's search and this one decide a user whose groups nest no further (issue
// 19: at most 2 per cold policy decision).
//
// Each entry's part is proved, never inferred, as in sender_facts.cpp: the address filter
// evaluated on the entry (local_filter.h; Unknown is settled by slapd with a base search,
// at most kMaxSettled), a group by its DN being one of those asked for, a grant by its
// class (in the first search also a grantee asked for and a send right; in a further
// level's search the grant term is the only one a grant-class entry that is not one of the
// level's groups can match, and the decision checks each grant's grantees again). An entry that is
// none of them, a grant that is also something else, or a search cut by a size limit:
// every question one by one (Directory's defaults), never a guess.
#include <functional>
#include <map>
#include <set>

#include "mailgrant/directory.h"
#include "mailgrant/dn.h"
#include "mailgrant/input.h"
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

// The memberOf of each of a level, by the level's index.
using Parents = std::vector<std::vector<std::string>>;

// A level's next steps: each memberOf value of its i-th group, reached from it.
std::vector<GroupStep> steps_from(const Parents& parents) {
    std::vector<GroupStep> steps;
    for (std::size_t i = 0; i < parents.size(); ++i)
        for (const auto& dn : parents[i]) steps.push_back(GroupStep{dn, i});
    return steps;
}

// The walk from the login's memberOf (level 1 without a search); `next` answers each
// further level with the memberOf of each of its groups (none: the walk ends there).
std::vector<GroupMembership> walk_from(const Account& user, int max_depth,
                                       const std::function<Parents(const std::vector<GroupMembership>&)>& next) {
    bool first = true;
    return walk_nested(user.dn, max_depth, [&](const std::vector<GroupMembership>& frontier) {
        std::vector<GroupStep> steps;
        if (first) {
            first = false;
            for (const auto& dn : *user.direct_groups) steps.push_back(GroupStep{dn, 0});
            return steps;
        }
        return steps_from(next(frontier));
    });
}

}  // namespace

// memberOf overlay, from the user's DN alone: the user's entry lists its direct groups;
// nested groups are found by reading memberOf of each group in turn (the overlay does not
// flatten nesting): member_of_values for each level.
std::vector<GroupMembership> LdapDirectory::groups_by_member_of(const std::string& user_dn) {
    return walk_nested(user_dn, config_.groups.max_depth,
                       [&](const std::vector<GroupMembership>& frontier) { return steps_from(member_of_values(frontier)); });
}

// A level of several groups is read in one search per kDnsPerFilter, (entryDN=G) OR-ed
// from ldap.base (slapd's DN index answers it): a user in 20 groups costs one search for
// them, not 20. A single one is one search either way: read by itself. So is a group
// outside ldap.base, or one that search did not return (gone, or an ACL hiding its
// entryDN, where the filter is Undefined), so the answer is the reads one by one, in the
// same order.
std::vector<std::vector<std::string>> LdapDirectory::member_of_values(const std::vector<GroupMembership>& level) {
    const std::string& member_of = config_.groups.member_of_attribute;
    const auto groups = in_base(level, config_.ldap.base);
    Parents parents(level.size());
    std::vector<bool> read(level.size(), false);
    if (groups.size() > 1) {
        std::vector<std::string> dns;
        for (const auto& kv : groups) dns.push_back(level[kv.second].dn);
        for (const auto& entry : entries_by_dn(dns, {member_of}, kDnsPerFilter)) {
            const auto group = groups.find(normalize_dn(entry.dn));
            if (group == groups.end()) continue;
            parents[group->second] = entry.values(member_of);
            read[group->second] = true;
        }
    }
    read_the_rest(level, read, parents);
    return parents;
}

// A group outside the base, or one the level's search did not return (gone, or an ACL
// hiding its entryDN): read by itself, as the walk one by one reads it.
void LdapDirectory::read_the_rest(const std::vector<GroupMembership>& level, const std::vector<bool>& read,
                                  std::vector<std::vector<std::string>>& parents) {
    const std::string& member_of = config_.groups.member_of_attribute;
    for (std::size_t i = 0; i < level.size(); ++i)
        if (!read[i])
            for (const auto& entry : ldap_.search(SearchRequest{level[i].dn, SearchScope::Base, "(objectClass=*)", {member_of}}))
                parents[i] = entry.values(member_of);
}

std::vector<std::vector<std::string>> LdapDirectory::member_of_level(const std::vector<GroupMembership>& level,
                                                                     std::vector<std::string>& known,
                                                                     const std::string& mailbox_dn,
                                                                     GroupsAndGrants& answer, std::size_t& grants_name) {
    const SchemaConfig& schema = config_.schema;
    const std::string& member_of = config_.groups.member_of_attribute;
    for (const auto& g : level) known.push_back(g.dn);
    const auto groups = in_base(level, config_.ldap.base);
    // Too many for one filter: the groups as groups_by_member_of reads them, the grants after the walk.
    if (groups.size() > kDnsPerFilter || known.size() > kGranteesPerFilter) return member_of_values(level);
    Parents parents(level.size());
    std::vector<bool> group_read(level.size(), false);
    std::vector<std::string> terms{grant_filter(known, mailbox_dn)};
    for (const auto& kv : groups) terms.push_back("(entryDN=" + escape_filter_value(level[kv.second].dn) + ")");
    std::vector<std::string> asked = grant_attributes(schema);
    asked.push_back("objectClass");
    asked.push_back(member_of);
    std::vector<LdapEntry> grant_entries;
    auto found = merged_search(SearchRequest{config_.ldap.base, SearchScope::Subtree, any_of(terms), asked});
    if (!found) throw OneByOne{};
    for (auto& entry : *found) {
        const auto group = groups.find(normalize_dn(entry.dn));
        const bool grant = entry.has_value_ci("objectClass", schema.grant_object_class);
        if (group != groups.end() && !grant) {
            parents[group->second] = entry.values(member_of);
            group_read[group->second] = true;
        } else if (grant && group == groups.end()) {  // not a group asked for: the grant term found it
            grant_entries.push_back(std::move(entry));
        } else {
            throw OneByOne{};
        }
    }
    answer.grants = grants_from_entries(grant_entries, schema);
    grants_name = known.size();
    read_the_rest(level, group_read, parents);
    return parents;
}

GroupsAndGrants LdapDirectory::member_of_groups_and_grants(const Account& user, const std::string& mailbox_dn) {
    if (config_.groups.membership != MembershipMode::MemberOf || !user.direct_groups ||
        !(mailbox_dn.empty() || dn_within(mailbox_dn, config_.ldap.base)))
        return groups_and_grants(user.dn, mailbox_dn);
    if (!mailbox_dn.empty()) check_dn(mailbox_dn, "mailbox DN");
    GroupsAndGrants answer;
    std::vector<std::string> known{user.dn};  // the user, then every group found so far
    std::size_t grants_name = 0;              // how many of `known` the grants held name
    try {
        answer.groups = walk_from(user, config_.groups.max_depth, [&](const std::vector<GroupMembership>& level) {
            return member_of_level(level, known, mailbox_dn, answer, grants_name);
        });
    } catch (const OneByOne&) {
        return groups_and_grants(user.dn, mailbox_dn);
    }
    // The walk ended with groups the last grant filter did not name (none was a level: a
    // user in no group; the depth limit; too many for one filter): every grant once more.
    if (grants_name < 1 + answer.groups.size())
        answer.grants = grants_naming(grantee_dns(user.dn, answer.groups), mailbox_dn);
    return answer;
}

SenderFacts LdapDirectory::member_of_sender_facts(const Account& user, const std::string& address) {
    check_address(address);
    const std::string& base = config_.ldap.base;
    if (config_.groups.membership != MembershipMode::MemberOf || !user.direct_groups || !dn_within(config_.users_base(), base))
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

    // The first search: the address, the groups of `level` (the user's direct groups) and
    // the grants naming the user or one of them. Returns the memberOf of each of `level`;
    // `read_groups` false (the walk ended before that level: groups.max_depth 1, or no
    // group): the groups' own entries are not asked for, as the walk would not read them.
    auto first_search = [&](const std::vector<GroupMembership>& level, bool read_groups) {
        first_done = true;
        for (const auto& g : level) known.push_back(g.dn);
        const auto groups = read_groups ? in_base(level, base) : std::map<std::string, std::size_t>{};
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
        // nullopt: more grants naming the user than a lookup may hold
        auto found = merged_search(SearchRequest{base, SearchScope::Subtree, any_of(terms), attrs});
        if (!found) throw OneByOne{};
        Parents parents(level.size());
        std::vector<bool> group_read(level.size(), false);
        std::vector<LdapEntry> mailboxes, grant_entries;
        for (auto& entry : *found) {
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
            facts.with.grants = grants_below(grant_entries, facts.mailbox->dn);
            grants_name = 1 + level.size();
        }
        if (!facts.mailbox || !read_groups) return Parents{};  // no mailbox: the groups do not matter
        read_the_rest(level, group_read, parents);
        return parents;
    };

    try {
        facts.with.groups = walk_from(user, config_.groups.max_depth, [&](const std::vector<GroupMembership>& level) {
            if (!first_done) return first_search(level, true);
            return member_of_level(level, known, facts.mailbox->dn, facts.with, grants_name);
        });
        // The walk stopped before the user's direct groups were a level of their own (none,
        // or groups.max_depth 1): the first search still asks for the address and the grants.
        if (!first_done) {
            std::vector<GroupMembership> direct;
            for (const auto& g : facts.with.groups)
                if (g.path.size() == 1) direct.push_back(g);
            first_search(direct, false);
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
