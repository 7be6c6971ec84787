// login_groups.cpp -- search mode with users.dn_template (or, without one, the pattern
// learned from the domain's earlier logins: dn_patterns.h): the login search also reads the
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

namespace {

// The combined search for one login, or why there is none (`why` set, nothing else).
struct LoginGroupsPlan {
    std::string why;
    std::string guess;
    std::optional<LocalFilter> login_filter, member_filter;
    std::set<std::string> read;  // the attributes the search reads, lower-cased
    SearchRequest request;
};

// `merges_groups`: LdapDirectory::merges_groups(), the gate every merged walk shares.
// `tmpl`: users.dn_template, or the pattern learned for the login's domain (dn_patterns.h).
LoginGroupsPlan plan_login_groups(const Config& config, bool merges_groups, std::vector<std::string> account_attrs,
                                  const std::string& login, const std::string& tmpl) {
    LoginGroupsPlan plan;
    if (tmpl.empty()) {
        plan.why = "users.dn_template is not set";
        return plan;
    }
    if (!merges_groups) {
        plan.why = config.groups.membership == MembershipMode::MemberOf
                       ? "groups.membership is memberof (the login search already reads memberOf)"
                       : "groups.base is outside ldap.base, so one search cannot reach both";
        return plan;
    }
    if (!dn_within(config.users_base(), config.ldap.base)) {
        plan.why = "users.base is outside ldap.base, so one search cannot reach both";
        return plan;
    }
    const auto guess = fill_dn_template(tmpl, login);
    if (!guess || normalize_dn(*guess).empty()) {
        plan.why = "the template gives no valid DN for the login '" + login + "'";
        return plan;
    }
    if (!dn_within(*guess, config.users_base())) {
        plan.why = "the template gives DNs outside the users base (" + *guess + ")";
        return plan;
    }
    plan.guess = *guess;
    const std::string login_text = fill_filter(config.users.login_filter, login);
    const std::string member_text = fill_filter(config.groups.member_filter, *guess);
    plan.login_filter = LocalFilter::parse(login_text);
    plan.member_filter = LocalFilter::parse(member_text);
    if (!plan.login_filter || !plan.member_filter) {
        plan.why = "users.login_filter or groups.member_filter uses a filter form mailgrant cannot test on an entry";
        return plan;
    }

    // What the search reads: the account's attributes and uid (the default login filter's)
    // with all values, the member attributes with the guessed DN only. A login filter
    // naming anything else (or a member attribute) cannot be told on the entry.
    std::set<std::string> member_attrs, login_attrs;
    std::vector<std::string> asked;
    std::string values_filter = "(";
    const std::string guess_value = escape_filter_value(*guess);
    for (const auto& a : config.groups.member_attributes) {
        if (!member_attrs.insert(ascii_lower(a)).second) continue;
        asked.push_back(a);
        values_filter += "(" + a + "=" + guess_value + ")";
    }
    account_attrs.push_back("uid");
    for (const auto& a : account_attrs) {
        const std::string key = ascii_lower(a);
        if (member_attrs.count(key) || !login_attrs.insert(key).second) continue;
        asked.push_back(a);
        values_filter += "(" + a + "=*)";
    }
    values_filter += ")";
    if (!plan.login_filter->names_only(login_attrs)) {
        plan.why = "users.login_filter names an attribute other than uid and the address attributes";
        return plan;
    }
    if (!plan.member_filter->names_only(member_attrs)) {
        plan.why = "groups.member_filter names an attribute other than groups.member_attributes";
        return plan;
    }
    plan.read = member_attrs;
    plan.read.insert(login_attrs.begin(), login_attrs.end());
    plan.request = SearchRequest{config.ldap.base, SearchScope::Subtree, "(|" + login_text + member_text + ")", asked};
    plan.request.values_filter = values_filter;
    return plan;
}

}  // namespace

std::string LdapDirectory::dn_template_unused(const std::string& login) const {
    return plan_login_groups(config_, merges_groups(), account_attributes(), login, config_.users.dn_template).why;
}

LdapDirectory::LoginWithGroups LdapDirectory::login_with_groups(const std::string& login, const std::string& tmpl,
                                                                std::optional<Account>& account, std::string& guess_r) {
    LoginGroupsPlan plan = plan_login_groups(config_, merges_groups(), account_attributes(), login, tmpl);
    if (!plan.why.empty()) return LoginWithGroups::NotPlanned;
    guess_r = plan.guess;
    const auto& login_filter = plan.login_filter;
    const auto& member_filter = plan.member_filter;
    const auto& read = plan.read;
    const auto& guess = plan.guess;
    auto found = merged_search(plan.request);
    if (!found) return LoginWithGroups::Unsettled;
    std::vector<LdapEntry> logins;
    std::vector<std::string> groups;
    std::set<std::string> seen;
    for (auto& entry : *found) {
        const Truth is_login = login_filter->evaluate(entry, read);
        const Truth is_group = member_filter->evaluate(entry, read);
        if (is_login == Truth::Unknown || is_group == Truth::Unknown || is_login == is_group)
            return LoginWithGroups::Unsettled;
        if (is_group == Truth::True) {
            if (dn_within(entry.dn, config_.groups_base()) && seen.insert(normalize_dn(entry.dn)).second)
                groups.push_back(entry.dn);
        } else if (dn_within(entry.dn, config_.users_base())) {  // the plain search's base
            logins.push_back(std::move(entry));
        }
    }
    account = single_account(logins, "login '" + login + "'");
    // The guess was right only if it is certainly the found entry's DN: slapd matched
    // the groups' members by the naming attribute's own rule, and with a case-sensitive
    // one "uid=Bob" (guessed from the login) is another person than "uid=bob" (found).
    // A login typed in another case than the entry's value then costs the group search.
    const bool right = account && same_entry_dn(account->dn, guess);
    if (right) account->direct_groups = std::move(groups);
    patterns_->guessed(login, right);
    return LoginWithGroups::Settled;
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
