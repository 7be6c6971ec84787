// address_batch.cpp -- LdapDirectory::mailboxes_by_address: what find_mailbox(address)
// answers for many mailboxes' addresses in a fixed number of searches.
//
// Why: a login's shared namespace is answered only for owners whose address finds that
// same owner (shared_namespace.cpp), and the policy daemon's cache must learn what an
// address means only with the address search's own semantics (users base, the configured
// users.address_filter, "matches 2 entries" refused) -- a sender decision reads the same
// cache. One search per sharer would make a cold login cost N searches.
//
// How, for a set of (address a_i, mailbox o_i) pairs, F = users.address_filter, every
// address and every DN at most once:
//   A. (|F(a_1)...F(a_n)) below the users base: every entry that any of the addresses
//      finds. If one is none of the o_i (an address two entries share, an archived
//      entry's old address now someone else's, a DN spelled so that it does not compare
//      equal), the set is not settled here.
//   B. (|(&F(a_i)(!(entryDN=o_i)))...): an o_j that a_i finds, for i != j (an owner with
//      another owner's address as an alias). Every entry here is an owner whose entryDN
//      the service account has searched by already (find_mailboxes), so the NOT is
//      decidable; any answer: not settled.
//   Both empty of trouble: a_i finds exactly o_i when A returned o_i, and nothing
//   otherwise -- find_mailbox's answer. Filters do not say which address an entry
//   matched, so an unsettled set is halved and each half tried again, down to
//   kMinAddressSet; what is still unsettled then is left to find_mailbox (it gives the
//   exact answer or refusal). One bad address among 128 costs about 20 searches, not 128.
// entryDN assertions are answered from slapd's DN index, F from the address indexes; NOT
// adds no unindexed scan (back-mdb intersects it with F's candidates).
#include <atomic>
#include <map>
#include <set>

#include "mailgrant/bad_input.h"
#include "mailgrant/directory.h"
#include "mailgrant/dn.h"
#include "mailgrant/input.h"
#include "mailgrant/ldap_error.h"
#include "mailgrant/ldap_filter.h"
#include "mailgrant/warnings.h"

namespace mailgrant {

namespace {

// Below this many pairs an unsettled set is not halved again: find_mailbox asks each.
constexpr std::size_t kMinAddressSet = 8;

struct Pair {
    std::string address;
    std::string dn;      // as given
    std::string dn_key;  // normalised
};

}  // namespace

AddressAnswers Directory::mailboxes_by_address(const std::vector<Account>&) { return {}; }

AddressAnswers LdapDirectory::mailboxes_by_address(const std::vector<Account>& mailboxes) {
    // Only valid addresses and DNs; an address or DN given twice is left out (find_mailbox
    // refuses an address two mailboxes have; a DN with two addresses: one answer only).
    std::map<std::string, int> address_count, dn_count;
    std::vector<Pair> all;
    for (const auto& m : mailboxes) {
        Pair p{m.primary_address(), m.dn, {}};
        try {
            check_address(p.address);
            check_dn(p.dn, "mailbox DN");
        } catch (const BadInput&) {
            continue;
        }
        p.dn_key = normalize_dn(p.dn);
        ++address_count[ascii_lower(p.address)];
        ++dn_count[p.dn_key];
        all.push_back(std::move(p));
    }
    std::vector<Pair> pairs;
    for (auto& p : all)
        if (address_count[ascii_lower(p.address)] == 1 && dn_count[p.dn_key] == 1) pairs.push_back(std::move(p));

    AddressAnswers answers;
    // Settles pairs[start, end) or halves it; LDAP trouble other than "Other" (a server
    // down, a timeout) ends the whole question, as find_mailbox's would.
    auto settle = [&](auto& self, std::size_t start, std::size_t end) -> void {
        std::vector<std::string> any, others;
        std::set<std::string> owners;
        for (std::size_t i = start; i < end; ++i) {
            const std::string f = fill_filter(config_.users.address_filter, pairs[i].address);
            any.push_back(f);
            others.push_back("(&" + f + "(!(entryDN=" + escape_filter_value(pairs[i].dn) + ")))");
            owners.insert(pairs[i].dn_key);
        }
        bool settled = true;
        std::map<std::string, Account> found;  // normalised DN -> the entry as the address search reads it
        try {
            for (const auto& entry : ldap_.search({config_.users_base(), SearchScope::Subtree, any_of(any),
                                                   account_attributes()})) {
                const std::string key = normalize_dn(entry.dn);
                if (key.empty() || !owners.count(key)) settled = false;  // A: someone else's entry
                else found.emplace(key, account_from_entry(entry));
            }
            if (settled && !ldap_.search({config_.users_base(), SearchScope::Subtree, any_of(others), {"1.1"}}).empty())
                settled = false;  // B: an owner found by another owner's address
        } catch (const LdapError& e) {
            if (e.kind() != LdapErrorKind::Other) throw;
            // A limit or a server refusing the filter: this set goes back to one search
            // per address. Said once per process, as it will recur on every cold cache.
            static std::atomic<bool> said{false};
            if (!said.exchange(true))
                warn({"", std::string("owner addresses cannot be checked in one search (") + e.what() +
                              "): each is looked up on its own"});
            return;
        }
        if (settled) {
            for (std::size_t i = start; i < end; ++i) {
                const auto hit = found.find(pairs[i].dn_key);
                if (hit == found.end()) answers.emplace_back(pairs[i].address, std::nullopt);
                else answers.emplace_back(pairs[i].address, hit->second);
            }
        } else if (end - start > kMinAddressSet) {
            const std::size_t middle = start + (end - start) / 2;
            self(self, start, middle);
            self(self, middle, end);
        }
    };
    for (std::size_t start = 0; start < pairs.size(); start += kAddressesPerFilter)
        settle(settle, start, std::min(pairs.size(), start + kAddressesPerFilter));
    return answers;
}

}  // namespace mailgrant
