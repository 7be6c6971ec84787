// directory.cpp -- LDAP searches behind the Directory interface.
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
    std::vector<std::string> attrs{"objectClass", config_.users.mail_attribute};
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
    return account;
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
    SearchRequest request{config_.users_base(), SearchScope::Subtree,
                          fill_filter(config_.users.login_filter, login), account_attributes()};
    return single_account(ldap_.search(request), "login '" + login + "'");
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

// Level 1 = groups naming the user, level n+1 = groups naming a level-n group.
std::vector<GroupMembership> LdapDirectory::groups_by_search(const std::string& user_dn) {
    const auto& member_attrs = config_.groups.member_attributes;
    return walk_nested(user_dn, config_.groups.max_depth, [&](const std::vector<GroupMembership>& frontier) {
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
            for (const auto& entry : ldap_.search(request)) {
                // Which frontier member put us here? The first one this group names.
                std::size_t via = start;
                bool named = false;
                for (std::size_t i = start; i < end && !named; ++i) {
                    for (const auto& attr : member_attrs)
                        for (const auto& value : entry.values(attr))
                            named = named || normalize_dn(value) == normalize_dn(frontier[i].dn);
                    if (named) via = i;
                }
                steps.push_back(GroupStep{entry.dn, via});
            }
        }
        return steps;
    });
}

// memberOf overlay: the user's entry lists its direct groups; nested groups are found by
// reading memberOf of each group in turn (the overlay does not flatten nesting).
std::vector<GroupMembership> LdapDirectory::groups_by_member_of(const std::string& user_dn) {
    const std::string& attr = config_.groups.member_of_attribute;
    return walk_nested(user_dn, config_.groups.max_depth, [&](const std::vector<GroupMembership>& frontier) {
        std::vector<GroupStep> steps;
        for (std::size_t i = 0; i < frontier.size(); ++i)
            for (const auto& entry : ldap_.search(SearchRequest{frontier[i].dn, SearchScope::Base, "(objectClass=*)", {attr}}))
                for (const auto& group_dn : entry.values(attr)) steps.push_back(GroupStep{group_dn, i});
        return steps;
    });
}

std::vector<Grant> LdapDirectory::grants_of(const std::string& mailbox_dn) {
    check_dn(mailbox_dn, "mailbox DN");
    SearchRequest request{mailbox_dn, SearchScope::OneLevel,
                          "(objectClass=" + escape_filter_value(config_.schema.grant_object_class) + ")",
                          grant_attributes(config_.schema)};
    return grants_from_entries(ldap_.search(request), config_.schema);
}

std::vector<Grant> LdapDirectory::grants_to(const std::vector<std::string>& grantee_dns) {
    std::vector<Grant> grants;
    std::set<std::string> seen_grants;
    for (std::size_t start = 0; start < grantee_dns.size(); start += kDnsPerFilter) {
        std::vector<std::string> filters;
        for (std::size_t i = start; i < std::min(grantee_dns.size(), start + kDnsPerFilter); ++i)
            filters.push_back("(" + config_.schema.grantee + "=" + escape_filter_value(grantee_dns[i]) + ")");
        const std::string filter =
            "(&(objectClass=" + escape_filter_value(config_.schema.grant_object_class) + ")" + any_of(filters) + ")";
        SearchRequest request{config_.ldap.base, SearchScope::Subtree, filter, grant_attributes(config_.schema)};
        for (auto& grant : grants_from_entries(ldap_.search(request), config_.schema))
            if (seen_grants.insert(normalize_dn(grant.dn)).second) grants.push_back(std::move(grant));
    }
    return grants;
}

}  // namespace mailgrant
