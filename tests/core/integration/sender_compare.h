// sender_compare.h -- what the group-walk integration tests compare: the cold sender
// decision through LdapDirectory's batched questions against the questions one by one,
// and the groups as text.
#pragma once

#include <gtest/gtest.h>

#include <exception>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "mailgrant/clock.h"
#include "mailgrant/config.h"
#include "mailgrant/ldap_client.h"

#include "mailgrant/decision.h"
#include "mailgrant/directory.h"

namespace mailgrant::testing {

// The questions one by one: every answer LdapDirectory's, but sender_facts and
// sender_facts_for the defaults (Directory's, made of the questions above).
class OneByOne final : public Directory {
public:
    explicit OneByOne(LdapDirectory& d) : d_(d) {}
    std::optional<Account> find_login(const std::string& l) override { return d_.find_login(l); }
    std::optional<Account> find_mailbox(const std::string& a) override { return d_.find_mailbox(a); }
    std::vector<GroupMembership> groups_of(const std::string& u) override { return d_.groups_of(u); }
    std::vector<Grant> grants_of(const std::string& m) override { return d_.grants_of(m); }
    std::vector<Grant> grants_to(const std::vector<std::string>& g) override { return d_.grants_to(g); }
    std::vector<Account> find_mailboxes(const std::vector<std::string>& dns) override { return d_.find_mailboxes(dns); }
    GroupsAndGrants groups_and_grants(const std::string& u, const std::string& m) override {
        return d_.groups_and_grants(u, m);
    }

private:
    LdapDirectory& d_;
};

// What a decision says, as one comparable text (an error: its message).
inline std::string outcome(Decider& decider, const std::string& login, const std::string& address) {
    try {
        const auto d = decider.sender(login, address);
        std::string text = std::string(to_string(d.right)) + " | " + d.reason + " | " + d.mailbox_dn + " |";
        if (d.via) text += " via " + d.via->describe();
        for (const auto& n : d.not_applied) text += " ; " + n;
        return text;
    } catch (const std::exception& e) {
        return std::string("error: ") + e.what();
    }
}

// The groups as DN > path > ... lines, in the walk's order.
inline std::vector<std::string> described(const std::vector<GroupMembership>& groups) {
    std::vector<std::string> out;
    for (const auto& g : groups) {
        std::string line = g.dn + " via";
        for (const auto& step : g.path) line += " > " + step;
        out.push_back(line);
    }
    return out;
}

// The people of org.ldif and nested-groups.ldif, and addresses of every kind in those and
// sender-hard.ldif (one's own, another's in any case, a shared mailbox, an alias, a list,
// two entries with one address, none).
inline const std::vector<std::string> kSenderLogins{"alice", "bob", "carol", "dave", "eve", "support", "fay", "gil"};
inline const std::vector<std::string> kSenderAddresses{
    "alice@example.com", "ALICE@example.com", "bob@example.com",    "carol@example.com",
    "support@example.com", "help@example.com", "list@example.com",  "dup@example.com",
    "moved@example.com",   "nobody@example.com", "shared@example.com", "fay@example.com"};

// Every login x address: the decision through LdapDirectory under `config` equals the
// questions one by one under `plain_config`; the searches per pair (batched, one by one),
// keyed "login as address". `dearer`: addresses whose pairs may cost one search more.
// `patterns`: DN patterns every batched directory shares (dn_patterns.h), as a pool's
// connections do; nullptr: each its own, so each decision starts with none learned.
inline std::map<std::string, std::pair<unsigned long long, unsigned long long>> compare_senders(
    const Config& config, const Config& plain_config, const std::set<std::string>& dearer = {},
    const std::shared_ptr<DnPatterns>& patterns = nullptr) {
    std::map<std::string, std::pair<unsigned long long, unsigned long long>> counts;
    for (const auto& login : kSenderLogins) {
        for (const auto& address : kSenderAddresses) {
            LdapConnection batched_ldap(config.ldap), plain_ldap(plain_config.ldap);
            LdapDirectory batched(config, batched_ldap), plain(plain_config, plain_ldap);
            if (patterns) batched.share_dn_patterns(patterns);
            OneByOne one_by_one(plain);
            Decider fast(batched, SystemClock::instance());
            Decider slow(one_by_one, SystemClock::instance());
            const std::string key = login + " as " + address;
            EXPECT_EQ(outcome(fast, login, address), outcome(slow, login, address)) << key;
            counts[key] = {batched_ldap.search_count(), plain_ldap.search_count()};
            EXPECT_LE(counts[key].first, counts[key].second + (dearer.count(address) ? 1 : 0)) << key;
        }
    }
    return counts;
}

}  // namespace mailgrant::testing
