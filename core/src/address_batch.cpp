// address_batch.cpp -- LdapDirectory::mailboxes_by_address: what find_mailbox(address)
// answers for many mailboxes' addresses in a fixed number of searches.
//
// Why: a login's shared namespace is answered only for owners whose address finds that
// same owner (shared_namespace.cpp), and the policy daemon's cache must learn what an
// address means only from the address search's own semantics (users base, the configured
// users.address_filter, "matches 2 entries" refused) -- a sender decision reads the same
// cache. One search per sharer would make a cold login cost N searches.
//
// How, per chunk of (address a_i, mailbox DN o_i) pairs, F = users.address_filter:
//   1. (|(&F(a_i)(!(entryDN=o_i)))...) below the users base: an entry that matches an
//      address and is not its mailbox. Any such entry (an address two entries share, an
//      archived entry's old address now someone else's, a filter that matches more than
//      the address) settles nothing in this chunk: those addresses are left to
//      find_mailbox, which gives the exact answer or refusal. Filters alone cannot tell
//      which address an entry matched, so the whole chunk is left, not a guess.
//   2. (|(&F(a_i)(entryDN=o_i))...): the mailboxes that their address finds. Step 1 found
//      no other entry, so a_i finds exactly o_i if o_i is here, and nothing otherwise.
// entryDN assertions are answered from slapd's DN index, F from the address indexes.
#include <map>
#include <set>

#include "mailgrant/bad_input.h"
#include "mailgrant/directory.h"
#include "mailgrant/dn.h"
#include "mailgrant/input.h"
#include "mailgrant/ldap_filter.h"

namespace mailgrant {

AddressAnswers Directory::mailboxes_by_address(const std::vector<Account>&) { return {}; }

AddressAnswers LdapDirectory::mailboxes_by_address(const std::vector<Account>& mailboxes) {
    // address (lower case) -> mailboxes with it as primary address; only valid addresses
    // and DNs, each address once (two mailboxes with one address: find_mailbox refuses it).
    std::map<std::string, std::vector<const Account*>> by_address;
    for (const auto& m : mailboxes) {
        const std::string address = m.primary_address();
        try {
            check_address(address);
            check_dn(m.dn, "mailbox DN");
        } catch (const BadInput&) {
            continue;
        }
        by_address[ascii_lower(address)].push_back(&m);
    }
    std::vector<const Account*> pairs;
    for (const auto& [address, owners] : by_address)
        if (owners.size() == 1) pairs.push_back(owners.front());

    AddressAnswers answers;
    for (std::size_t start = 0; start < pairs.size(); start += kAddressesPerFilter) {
        const std::size_t end = std::min(pairs.size(), start + kAddressesPerFilter);
        std::vector<std::string> others, theirs;
        for (std::size_t i = start; i < end; ++i) {
            const std::string f = fill_filter(config_.users.address_filter, pairs[i]->primary_address());
            const std::string dn = "(entryDN=" + escape_filter_value(pairs[i]->dn) + ")";
            others.push_back("(&" + f + "(!" + dn + "))");
            theirs.push_back("(&" + f + dn + ")");
        }
        if (!ldap_.search({config_.users_base(), SearchScope::Subtree, any_of(others), {"1.1"}}).empty())
            continue;  // step 1: some address here finds another entry
        std::map<std::string, Account> found;  // normalised DN -> the entry as the address search reads it
        for (const auto& entry : ldap_.search({config_.users_base(), SearchScope::Subtree, any_of(theirs),
                                               account_attributes()}))
            found.emplace(normalize_dn(entry.dn), account_from_entry(entry));
        for (std::size_t i = start; i < end; ++i) {
            const auto hit = found.find(normalize_dn(pairs[i]->dn));
            if (hit == found.end()) answers.emplace_back(pairs[i]->primary_address(), std::nullopt);
            else answers.emplace_back(pairs[i]->primary_address(), hit->second);
        }
    }
    return answers;
}

}  // namespace mailgrant
