// context.cpp -- see context.h.
#include "context.h"

#include <algorithm>
#include <set>

#include "mailgrant/dn.h"
#include "mailgrant/ldap_filter.h"

namespace mailgrant::cli {
namespace {

const std::vector<std::string> kGroupClasses{"groupOfNames", "groupOfUniqueNames", "groupOfMembers"};

}  // namespace

bool Context::is_group(const LdapEntry& entry) const {
    for (const auto& c : kGroupClasses)
        if (entry.has_value_ci("objectClass", c)) return true;
    return false;
}

std::string Context::group_filter() const {
    std::string f = "(|";
    for (const auto& c : kGroupClasses) f += "(objectClass=" + c + ")";
    return f + ")";
}

std::optional<LdapEntry> Context::read_entry(const std::string& dn) {
    if (normalize_dn(dn).empty()) return std::nullopt;
    std::vector<std::string> attrs{"objectClass", "cn", config_.users.mail_attribute};
    for (const auto& a : config_.users.alias_attributes) attrs.push_back(a);
    for (const auto& a : config_.groups.member_attributes) attrs.push_back(a);
    auto entries = ldap_.search(SearchRequest{dn, SearchScope::Base, "(objectClass=*)", attrs});
    if (entries.empty()) return std::nullopt;
    return entries.front();
}

Principal Context::principal_from_entry(const LdapEntry& entry) const {
    Principal p;
    p.dn = entry.dn;
    if (is_group(entry)) {
        p.kind = Principal::Kind::Group;
        p.display = entry.first("cn").empty() ? entry.dn : entry.first("cn");
        return p;
    }
    for (const auto& m : entry.values(config_.users.mail_attribute)) p.addresses.push_back(m);
    p.shared_mailbox = entry.has_value_ci("objectClass", config_.schema.shared_mailbox_object_class);
    if (!p.addresses.empty()) {
        p.kind = Principal::Kind::Person;
        p.display = p.addresses.front();
    } else {
        p.kind = Principal::Kind::Other;
        p.display = entry.dn;
    }
    return p;
}

const Principal& Context::describe(const std::string& dn) {
    const std::string key = normalize_dn(dn);
    auto it = described_.find(key);
    if (it != described_.end()) return it->second;
    Principal p;
    p.dn = dn;
    p.display = dn;
    if (auto entry = read_entry(dn)) p = principal_from_entry(*entry);
    return described_.emplace(key, p).first->second;
}

std::string Context::grantee_label(const std::string& dn) {
    const Principal& p = describe(dn);
    switch (p.kind) {
        case Principal::Kind::Person: return p.display;
        case Principal::Kind::Group: return "group " + p.display;
        case Principal::Kind::Missing: return dn + " (missing)";
        case Principal::Kind::Other: return dn;
    }
    return dn;
}

Account Context::resolve_mailbox(const std::string& text) {
    if (text.empty()) throw Refusal("the mailbox is empty");
    std::optional<Account> account;
    if (looks_like_dn(text)) {
        if (normalize_dn(text).empty()) throw Refusal("'" + text + "' is not a valid DN");
        account = directory_.find_mailbox(text);
        if (!account) throw Refusal("no mailbox at '" + text + "' (the entry does not exist or has no mail address)");
        return *account;
    }
    account = directory_.find_mailbox(text);
    if (!account) account = directory_.find_login(text);
    if (!account || account->addresses.empty())
        throw Refusal("no mailbox '" + text + "' in LDAP (looked for it as address, alias and login)");
    return *account;
}

Principal Context::resolve_grantee(const std::string& text) {
    if (text.empty()) throw Refusal("the grantee is empty");
    if (looks_like_dn(text)) {
        if (normalize_dn(text).empty()) throw Refusal("'" + text + "' is not a valid DN");
        const Principal& p = describe(text);
        if (p.kind == Principal::Kind::Missing) throw Refusal("grantee '" + text + "' does not exist in LDAP");
        if (p.kind == Principal::Kind::Other)
            throw Refusal("grantee '" + text + "' is neither a person with a mail address nor a group");
        return p;
    }
    if (auto account = directory_.find_login(text)) return describe(account->dn);
    if (auto account = directory_.find_mailbox(text)) return describe(account->dn);
    const auto groups = ldap_.search(SearchRequest{config_.groups_base(), SearchScope::Subtree,
                                                   "(&" + group_filter() + "(cn=" + escape_filter_value(text) + "))",
                                                   {"objectClass", "cn"}});
    if (groups.size() > 1)
        throw Refusal("group name '" + text + "' is ambiguous (" + groups[0].dn + ", " + groups[1].dn +
                      "); give the group's DN");
    if (groups.size() == 1) return describe(groups.front().dn);
    throw Refusal("no user or group '" + text + "' in LDAP (looked for a login, an address and a group name)");
}

std::vector<Member> Context::expand_group(const std::string& group_dn) {
    // The core's one nested-group walk, downwards: a group leads to its members.
    std::map<std::string, LdapEntry> read;  // normalised DN -> entry, each read once
    auto entry_of = [&](const std::string& dn) -> const LdapEntry* {
        const std::string key = normalize_dn(dn);
        auto it = read.find(key);
        if (it == read.end()) {
            auto entry = read_entry(dn);
            if (!entry) return nullptr;
            it = read.emplace(key, std::move(*entry)).first;
        }
        return &it->second;
    };
    auto name_of = [&](const std::string& dn) {
        const LdapEntry* e = entry_of(dn);
        return !e || e->first("cn").empty() ? dn : e->first("cn");
    };
    // A person already described (know_people, or a report's walk of every mailbox) is
    // no group and needs no read: only groups and unknown DNs are read.
    auto known_person = [&](const std::string& dn) -> const Principal* {
        const auto it = described_.find(normalize_dn(dn));
        return it != described_.end() && it->second.kind == Principal::Kind::Person ? &it->second : nullptr;
    };
    const auto reached = walk_nested(group_dn, config_.groups.max_depth, [&](const std::vector<GroupMembership>& frontier) {
        std::vector<GroupStep> steps;
        for (std::size_t i = 0; i < frontier.size(); ++i) {
            if (known_person(frontier[i].dn)) continue;
            const LdapEntry* e = entry_of(frontier[i].dn);
            if (!e || !is_group(*e)) continue;
            for (const auto& attr : config_.groups.member_attributes)
                for (const auto& member : e->values(attr)) steps.push_back(GroupStep{member, i});
        }
        return steps;
    });
    std::vector<Member> out;
    for (const auto& node : reached) {
        const Principal* known = known_person(node.dn);
        const LdapEntry* e = known ? nullptr : entry_of(node.dn);
        if (!known && (!e || is_group(*e))) continue;
        std::vector<std::string> via{name_of(group_dn)};
        for (std::size_t i = 0; i + 1 < node.path.size(); ++i) via.push_back(name_of(node.path[i]));
        const Principal p = known ? *known : principal_from_entry(*e);
        out.push_back(Member{p.dn, p.addresses.empty() ? std::string() : p.addresses.front(), via});
    }
    std::sort(out.begin(), out.end(), [](const Member& a, const Member& b) { return a.address < b.address; });
    return out;
}

std::vector<Grant> Context::all_grants() {
    std::vector<Grant> grants;
    walk_.each_grant([&](Grant&& grant) { grants.push_back(std::move(grant)); });
    std::sort(grants.begin(), grants.end(), [](const Grant& a, const Grant& b) {
        return std::make_pair(normalize_dn(a.owner_dn), ascii_lower(a.name)) <
               std::make_pair(normalize_dn(b.owner_dn), ascii_lower(b.name));
    });
    return grants;
}

std::vector<Account> Context::all_mailboxes() {
    std::vector<Account> out;
    walk_.each_mailbox({}, [&](Account&& account, LdapEntry&&) { out.push_back(std::move(account)); });
    std::sort(out.begin(), out.end(), [](const Account& a, const Account& b) {
        return ascii_lower(a.primary_address()) < ascii_lower(b.primary_address());
    });
    return out;
}

void Context::know_people(const std::function<void(const Account&, const LdapEntry&)>& each) {
    // An account's attributes (objectClass, the mail and alias attributes) and cn: what
    // principal_from_entry reads; uid for `each` (check's users.dn_template fit).
    walk_.each_mailbox({"cn", "uid"}, [&](Account&& account, LdapEntry&& entry) {
        if (each) each(account, entry);
        know(entry);
    });
}

void Context::know(const LdapEntry& entry) {
    const std::string key = normalize_dn(entry.dn);
    if (!key.empty()) described_.insert_or_assign(key, principal_from_entry(entry));
}

std::map<std::string, std::vector<std::string>> Context::all_groups() {
    std::vector<std::string> attrs{"objectClass", "cn"};
    for (const auto& a : config_.groups.member_attributes) attrs.push_back(a);
    std::map<std::string, std::vector<std::string>> out;
    walk_.searcher().search_each(SearchRequest{config_.groups_base(), SearchScope::Subtree, group_filter(), attrs},
                                 [&](LdapEntry&& e) {
                                     auto& members = out[e.dn];
                                     for (const auto& attr : config_.groups.member_attributes)
                                         for (const auto& v : e.values(attr)) members.push_back(v);
                                     know(e);
                                 });
    return out;
}

std::vector<std::pair<Account, LdapEntry>> Context::mailbox_entries(const std::vector<std::string>& extra) {
    std::vector<std::pair<Account, LdapEntry>> out;
    walk_.each_mailbox(extra, [&](Account&& account, LdapEntry&& entry) { out.emplace_back(std::move(account), std::move(entry)); });
    return out;
}

std::vector<LdapEntry> Context::search_users(const std::string& filter, const std::vector<std::string>& attributes) {
    return ldap_.search(SearchRequest{config_.users_base(), SearchScope::Subtree, filter, attributes});
}

}  // namespace mailgrant::cli
