// decision.cpp -- folder rights and sender rights from grants (see decision.h).
#include "mailgrant/decision.h"

#include <algorithm>
#include <map>

#include "mailgrant/dn.h"
#include "mailgrant/input.h"
#include "mailgrant/bad_input.h"
#include "mailgrant/warnings.h"

namespace mailgrant {

namespace {

// Moves `changes_at` to the first second after `now` in which the grant's state differs
// from now, if earlier: active from not_before on, expired from not_after + 1 on
// (Grant::state_at: now > not_after).
void next_edge(const Grant& grant, std::time_t now, std::optional<std::time_t>& changes_at) {
    const std::optional<std::time_t> edges[] = {
        grant.not_before, grant.not_after ? std::optional<std::time_t>(*grant.not_after + 1) : std::nullopt};
    for (const auto& edge : edges)
        if (edge && *edge > now && (!changes_at || *edge < *changes_at)) changes_at = edge;
}

// The grants in the order of their normalized DNs. slapd returns them in an order that
// depends on how they were asked for (a one-level search below the mailbox, one from the
// base, the cache's split of a login's grants from everywhere): without this the reason
// ("... by grant X") could name another of several grants that apply, depending on the
// path and on what was cached. Same rights whatever the order.
void in_dn_order(std::vector<Grant>& grants) {
    std::vector<std::pair<std::string, std::size_t>> keys;
    keys.reserve(grants.size());
    for (std::size_t i = 0; i < grants.size(); ++i) keys.emplace_back(normalize_dn(grants[i].dn), i);
    std::sort(keys.begin(), keys.end());  // (DN, index): no two alike
    std::vector<Grant> sorted;
    sorted.reserve(grants.size());
    for (const auto& key : keys) sorted.push_back(std::move(grants[key.second]));
    grants = std::move(sorted);
}

}  // namespace

const char* to_string(SenderRight right) {
    switch (right) {
        case SenderRight::NullSender: return "null sender";
        case SenderRight::Own: return "own address";
        case SenderRight::SendAs: return "sendAs";
        case SenderRight::SendOnBehalf: return "sendOnBehalf";
        case SenderRight::Denied: return "denied";
    }
    return "denied";
}

std::string GrantPath::describe() const {
    std::string out = "grant '" + grant_name + "' (" + grant_dn + ")";
    if (group_path.empty()) return out + " to the user directly";
    out += " to group " + grantee_dn;
    if (group_path.size() == 1) return out + ", of which the user is a member";
    out += ", through nested groups ";
    for (std::size_t i = 0; i < group_path.size(); ++i) out += (i ? " -> " : "") + group_path[i];
    return out;
}

// The user's groups and the grants naming the user or one of them, below `mailbox_dn`
// (or anywhere when empty): one batched question (Directory::groups_and_grants), so a
// decision never reads every grant of a mailbox and never asks once per grant.
Decider::Identity Decider::with_grants(const Account& account, const std::string& mailbox_dn,
                                       std::vector<Grant>& grants) {
    auto found = directory_.groups_and_grants_for(account, mailbox_dn);
    grants = std::move(found.grants);
    if (!mailbox_dn.empty()) in_dn_order(grants);  // a decision on one mailbox names a grant in its reason
    return Identity{account, std::move(found.groups)};
}

// The shortest way the grant reaches the user: a direct grant beats any group path.
std::optional<GrantPath> Decider::reaches(const Grant& grant, const Identity& who) const {
    const std::string user = normalize_dn(who.account.dn);
    std::optional<GrantPath> best;
    for (const auto& grantee : grant.grantees) {
        const std::string g = normalize_dn(grantee);
        if (g.empty()) continue;
        GrantPath path{grant.dn, grant.name, grant.owner_dn, grantee, {}};
        if (g == user) return path;
        for (const auto& membership : who.groups) {
            if (normalize_dn(membership.dn) != g) continue;
            if (!best || membership.path.size() < best->group_path.size()) {
                path.group_path = membership.path;
                best = path;
            }
        }
    }
    return best;
}

FolderDecision Decider::folder_rights(const std::string& login, const std::string& mailbox, const std::string& folder) {
    FolderDecision decision;
    const auto account = directory_.find_login(login);
    if (!account) {
        decision.reason = "login '" + login + "' is not known in LDAP";
        return decision;
    }
    const auto owner = directory_.find_mailbox(mailbox);
    if (!owner) {
        decision.reason = "no mailbox '" + mailbox + "' in LDAP";
        return decision;
    }
    if (normalize_dn(owner->dn) == normalize_dn(account->dn)) {
        decision.owner = true;
        decision.rights = Rights::all();
        decision.reason = "'" + login + "' owns this mailbox";
        return decision;
    }
    std::vector<Grant> grants;
    const Identity who = with_grants(*account, owner->dn, grants);
    const std::time_t now = clock_.wall_now();
    for (const auto& grant : grants) {
        const auto path = reaches(grant, who);
        if (!path) continue;  // grants to other people are not ours to explain
        const std::string label = "grant '" + grant.name + "'";
        const GrantState state = grant.state_at(now);
        if (state != GrantState::Active) {
            decision.not_applied.push_back(label + " is " + to_string(state));
            continue;
        }
        if (!grant.rights) {
            decision.not_applied.push_back(label + (grant.rights_text.empty() ? " gives no folder rights"
                                                                               : " has unusable rights '" +
                                                                                     grant.rights_text + "'"));
            continue;
        }
        const auto pattern = grant.matching_folder(folder);
        if (!pattern) {
            decision.not_applied.push_back(label + " does not cover folder '" + folder + "'");
            continue;
        }
        decision.rights |= *grant.rights;
        decision.applied.push_back(AppliedGrant{*path, *pattern, *grant.rights});
    }
    if (decision.applied.empty()) {
        decision.reason = "no valid grant gives '" + login + "' access to '" + folder + "' of " + owner->primary_address();
    } else {
        decision.reason = "'" + login + "' has rights " + decision.rights.letters() + " on '" + folder + "' of " +
                          owner->primary_address() + " by " + decision.applied.front().path.describe();
        if (decision.applied.size() > 1)
            decision.reason += " and " + std::to_string(decision.applied.size() - 1) + " more";
    }
    return decision;
}

SenderDecision Decider::sender(const std::string& login, const std::string& address) {
    SenderDecision decision;
    if (address.empty()) {
        decision.right = SenderRight::NullSender;
        decision.reason = "null sender (bounce) is always allowed";
        return decision;
    }
    // No shortcut for "the address is the login name itself": the login Postfix reports
    // may name a shared mailbox (a misconfigured password on it, or a master/authzid
    // login that slipped past mailgrant-checkpassword), and a shared mailbox is never
    // anyone's own sender. So even the own-address case asks LDAP; while LDAP is down
    // it is deferred like every other send, never permitted blind.
    const auto account = directory_.find_login(login);
    if (!account) {
        decision.reason = "login '" + login + "' is not known in LDAP";
        return decision;
    }
    if (account->shared_mailbox) {
        decision.mailbox_dn = account->dn;
        decision.reason = "login '" + login + "' is the shared mailbox " + account->dn +
                          ", which has no login of its own: log in as yourself to send";
        return decision;
    }
    if (account->owns_address(address)) {
        decision.right = SenderRight::Own;
        decision.mailbox_dn = account->dn;
        decision.reason = "'" + address + "' is an address of '" + login + "'";
        return decision;
    }
    // The address's mailbox (a client's address: never read as a DN) with the user's
    // groups and the grants below it naming them, in as few searches as the directory
    // can: never every grant of the mailbox.
    auto facts = directory_.sender_facts_for(*account, address);
    if (!facts.mailbox) {
        decision.reason = "'" + address + "' is not an address of '" + login + "' nor of any mailbox in LDAP";
        return decision;
    }
    decision.mailbox_dn = facts.mailbox->dn;
    std::vector<Grant> grants = std::move(facts.with.grants);
    in_dn_order(grants);
    const Identity who{*account, std::move(facts.with.groups)};
    const std::time_t now = clock_.wall_now();
    std::optional<GrantPath> send_as, on_behalf;
    for (const auto& grant : grants) {
        if (!grant.send_as && !grant.send_on_behalf) continue;
        const auto path = reaches(grant, who);
        if (!path) continue;
        next_edge(grant, now, decision.changes_at);
        const GrantState state = grant.state_at(now);
        if (state != GrantState::Active) {
            decision.not_applied.push_back("grant '" + grant.name + "' is " + to_string(state));
            continue;
        }
        if (grant.send_as && !send_as) send_as = path;
        if (grant.send_on_behalf && !on_behalf) on_behalf = path;
    }
    if (send_as) {  // the stronger right wins when both are granted
        decision.right = SenderRight::SendAs;
        decision.via = send_as;
    } else if (on_behalf) {
        decision.right = SenderRight::SendOnBehalf;
        decision.via = on_behalf;
    }
    if (decision.via) {
        decision.reason = "'" + login + "' may send " + (send_as ? "as" : "on behalf of") + " '" + address + "' by " +
                          decision.via->describe();
    } else {
        decision.reason = "'" + login + "' has no valid sendAs or sendOnBehalf grant from '" + address + "'";
    }
    return decision;
}

bool Decider::opens_folders(const Grant& grant, std::time_t now) {
    return grant.state_at(now) == GrantState::Active && grant.rights && !grant.folders.empty();
}

bool Decider::may_open_mailbox(const std::string& login, const std::string& mailbox) {
    const auto account = directory_.find_login(login);
    if (!account) return false;
    const auto owner = directory_.find_address(mailbox);  // the MAILBOX of a client's login: never a DN
    if (!owner || normalize_dn(owner->dn) == normalize_dn(account->dn)) return false;
    std::vector<Grant> grants;
    const Identity who = with_grants(*account, owner->dn, grants);
    const std::time_t now = clock_.wall_now();
    for (const auto& grant : grants)
        if (opens_folders(grant, now) && reaches(grant, who)) return true;
    return false;
}

std::vector<Grantee> Decider::grantees_of(const std::string& mailbox, const std::optional<std::string>& folder) {
    std::vector<Grantee> grantees;
    const auto owner = directory_.find_mailbox(mailbox);
    if (!owner) return grantees;
    const std::time_t now = clock_.wall_now();
    auto grants = directory_.grants_of(owner->dn);
    std::stable_sort(grants.begin(), grants.end(),
                     [](const Grant& a, const Grant& b) { return ascii_lower(a.name) < ascii_lower(b.name); });
    // Every grantee's mailbox in one batched question (not one read per grantee). A
    // grantee DN is directory data: one that cannot be looked up (BadInput from
    // check_dn) is shown by its name and warned about, and never fails GETACL or report
    // for the whole mailbox.
    std::vector<std::string> lookup;
    std::map<std::string, std::string> unusable;  // normalised DN -> why
    for (const auto& grant : grants) {
        if (grant.state_at(now) != GrantState::Active) continue;
        for (const auto& dn : grant.grantees) {
            const std::string key = normalize_dn(dn);
            if (key.empty() || unusable.count(key)) continue;
            try {
                check_dn(dn, "mailbox DN");
                lookup.push_back(dn);
            } catch (const BadInput& e) {
                unusable.emplace(key, e.what());
            }
        }
    }
    std::map<std::string, Account> people;  // normalised DN -> mailbox
    if (!lookup.empty())
        for (auto& account : directory_.find_mailboxes(lookup)) people.emplace(normalize_dn(account.dn), std::move(account));
    std::map<std::string, std::size_t> index;  // normalised grantee DN -> position in grantees
    for (const auto& grant : grants) {
        if (grant.state_at(now) != GrantState::Active) continue;
        const bool opens = folder ? grant.rights && grant.matching_folder(*folder) : opens_folders(grant, now);
        for (const auto& dn : grant.grantees) {
            const std::string key = normalize_dn(dn);
            if (key.empty()) continue;
            auto it = index.find(key);
            if (it == index.end()) {
                std::optional<Account> person;
                const auto found = people.find(key);
                if (found != people.end()) person = found->second;
                const auto bad = unusable.find(key);
                if (bad != unusable.end())
                    warn(Warning{grant.dn, "grant " + grant.dn + ": grantee '" + dn + "' ignored: " + bad->second});
                Grantee grantee{dn, person, "", false, Rights::none(), false, false, {}};
                grantee.name = grantee.person ? grantee.person->primary_address() : first_rdn_value(dn);
                it = index.emplace(key, grantees.size()).first;
                grantees.push_back(std::move(grantee));
            }
            Grantee& grantee = grantees[it->second];
            if (opens) {
                grantee.folder_access = true;
                grantee.rights |= *grant.rights;
            }
            grantee.send_as = grantee.send_as || grant.send_as;
            grantee.send_on_behalf = grantee.send_on_behalf || grant.send_on_behalf;
            if (std::find(grantee.grants.begin(), grantee.grants.end(), grant.name) == grantee.grants.end())
                grantee.grants.push_back(grant.name);
        }
    }
    return grantees;
}

std::vector<SharingOwner> Decider::sharing_with(const std::string& login, std::optional<std::time_t>* changes_at) {
    std::vector<SharingOwner> owners;
    if (changes_at) changes_at->reset();
    const auto account = directory_.find_login(login);
    if (!account) return owners;
    std::vector<Grant> grants;
    const Identity who = with_grants(*account, "", grants);
    const std::time_t now = clock_.wall_now();
    if (changes_at)
        for (const auto& grant : grants) next_edge(grant, now, *changes_at);
    // The grants that share something, then every owner they name in one batched
    // question (not one read per owner), then the owners in the order of their grants.
    std::vector<std::pair<const Grant*, GrantPath>> sharing;
    std::vector<std::string> owner_dns;
    for (const auto& grant : grants) {
        if (!opens_folders(grant, now)) continue;
        auto path = reaches(grant, who);
        if (!path) continue;
        if (normalize_dn(grant.owner_dn) == normalize_dn(account->dn)) continue;  // a grant to oneself shares nothing
        sharing.emplace_back(&grant, std::move(*path));
        owner_dns.push_back(grant.owner_dn);
    }
    std::map<std::string, Account> mailboxes;  // normalised DN -> mailbox
    if (!owner_dns.empty())
        for (auto& mailbox : directory_.find_mailboxes(owner_dns)) mailboxes.emplace(normalize_dn(mailbox.dn), std::move(mailbox));
    std::map<std::string, std::size_t> index;  // normalised owner DN -> position in owners
    for (const auto& [grant, path] : sharing) {
        const std::string key = normalize_dn(grant->owner_dn);
        auto it = index.find(key);
        if (it == index.end()) {
            const auto mailbox = mailboxes.find(key);
            if (mailbox == mailboxes.end()) continue;  // grant below an entry without an address: `check` reports it
            it = index.emplace(key, owners.size()).first;
            owners.push_back(SharingOwner{mailbox->second, {}, {}});
        }
        owners[it->second].grants.push_back(AppliedGrant{path, "", *grant->rights});
        for (const auto& pattern : grant->folders) owners[it->second].folder_patterns.emplace_back(pattern, *grant->rights);
    }
    return owners;
}

}  // namespace mailgrant
