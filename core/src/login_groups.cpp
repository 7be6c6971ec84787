// login_groups.cpp -- search mode with users.dn_template: the login search also reads the
// user's direct groups, so the group walk of the login's answers starts one level further
// (issue 19: a group member's LOGIN + LIST in 4 searches and cold send decision in 2,
// as memberof mode does with slapd's overlay). Also where groups_and_grants_for and
// sender_facts_for choose their walk.
//
// Why a template: a grant may name one of the user's groups, the groups are found by
// (member=<user DN>), and only the login search gives that DN: LDAP has no join. Where
// people's DNs follow one pattern (uid=%n,ou=people,...; Dovecot's auth_bind_userdn is
// the same idea), the DN can be guessed before the login search and the groups asked in
// that same search. The guess decides nothing: the groups found with it are kept only
// when the one entry the login filter finds has exactly that DN; otherwise (another
// domain's alice, an entry elsewhere) they are dropped and the walk searches the groups
// of the real DN, as without the template.
//
// The search, from ldap.base, ORs users.login_filter and groups.member_filter for the
// guessed DN. Each entry's part is proved as in sender_facts.cpp: both filters evaluated
// on the entry (local_filter.h), the member attributes read through RFC 3876 matched
// values (a group of 10,000 returns one value). An entry that is both, neither, or that
// either filter cannot settle, a filter naming attributes this search does not read by
// those names, a refused control or a size limit: the plain login search, never a guess.
#include <set>

#include "mailgrant/directory.h"
#include "mailgrant/dn.h"
#include "mailgrant/input.h"
#include "mailgrant/ldap_filter.h"
#include "mailgrant/local_filter.h"

namespace mailgrant {

bool LdapDirectory::login_with_groups(const std::string& login, std::optional<Account>& account) {
    if (!merges_groups() || !dn_within(config_.users_base(), config_.ldap.base)) return false;
    const auto guess = fill_dn_template(config_.users.dn_template, login);
    if (!guess || normalize_dn(*guess).empty()) return false;
    const std::string login_text = fill_filter(config_.users.login_filter, login);
    const std::string member_text = fill_filter(config_.groups.member_filter, *guess);
    const auto login_filter = LocalFilter::parse(login_text);
    const auto member_filter = LocalFilter::parse(member_text);
    if (!login_filter || !member_filter) return false;

    // What the search reads: the account's attributes and uid (the default login filter's)
    // with all values, the member attributes with the guessed DN only. A login filter
    // naming anything else (or a member attribute) cannot be told on the entry.
    std::set<std::string> member_attrs, login_attrs, read;
    std::vector<std::string> asked;
    std::string values_filter = "(";
    const std::string guess_value = escape_filter_value(*guess);
    for (const auto& a : config_.groups.member_attributes) {
        if (!member_attrs.insert(ascii_lower(a)).second) continue;
        asked.push_back(a);
        values_filter += "(" + a + "=" + guess_value + ")";
    }
    std::vector<std::string> plain = account_attributes();
    plain.push_back("uid");
    for (const auto& a : plain) {
        const std::string key = ascii_lower(a);
        if (member_attrs.count(key) || !login_attrs.insert(key).second) continue;
        asked.push_back(a);
        values_filter += "(" + a + "=*)";
    }
    values_filter += ")";
    read = member_attrs;
    read.insert(login_attrs.begin(), login_attrs.end());
    if (!login_filter->names_only(login_attrs) || !member_filter->names_only(member_attrs)) return false;

    SearchRequest request{config_.ldap.base, SearchScope::Subtree, "(|" + login_text + member_text + ")", asked};
    request.values_filter = values_filter;
    auto found = merged_search(request);
    if (!found) return false;
    std::vector<LdapEntry> logins;
    std::vector<std::string> groups;
    std::set<std::string> seen;
    for (auto& entry : *found) {
        const Truth is_login = login_filter->evaluate(entry, read);
        const Truth is_group = member_filter->evaluate(entry, read);
        if (is_login == Truth::Unknown || is_group == Truth::Unknown || is_login == is_group) return false;
        if (is_group == Truth::True) {
            if (dn_within(entry.dn, config_.groups_base()) && seen.insert(normalize_dn(entry.dn)).second)
                groups.push_back(entry.dn);
        } else if (dn_within(entry.dn, config_.users_base())) {  // the plain search's base
            logins.push_back(std::move(entry));
        }
    }
    account = single_account(logins, "login '" + login + "'");
    if (account && normalize_dn(account->dn) == normalize_dn(*guess)) account->direct_groups = std::move(groups);
    return true;
}

GroupsAndGrants LdapDirectory::groups_and_grants_for(const Account& user, const std::string& mailbox_dn) {
    if (config_.groups.membership == MembershipMode::MemberOf) return member_of_groups_and_grants(user, mailbox_dn);
    if (!user.direct_groups || !merges_groups() || !(mailbox_dn.empty() || dn_within(mailbox_dn, config_.ldap.base)))
        return groups_and_grants(user.dn, mailbox_dn);
    if (!mailbox_dn.empty()) check_dn(mailbox_dn, "mailbox DN");
    Prefetched pre;  // the direct groups; no grant asked yet
    pre.levels.emplace_back();
    for (const auto& dn : *user.direct_groups) pre.levels.front().push_back(GroupStep{dn, 0});
    return merged_walk(user.dn, mailbox_dn, &pre);
}

SenderFacts LdapDirectory::sender_facts_for(const Account& user, const std::string& address) {
    if (config_.groups.membership == MembershipMode::MemberOf) return member_of_sender_facts(user, address);
    return sender_facts_from(user.dn, user.direct_groups ? &*user.direct_groups : nullptr, address);
}

}  // namespace mailgrant
