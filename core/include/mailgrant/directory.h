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
#include <optional>
#include <string>
#include <vector>

#include "mailgrant/config.h"
#include "mailgrant/grant.h"
#include "mailgrant/input.h"
#include "mailgrant/ldap_client.h"

namespace mailgrant {

// A person's account or a shared mailbox.
struct Account {
    std::string dn;
    std::vector<std::string> addresses;  // primary mail address first, then aliases
    bool shared_mailbox = false;

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
    // A group by name (groups.name_filter, cn by default) -> its DN; several matches is an
    // error. Not pure: only the self-service path asks it, so directories that never
    // serve that path (test doubles) need not answer; the default throws LdapError
    // (never "not found", which would be a wrong answer rather than no answer).
    virtual std::optional<std::string> find_group(const std::string& name);
};

class LdapDirectory final : public Directory {
public:
    LdapDirectory(const Config& config, LdapSearcher& ldap) : config_(config), ldap_(ldap) {}

    std::optional<Account> find_login(const std::string& login) override;
    std::optional<Account> find_mailbox(const std::string& address_or_dn) override;
    std::vector<GroupMembership> groups_of(const std::string& user_dn) override;
    std::vector<Grant> grants_of(const std::string& mailbox_dn) override;
    std::vector<Grant> grants_to(const std::vector<std::string>& grantee_dns) override;
    std::optional<std::string> find_group(const std::string& name) override;

    // What an account search asks for, and how an entry becomes an Account (mail first,
    // then aliases, shared-mailbox flag). Public so other readers (the CLI's report) do
    // not parse accounts a second way.
    std::vector<std::string> account_attributes() const;
    Account account_from_entry(const LdapEntry& entry) const;

    // Longest login or address accepted; longer input is refused before any search.
    static constexpr std::size_t kMaxNameLength = mailgrant::kMaxNameLength;
    // DNs per OR filter when expanding nested groups (keeps filters a sane size).
    static constexpr std::size_t kDnsPerFilter = 64;

private:
    std::optional<Account> single_account(const std::vector<LdapEntry>& entries, const std::string& what);
    std::vector<GroupMembership> groups_by_search(const std::string& user_dn);
    std::vector<GroupMembership> groups_by_member_of(const std::string& user_dn);

    const Config& config_;
    LdapSearcher& ldap_;
};

}  // namespace mailgrant
