// directory.h -- the questions mailgrant asks the directory, and their LDAP answers.
//
// Directory is the interface the decision code uses; LdapDirectory answers it with the
// searches of DESIGN.md (filters from the config, every value escaped), CachingDirectory
// (caching_directory.h) puts the TTL cache in front. All methods throw LdapError on
// LDAP trouble; none turns an error into "not found". Names that can never be found
// (empty, over-long, malformed: see input.h) throw BadInput instead, before any search,
// so a client's bad input is never mistaken for an LDAP outage.
#pragma once

#include <functional>
#include <memory>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mailgrant/config.h"
#include "mailgrant/dn_patterns.h"
#include "mailgrant/grant.h"
#include "mailgrant/input.h"
#include "mailgrant/ldap_client.h"

namespace mailgrant {

// A person's account or a shared mailbox.
struct Account {
    Account() = default;
    // Positional, as tests and fakes build accounts; sent_copy is rarely given.
    Account(std::string dn_, std::vector<std::string> addresses_, bool shared_mailbox_,
            std::optional<bool> sent_copy_ = std::nullopt)
        : dn(std::move(dn_)), addresses(std::move(addresses_)), shared_mailbox(shared_mailbox_), sent_copy(sent_copy_) {}

    std::string dn;
    std::vector<std::string> addresses;  // primary mail address first, then aliases
    bool shared_mailbox = false;
    // schema.sent_copy (mailSharedSentCopy) on the entry: TRUE/FALSE; absent (or any other
    // value) = team_mailbox.sent_copy decides (sent_copy.h).
    std::optional<bool> sent_copy;
    // The user's direct groups as the login search read them (find_login), so the group
    // walk starts one level further: memberof mode, the entry's memberOf values; search
    // mode with users.dn_template, the groups (within groups.base) naming the DN the
    // template gave, kept only when that DN proved to be the login's. Unset = not read,
    // so not known. Only as fresh as that search: CachingDirectory gives them only with a
    // login it read just now, and uses them only while no clear() came between
    // (direct_groups_generation, its cache generation then), so no answer built from
    // them outlives cache.ttl_s.
    std::optional<std::vector<std::string>> direct_groups;
    std::uint64_t direct_groups_generation = 0;

    std::string primary_address() const { return addresses.empty() ? std::string() : addresses.front(); }
    bool owns_address(const std::string& address) const;  // case-insensitive
};

// A group the user is in, with the chain that makes it so: path.front() is a group the
// user is a direct member of, path.back() == dn.
struct GroupMembership {
    std::string dn;
    std::vector<std::string> path;
};

// One level of a nested-group walk: `dn` was reached from frontier[from].
struct GroupStep {
    std::string dn;
    std::size_t from;
};
using NextLevel = std::function<std::vector<GroupStep>(const std::vector<GroupMembership>& frontier)>;

// The one walk over nested groups, in either direction (a user's groups upwards, a
// group's members downwards): breadth-first from `start_dn`, `next_level` answers what
// the frontier leads to. Depth-limited (nothing beyond max_depth steps) and cycle-safe
// (every DN, the start's too, is visited once, by its shortest path). Returns what was
// reached, each with its path (path.front() = one step from the start, path.back() = dn).
std::vector<GroupMembership> walk_nested(const std::string& start_dn, int max_depth, const NextLevel& next_level);

// A user's groups and the grants that name the user or one of those groups (see
// Directory::groups_and_grants).
struct GroupsAndGrants {
    std::vector<GroupMembership> groups;
    std::vector<Grant> grants;
};

// What a sender decision reads (Directory::sender_facts): the mailbox an address a client
// sent names, and the user's groups with the grants below that mailbox naming the user or
// one of them (those carrying a send right at least; others may come too).
struct SenderFacts {
    std::optional<Account> mailbox;
    GroupsAndGrants with;  // empty when there is no mailbox
};

// (address, what find_mailbox(address) answers): Directory::mailboxes_by_address.
using AddressAnswers = std::vector<std::pair<std::string, std::optional<Account>>>;

// The DNs a grant must name to reach this user: the user's own, then each group's.
std::vector<std::string> grantee_dns(const std::string& user_dn, const std::vector<GroupMembership>& groups);

class Directory {
public:
    virtual ~Directory() = default;
    // Login name (uid or mail by default) -> account. Several matches is an error.
    virtual std::optional<Account> find_login(const std::string& login) = 0;
    // Address (mail or alias, any case) or DN -> mailbox. For names mailgrant itself got
    // from LDAP (a grant's owner, a grantee) or from an admin: a DN-shaped text is read
    // as a DN (a DN that does not parse is BadInput).
    virtual std::optional<Account> find_mailbox(const std::string& address_or_dn) = 0;
    // Address -> mailbox, for an address a client sent (envelope or header sender): never
    // read as a DN; a DN-shaped, empty or over-long address is BadInput (input.h).
    std::optional<Account> find_address(const std::string& address);
    // Every group the user is in, nested groups included (depth-limited, cycle-safe).
    virtual std::vector<GroupMembership> groups_of(const std::string& user_dn) = 0;
    // The grant entries directly below a mailbox entry.
    virtual std::vector<Grant> grants_of(const std::string& mailbox_dn) = 0;
    // Every grant naming one of these DNs as grantee, anywhere below ldap.base (one search).
    virtual std::vector<Grant> grants_to(const std::vector<std::string>& grantee_dns) = 0;
    // Batched questions, so that one login or one decision costs a fixed number of
    // searches whatever the number of mailboxes involved. Each has a default made of
    // the questions above (what test doubles answer); LdapDirectory answers them with
    // fewer searches, and the answers are the same.
    //
    // The mailboxes among these DNs (as find_mailbox(dn) answers each), in no particular
    // order; a DN that is no mailbox is left out.
    virtual std::vector<Account> find_mailboxes(const std::vector<std::string>& dns);
    // groups_of(user_dn), and the grants naming the user or one of those groups: directly
    // below `mailbox_dn` (its grants_of() that name one of grantee_dns()), or anywhere
    // (grants_to(grantee_dns())) when `mailbox_dn` is empty.
    virtual GroupsAndGrants groups_and_grants(const std::string& user_dn, const std::string& mailbox_dn);
    // What find_mailbox(address) answers for each mailbox's primary address (users base,
    // users.address_filter, one entry only), as (address, answer) pairs, wherever a
    // fixed number of searches settles it. An address it cannot settle so (it finds
    // another entry too, it is no valid address, two of `mailboxes` have it) is left
    // out: ask find_mailbox for it, which gives the reason. Default: none is settled.
    virtual AddressAnswers mailboxes_by_address(const std::vector<Account>& mailboxes);
    // find_address(address), and when that is a mailbox, groups_of(user_dn) with the
    // grants directly below it naming the user or one of those groups, of which every one
    // with a send right (mailGrantSend) is there: what deciding "may this user send as
    // that address" needs, and nothing more. Default: find_address, then
    // groups_and_grants(user_dn, mailbox DN).
    virtual SenderFacts sender_facts(const std::string& user_dn, const std::string& address);
    // sender_facts(user.dn, address) for an account find_login answered: a directory may
    // use what that search read (the user's memberOf, so the groups need no read of
    // their own). Default: sender_facts(user.dn, address).
    virtual SenderFacts sender_facts_for(const Account& user, const std::string& address);
    // groups_and_grants(user.dn, mailbox_dn) for an account find_login answered, the same
    // way. Default: groups_and_grants(user.dn, mailbox_dn).
    virtual GroupsAndGrants groups_and_grants_for(const Account& user, const std::string& mailbox_dn);

    // A group by name (groups.name_filter, cn by default) -> its DN; several matches is an
    // error. Not pure: only the self-service path asks it, so directories that never
    // serve that path (test doubles) need not answer; the default throws LdapError
    // (never "not found", which would be a wrong answer rather than no answer).
    virtual std::optional<std::string> find_group(const std::string& name);
};

class LdapDirectory final : public Directory {
public:
    LdapDirectory(const Config& config, LdapSearcher& ldap) : config_(config), ldap_(ldap) {}

    // Search mode without users.dn_template: the DN patterns its login searches learn
    // (dn_patterns.h), this directory's own unless shared (DirectoryPool shares one
    // between its connections).
    void share_dn_patterns(std::shared_ptr<DnPatterns> patterns) { patterns_ = std::move(patterns); }
    const DnPatterns& dn_patterns() const { return *patterns_; }

    std::optional<Account> find_login(const std::string& login) override;
    std::optional<Account> find_mailbox(const std::string& address_or_dn) override;
    std::vector<GroupMembership> groups_of(const std::string& user_dn) override;
    std::vector<Grant> grants_of(const std::string& mailbox_dn) override;
    std::vector<Grant> grants_to(const std::vector<std::string>& grantee_dns) override;
    std::optional<std::string> find_group(const std::string& name) override;
    // One OR-search of entryDN assertions per kDnsPerOwnerFilter DNs (slapd answers them
    // from its DN index).
    std::vector<Account> find_mailboxes(const std::vector<std::string>& dns) override;
    // Groups by search: each level's group search also asks for the grants naming every
    // DN found so far, so the last level's answer holds all of them (one search for a
    // user in no group). memberOf mode: the default.
    GroupsAndGrants groups_and_grants(const std::string& user_dn, const std::string& mailbox_dn) override;
    // Two OR-searches per kAddressesPerFilter addresses (address_batch.cpp): every entry
    // the addresses find, which must all be their mailboxes, and any mailbox found by
    // another's address, which must be none; a set that fails either is halved.
    AddressAnswers mailboxes_by_address(const std::vector<Account>& mailboxes) override;
    // One search for the address, the groups naming the user and the grants naming the
    // user with a send right (sender_facts.cpp), where each entry's part can be told from
    // the entry itself (local_filter.h); else the default.
    SenderFacts sender_facts(const std::string& user_dn, const std::string& address) override;
    // With the user's direct groups read by the login search (Account::direct_groups):
    // the address, the next level's groups and the grants naming the user or a direct
    // group with a send right in one search, then one per further level of nesting
    // (memberof mode: member_of_walk.cpp; search mode: sender_facts.cpp). Else
    // sender_facts(user.dn, address).
    SenderFacts sender_facts_for(const Account& user, const std::string& address) override;
    // The same: each level's groups and the grants naming anyone found so far in one
    // search, the walk starting at the direct groups (a user in no group: the grant
    // search alone). Else groups_and_grants.
    GroupsAndGrants groups_and_grants_for(const Account& user, const std::string& mailbox_dn) override;

    // What an account search asks for, and how an entry becomes an Account (mail first,
    // then aliases, shared-mailbox flag). Public so other readers (the CLI's report) do
    // not parse accounts a second way.
    std::vector<std::string> account_attributes() const;
    Account account_from_entry(const LdapEntry& entry) const;
    // Why users.dn_template is not used for `login` ("" when it is: the login search then
    // also asks for the guessed DN's groups), for `check` to say so instead of reporting
    // a fit that never applies (login_groups.cpp).
    std::string dn_template_unused(const std::string& login) const;

    // Longest login or address accepted; longer input is refused before any search.
    static constexpr std::size_t kMaxNameLength = mailgrant::kMaxNameLength;
    // DNs per OR filter when expanding nested groups (keeps filters a sane size).
    static constexpr std::size_t kDnsPerFilter = 64;
    // Grantee DNs per grant filter, and mailbox DNs per owner filter: a login's grants
    // and its sharing owners in one search each up to this many.
    static constexpr std::size_t kGranteesPerFilter = 256;
    static constexpr std::size_t kDnsPerOwnerFilter = 256;
    // (address, DN) pairs per filter of mailboxes_by_address (each pair is the address
    // filter twice over and a DN).
    static constexpr std::size_t kAddressesPerFilter = 128;
    // Entries sender_facts lets slapd settle one by one before it asks every question so.
    static constexpr std::size_t kMaxSettled = 4;

private:
    std::optional<Account> single_account(const std::vector<LdapEntry>& entries, const std::string& what);
    // A search asking several questions at once: nullopt when it hits its own limits (a
    // server refusing the matched-values control, more entries than a lookup may hold),
    // which is not LDAP trouble: the caller asks the questions one by one, which ask less.
    // Any other error is thrown.
    std::optional<std::vector<LdapEntry>> merged_search(const SearchRequest& request);
    // Search mode with users.dn_template or a learned pattern, `tmpl` (login_groups.cpp):
    // the login and the groups naming the DN the template gives, in one search.
    enum class LoginWithGroups {
        Settled,     // `account` is the answer
        NotPlanned,  // no such search for this login or configuration: none ran
        Unsettled,   // it ran and cannot tell its entries apart; `guess` is the DN it asked about
    };
    LoginWithGroups login_with_groups(const std::string& login, const std::string& tmpl, std::optional<Account>& account,
                                      std::string& guess);
    SenderFacts sender_facts_from(const std::string& user_dn, const std::vector<std::string>* direct,
                                  const std::string& address);
    GroupsAndGrants member_of_groups_and_grants(const Account& user, const std::string& mailbox_dn);
    SenderFacts member_of_sender_facts(const Account& user, const std::string& address);
    // The first levels of a merged walk when another search already asked them:
    // levels[i] is what the walk's step i leads to (levels[0]: the user's direct groups),
    // and `grants`, below the mailbox, name the first `grants_name` of the walk's DNs (the
    // user, then each level's groups in turn; 0 = no grant was asked yet).
    struct Prefetched {
        std::vector<std::vector<GroupStep>> levels;
        std::vector<Grant> grants;
        std::size_t grants_name = 0;
    };
    bool merges_groups() const;
    GroupsAndGrants merged_walk(const std::string& user_dn, const std::string& mailbox_dn, const Prefetched* pre);
    std::vector<GroupMembership> groups_by_search(const std::string& user_dn);
    std::vector<GroupStep> group_level(const std::vector<GroupMembership>& frontier);
    std::vector<GroupMembership> groups_by_member_of(const std::string& user_dn);
    // One level of the memberOf walk from the login's memberOf (member_of_walk.cpp): the
    // memberOf of each of `level`; adds the level to `known` and, when one filter holds
    // them, puts the grants naming all of `known` (below `mailbox_dn`, or anywhere) in
    // `answer`, noting how many of `known` they name in `grants_name`.
    std::vector<std::vector<std::string>> member_of_level(const std::vector<GroupMembership>& level,
                                                          std::vector<std::string>& known, const std::string& mailbox_dn,
                                                          GroupsAndGrants& answer, std::size_t& grants_name);
    // Of `grant_entries` (a search from the base), the grants directly below `mailbox_dn`.
    std::vector<Grant> grants_below(std::vector<LdapEntry>& grant_entries, const std::string& mailbox_dn) const;
    // The memberOf of each of `level`, as groups_by_member_of reads a level.
    std::vector<std::vector<std::string>> member_of_values(const std::vector<GroupMembership>& level);
    // Reads by itself the memberOf of each of `level` not `read` yet, into `parents`.
    void read_the_rest(const std::vector<GroupMembership>& level, const std::vector<bool>& read,
                       std::vector<std::vector<std::string>>& parents);
    // The entries of `dns` (all within ldap.base), `per_filter` of them per search of
    // (entryDN=...) OR-ed from ldap.base: slapd answers each from its DN index.
    std::vector<LdapEntry> entries_by_dn(const std::vector<std::string>& dns, const std::vector<std::string>& attributes,
                                         std::size_t per_filter);
    // (objectClass=mailGrant) and one of `grantees`, below `mailbox_dn` when not empty.
    std::string grant_filter(const std::vector<std::string>& grantees, const std::string& mailbox_dn) const;
    // The grants naming one of `grantees`: anywhere, or one level below `mailbox_dn`.
    std::vector<Grant> grants_naming(const std::vector<std::string>& grantees, const std::string& mailbox_dn);
    std::size_t via_of(const LdapEntry& group, const std::vector<GroupMembership>& frontier, std::size_t start,
                       std::size_t end) const;

    const Config& config_;
    LdapSearcher& ldap_;
    std::shared_ptr<DnPatterns> patterns_ = std::make_shared<DnPatterns>();
};

}  // namespace mailgrant
