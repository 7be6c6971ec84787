// directory.cpp -- LDAP searches behind the Directory interface, including the batched
// questions (groups with their grants in the walk's own searches, many mailboxes by
// entryDN in one OR-search) that keep a login's and a decision's search count fixed.
#include "mailgrant/directory.h"

#include <set>

#include <ldap.h>

#include "mailgrant/dn.h"
#include "mailgrant/input.h"
#include "mailgrant/ldap_filter.h"

namespace mailgrant {

bool Account::owns_address(const std::string& address) const {
    const std::string wanted = ascii_lower(address);
    for (const auto& a : addresses)
        if (ascii_lower(a) == wanted) return true;
    return false;
}

std::vector<std::string> LdapDirectory::account_attributes() const {
    std::vector<std::string> attrs{"objectClass", config_.users.mail_attribute, config_.schema.sent_copy};
    for (const auto& a : config_.users.alias_attributes) attrs.push_back(a);
    return attrs;
}

Account LdapDirectory::account_from_entry(const LdapEntry& entry) const {
    Account account;
    account.dn = entry.dn;
    for (const auto& mail : entry.values(config_.users.mail_attribute)) account.addresses.push_back(mail);
    for (const auto& attr : config_.users.alias_attributes)
        for (const auto& alias : entry.values(attr))
            if (!account.owns_address(alias)) account.addresses.push_back(alias);
    account.shared_mailbox = entry.has_value_ci("objectClass", config_.schema.shared_mailbox_object_class);
    // LDAP BOOLEAN is "TRUE" / "FALSE"; anything else is ignored, as if absent.
    if (entry.has_value_ci(config_.schema.sent_copy, "TRUE")) account.sent_copy = true;
    else if (entry.has_value_ci(config_.schema.sent_copy, "FALSE")) account.sent_copy = false;
    return account;
}

std::optional<std::vector<LdapEntry>> LdapDirectory::merged_search(const SearchRequest& request) {
    try {
        return ldap_.search(request);
    } catch (const LdapError& e) {
        if (e.code() == LDAP_UNAVAILABLE_CRITICAL_EXTENSION || e.code() == LDAP_SIZELIMIT_EXCEEDED ||
            e.code() == LDAP_ADMINLIMIT_EXCEEDED)
            return std::nullopt;
        throw;
    }
}

std::optional<Account> LdapDirectory::single_account(const std::vector<LdapEntry>& entries, const std::string& what) {
    if (entries.empty()) return std::nullopt;
    if (entries.size() > 1)  // ambiguous identity: refuse rather than pick one
        throw LdapError(LdapErrorKind::Other, 0,
                        what + " matches " + std::to_string(entries.size()) + " entries (" + entries[0].dn + ", " +
                            entries[1].dn + (entries.size() > 2 ? ", ..." : "") + ")");
    return account_from_entry(entries.front());
}

std::optional<Account> Directory::find_address(const std::string& address) {
    check_address(address);
    return find_mailbox(address);
}

std::optional<std::string> Directory::find_group(const std::string& name) {
    throw LdapError(LdapErrorKind::Other, 0, "this directory cannot look up group '" + excerpt(name) + "' by name");
}

std::optional<std::string> LdapDirectory::find_group(const std::string& name) {
    check_login(name, "group name");
    SearchRequest request{config_.groups_base(), SearchScope::Subtree, fill_filter(config_.groups.name_filter, name),
                          {"1.1"}};
    const auto entries = ldap_.search(request);
    if (entries.empty()) return std::nullopt;
    if (entries.size() > 1)  // ambiguous: refuse rather than share with the wrong group
        throw LdapError(LdapErrorKind::Other, 0,
                        "group name '" + excerpt(name) + "' matches " + std::to_string(entries.size()) + " entries (" +
                            entries[0].dn + ", " + entries[1].dn + (entries.size() > 2 ? ", ..." : "") + ")");
    return entries.front().dn;
}

std::optional<Account> LdapDirectory::find_login(const std::string& login) {
    check_login(login);
    // Search mode: without users.dn_template, the pattern the domain's logins showed
    // (dn_patterns.h) -- learned from what each login search finds, when it fits none.
    const bool search_mode = config_.groups.membership == MembershipMode::Search;
    const bool learning = search_mode && config_.users.dn_template.empty();
    std::string unsettled_guess;  // a learned guess whose one search ran and could not be settled
    if (search_mode) {
        const std::string tmpl = learning ? patterns_->for_login(login) : config_.users.dn_template;
        std::optional<Account> account;
        std::string guess;
        if (!tmpl.empty()) {
            switch (login_with_groups(login, tmpl, account, guess)) {
            case LoginWithGroups::Settled:
                if (learning && account && !account->direct_groups) patterns_->learn(login, account->dn);
                return account;
            case LoginWithGroups::Unsettled:
                if (learning) {
                    patterns_->fell_back();
                    unsettled_guess = guess;
                }
                break;
            case LoginWithGroups::NotPlanned:  // a login no DN can be made of, say: not the pattern's fault
                break;
            }
        }
    }
    std::vector<std::string> attrs = account_attributes();
    // memberOf mode: the user's direct groups come with the login (sender_facts_for uses them).
    const bool member_of = config_.groups.membership == MembershipMode::MemberOf;
    if (member_of) attrs.push_back(config_.groups.member_of_attribute);
    SearchRequest request{config_.users_base(), SearchScope::Subtree, fill_filter(config_.users.login_filter, login),
                          attrs};
    const auto entries = ldap_.search(request);
    auto account = single_account(entries, "login '" + login + "'");
    if (account && member_of) account->direct_groups = entries.front().values(config_.groups.member_of_attribute);
    // Only a guess the plain search proves was this entry's DN says the pattern cannot be
    // settled; any login (even one nobody authenticated, a collaborator login's grantee)
    // can make a search unsettled with a form slapd matches and mailgrant cannot tell,
    // and such logins must not take a domain's pattern away.
    if (!unsettled_guess.empty() && account && same_entry_dn(account->dn, unsettled_guess))
        patterns_->fell_back_proved(login);
    if (account && learning) patterns_->learn(login, account->dn);
    return account;
}

std::optional<Account> LdapDirectory::find_mailbox(const std::string& address_or_dn) {
    if (looks_like_dn(address_or_dn)) {
        check_dn(address_or_dn, "mailbox DN");
        SearchRequest request{address_or_dn, SearchScope::Base, "(objectClass=*)", account_attributes()};
        std::vector<LdapEntry> entries;
        try {
            entries = ldap_.search(request);
        } catch (const LdapError& e) {
            // libldap parses DNs more leniently than slapd (which also knows the attribute
            // types): a DN slapd refuses is the asker's mistake, not the directory's.
            if (e.code() == LDAP_INVALID_DN_SYNTAX)
                throw BadInput("mailbox DN '" + excerpt(address_or_dn) + "' is not a DN this directory accepts");
            throw;
        }
        auto account = single_account(entries, address_or_dn);
        // An entry without any address is not a mailbox (e.g. an ou).
        if (account && account->addresses.empty()) return std::nullopt;
        return account;
    }
    check_address(address_or_dn);
    SearchRequest request{config_.users_base(), SearchScope::Subtree,
                          fill_filter(config_.users.address_filter, address_or_dn), account_attributes()};
    return single_account(ldap_.search(request), "address '" + address_or_dn + "'");
}

std::vector<GroupMembership> LdapDirectory::groups_of(const std::string& user_dn) {
    return config_.groups.membership == MembershipMode::MemberOf ? groups_by_member_of(user_dn)
                                                                 : groups_by_search(user_dn);
}

std::vector<GroupMembership> walk_nested(const std::string& start_dn, int max_depth, const NextLevel& next_level) {
    std::vector<GroupMembership> found;
    std::set<std::string> seen{normalize_dn(start_dn)};
    std::vector<GroupMembership> frontier{{start_dn, {}}};
    for (int depth = 0; depth < max_depth && !frontier.empty(); ++depth) {
        std::vector<GroupMembership> next;
        for (const auto& step : next_level(frontier)) {
            const std::string norm = normalize_dn(step.dn);
            if (norm.empty() || !seen.insert(norm).second) continue;
            GroupMembership membership{step.dn, frontier.at(step.from).path};
            membership.path.push_back(step.dn);
            next.push_back(std::move(membership));
        }
        found.insert(found.end(), next.begin(), next.end());
        frontier = std::move(next);
    }
    return found;
}

// The groups naming one of `frontier` (the next level of a nested-group walk), in
// searches of up to kDnsPerFilter member filters each.
std::vector<GroupStep> LdapDirectory::group_level(const std::vector<GroupMembership>& frontier) {
    const auto& member_attrs = config_.groups.member_attributes;
    std::vector<GroupStep> steps;
    for (std::size_t start = 0; start < frontier.size(); start += kDnsPerFilter) {
        std::vector<std::string> filters;
        const std::size_t end = std::min(frontier.size(), start + kDnsPerFilter);
        for (std::size_t i = start; i < end; ++i)
            filters.push_back(fill_filter(config_.groups.member_filter, frontier[i].dn));
        // With one DN in the filter the path is known; fetch member lists only to tell
        // several candidates apart ("1.1" = no attributes, RFC 4511).
        SearchRequest request{config_.groups_base(), SearchScope::Subtree, any_of(filters),
                              end - start == 1 ? std::vector<std::string>{"1.1"} : member_attrs};
        for (const auto& entry : ldap_.search(request))
            steps.push_back(GroupStep{entry.dn, via_of(entry, frontier, start, end)});
    }
    return steps;
}

// Level 1 = groups naming the user, level n+1 = groups naming a level-n group.
std::vector<GroupMembership> LdapDirectory::groups_by_search(const std::string& user_dn) {
    return walk_nested(user_dn, config_.groups.max_depth,
                       [&](const std::vector<GroupMembership>& frontier) { return group_level(frontier); });
}

std::vector<Grant> LdapDirectory::grants_of(const std::string& mailbox_dn) {
    check_dn(mailbox_dn, "mailbox DN");
    SearchRequest request{mailbox_dn, SearchScope::OneLevel,
                          "(objectClass=" + escape_filter_value(config_.schema.grant_object_class) + ")",
                          grant_attributes(config_.schema)};
    return grants_from_entries(ldap_.search(request), config_.schema);
}

std::string LdapDirectory::grant_filter(const std::vector<std::string>& grantees, const std::string& mailbox_dn) const {
    std::vector<std::string> filters;
    for (const auto& dn : grantees)
        filters.push_back("(" + config_.schema.grantee + "=" + escape_filter_value(dn) + ")");
    // entryDN:dnOneLevelMatch: "directly below the mailbox" inside a search from the
    // base (slapd answers it from its DN index, like a one-level scope).
    const std::string below =
        mailbox_dn.empty() ? std::string() : "(entryDN:dnOneLevelMatch:=" + escape_filter_value(mailbox_dn) + ")";
    return "(&(objectClass=" + escape_filter_value(config_.schema.grant_object_class) + ")" + any_of(filters) + below +
           ")";
}

std::vector<Grant> LdapDirectory::grants_to(const std::vector<std::string>& grantee_dns) {
    return grants_naming(grantee_dns, "");
}

// One search per kGranteesPerFilter grantees: below ldap.base, or one level below a mailbox.
std::vector<Grant> LdapDirectory::grants_naming(const std::vector<std::string>& grantees, const std::string& mailbox_dn) {
    if (!mailbox_dn.empty()) check_dn(mailbox_dn, "mailbox DN");
    std::vector<Grant> grants;
    std::set<std::string> seen_grants;
    for (std::size_t start = 0; start < grantees.size(); start += kGranteesPerFilter) {
        const std::vector<std::string> chunk(grantees.begin() + start,
                                             grantees.begin() + std::min(grantees.size(), start + kGranteesPerFilter));
        SearchRequest request{mailbox_dn.empty() ? config_.ldap.base : mailbox_dn,
                              mailbox_dn.empty() ? SearchScope::Subtree : SearchScope::OneLevel,
                              grant_filter(chunk, ""), grant_attributes(config_.schema)};
        for (auto& grant : grants_from_entries(ldap_.search(request), config_.schema))
            if (seen_grants.insert(normalize_dn(grant.dn)).second) grants.push_back(std::move(grant));
    }
    return grants;
}

std::vector<std::string> grantee_dns(const std::string& user_dn, const std::vector<GroupMembership>& groups) {
    std::vector<std::string> dns{user_dn};
    for (const auto& g : groups) dns.push_back(g.dn);
    return dns;
}

SenderFacts Directory::sender_facts(const std::string& user_dn, const std::string& address) {
    SenderFacts facts;
    facts.mailbox = find_address(address);
    if (facts.mailbox) facts.with = groups_and_grants(user_dn, facts.mailbox->dn);
    return facts;
}

SenderFacts Directory::sender_facts_for(const Account& user, const std::string& address) {
    return sender_facts(user.dn, address);
}

GroupsAndGrants Directory::groups_and_grants_for(const Account& user, const std::string& mailbox_dn) {
    return groups_and_grants(user.dn, mailbox_dn);
}

std::vector<Account> Directory::find_mailboxes(const std::vector<std::string>& dns) {
    std::vector<Account> accounts;
    std::set<std::string> seen;
    for (const auto& dn : dns) {
        const std::string key = normalize_dn(dn);
        if (!seen.insert(key.empty() ? dn : key).second) continue;
        if (auto account = find_mailbox(dn)) accounts.push_back(std::move(*account));
    }
    return accounts;
}

GroupsAndGrants Directory::groups_and_grants(const std::string& user_dn, const std::string& mailbox_dn) {
    GroupsAndGrants answer;
    answer.groups = groups_of(user_dn);
    const auto wanted = grantee_dns(user_dn, answer.groups);
    if (mailbox_dn.empty()) {
        answer.grants = grants_to(wanted);
        return answer;
    }
    std::set<std::string> names;
    for (const auto& dn : wanted) names.insert(normalize_dn(dn));
    names.erase("");
    for (auto& grant : grants_of(mailbox_dn)) {
        bool names_one = false;
        for (const auto& grantee : grant.grantees) names_one = names_one || names.count(normalize_dn(grantee));
        if (names_one) answer.grants.push_back(std::move(grant));
    }
    return answer;
}

std::vector<Account> LdapDirectory::find_mailboxes(const std::vector<std::string>& dns) {
    std::vector<Account> accounts;
    std::set<std::string> seen;
    std::vector<std::string> batched;
    for (const auto& dn : dns) {
        check_dn(dn, "mailbox DN");
        if (!seen.insert(normalize_dn(dn)).second) continue;
        if (dn_within(dn, config_.ldap.base)) {
            batched.push_back(dn);
        } else if (auto account = find_mailbox(dn)) {  // outside the base: read by itself
            accounts.push_back(std::move(*account));
        }
    }
    for (const auto& entry : entries_by_dn(batched, account_attributes(), kDnsPerOwnerFilter)) {
        Account account = account_from_entry(entry);
        if (!account.addresses.empty()) accounts.push_back(std::move(account));  // else not a mailbox (an ou)
    }
    return accounts;
}

std::vector<LdapEntry> LdapDirectory::entries_by_dn(const std::vector<std::string>& dns,
                                                    const std::vector<std::string>& attributes, std::size_t per_filter) {
    std::vector<LdapEntry> entries;
    for (std::size_t start = 0; start < dns.size(); start += per_filter) {
        std::vector<std::string> filters;
        for (std::size_t i = start; i < std::min(dns.size(), start + per_filter); ++i)
            filters.push_back("(entryDN=" + escape_filter_value(dns[i]) + ")");
        for (auto& entry : ldap_.search(SearchRequest{config_.ldap.base, SearchScope::Subtree, any_of(filters), attributes}))
            entries.push_back(std::move(entry));
    }
    return entries;
}

// Groups found by search below ldap.base: one search from ldap.base can ask for groups
// and grants together.
bool LdapDirectory::merges_groups() const {
    return config_.groups.membership == MembershipMode::Search && dn_within(config_.groups_base(), config_.ldap.base);
}

GroupsAndGrants LdapDirectory::groups_and_grants(const std::string& user_dn, const std::string& mailbox_dn) {
    if (!merges_groups() || !(mailbox_dn.empty() || dn_within(mailbox_dn, config_.ldap.base)))
        return Directory::groups_and_grants(user_dn, mailbox_dn);
    if (!mailbox_dn.empty()) check_dn(mailbox_dn, "mailbox DN");
    return merged_walk(user_dn, mailbox_dn, nullptr);
}

// `pre`: the walk's first levels, already asked by another search (the login's,
// login_groups.cpp; sender_facts.cpp), and the grants that search found.
GroupsAndGrants LdapDirectory::merged_walk(const std::string& user_dn, const std::string& mailbox_dn,
                                           const Prefetched* pre) {
    const auto& member_attrs = config_.groups.member_attributes;
    const std::string& grant_class = config_.schema.grant_object_class;
    std::vector<std::string> known{user_dn};  // the user, then every group found so far
    std::size_t grants_name = 0;              // how many of `known` the grants below name
    GroupsAndGrants answer;
    if (pre) {
        answer.grants = pre->grants;
        grants_name = pre->grants_name;
    }
    std::size_t level = 0;  // the walk's steps so far: frontier is the user at 0
    answer.groups = walk_nested(user_dn, config_.groups.max_depth, [&](const std::vector<GroupMembership>& frontier) {
        if (level++ > 0)
            for (const auto& g : frontier) known.push_back(g.dn);
        if (pre && level <= pre->levels.size()) return pre->levels[level - 1];
        // Too many for one filter: this level as groups_by_search does it, the grants after the walk.
        if (frontier.size() > kDnsPerFilter || known.size() > kGranteesPerFilter) return group_level(frontier);
        std::vector<GroupStep> steps;
        // The next level's groups and the grants naming anyone found so far, in one search.
        std::vector<std::string> filters;
        for (const auto& f : frontier) filters.push_back(fill_filter(config_.groups.member_filter, f.dn));
        filters.push_back(grant_filter(known, mailbox_dn));
        std::vector<std::string> attrs = grant_attributes(config_.schema);
        attrs.push_back("objectClass");
        if (frontier.size() > 1) attrs.insert(attrs.end(), member_attrs.begin(), member_attrs.end());
        std::vector<LdapEntry> grant_entries;
        for (auto& entry : ldap_.search(SearchRequest{config_.ldap.base, SearchScope::Subtree, any_of(filters), attrs})) {
            if (entry.has_value_ci("objectClass", grant_class)) {
                grant_entries.push_back(std::move(entry));
            } else if (dn_within(entry.dn, config_.groups_base())) {  // groups live below groups.base
                steps.push_back(GroupStep{entry.dn, via_of(entry, frontier, 0, frontier.size())});
            }
        }
        answer.grants = grants_from_entries(grant_entries, config_.schema);
        grants_name = known.size();
        return steps;
    });
    // The walk ended with groups the last grant filter did not name (depth limit, or
    // too many for one filter): ask for every grant once more, naming all of them.
    if (grants_name < 1 + answer.groups.size()) answer.grants = grants_naming(grantee_dns(user_dn, answer.groups), mailbox_dn);
    return answer;
}

// Which frontier member (in [start, end)) put this group in the walk? The first one it
// names; with one candidate that one (the search then asked for no member lists).
std::size_t LdapDirectory::via_of(const LdapEntry& group, const std::vector<GroupMembership>& frontier,
                                  std::size_t start, std::size_t end) const {
    if (end - start == 1) return start;
    for (std::size_t i = start; i < end; ++i)
        for (const auto& attr : config_.groups.member_attributes)
            for (const auto& value : group.values(attr))
                if (normalize_dn(value) == normalize_dn(frontier[i].dn)) return i;
    return start;
}

}  // namespace mailgrant
