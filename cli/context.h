// context.h -- what every verb shares: the loaded config, the read connection, the core
// Directory and Decider, plus the CLI's own directory look-ups that the core has no need
// for (resolve a grantee given as address, login, group name or DN; expand a group to
// people; every grant; every mailbox). Reads use the read-only credentials of the YAML;
// writes go through LdapWriter (ldap_writer.h) with write credentials.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "mailgrant/clock.h"
#include "mailgrant/config.h"
#include "mailgrant/decision.h"
#include "mailgrant/directory.h"
#include "mailgrant/directory_walk.h"
#include "mailgrant/ldap_client.h"

namespace mailgrant::cli {

// Exit codes (documented in `mailgrant --help`).
constexpr int kExitOk = 0;
constexpr int kExitNo = 1;        // explain: denied; check: findings; revoke: nothing matched
constexpr int kExitUsage = 2;     // bad command line
constexpr int kExitTrouble = 3;   // configuration or LDAP error
constexpr int kExitRefused = 4;   // grant/revoke refused: it could never work as asked
constexpr int kExitNotifyFailed = 5;  // grant written, but --notify could not deliver
constexpr int kExitIncomplete = 6;    // report: message counts or last logins could not be read

// A request that names something that does not exist or cannot work. Exit 4.
class Refusal : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Principal {
    enum class Kind { Person, Group, Missing, Other };
    Kind kind = Kind::Missing;
    std::string dn;
    std::string display;                  // primary address for people, cn for groups
    std::vector<std::string> addresses;   // people only
    bool shared_mailbox = false;
};

// A person reached through a group (for --expand, report and --notify).
struct Member {
    std::string dn;
    std::string address;                // "" when the entry has no mail address
    std::vector<std::string> via;       // group names from the granted group down
};

class Context {
public:
    // `walker`: the connection whole-directory walks read on (main.cpp opens a second
    // one, so a look-up made while a walk is under way never shares its connection);
    // null = `ldap` (tests with in-memory searchers).
    Context(const Config& config, LdapSearcher& ldap, const Clock& clock, LdapSearcher* walker = nullptr)
        : config_(config),
          ldap_(ldap),
          directory_(config, ldap),
          decider_(directory_, clock),
          clock_(clock),
          walk_(config, walker ? *walker : ldap) {}

    const Config& config() const { return config_; }
    Directory& directory() { return directory_; }
    const LdapDirectory& ldap_directory() const { return directory_; }
    Decider& decider() { return decider_; }
    std::time_t now() const { return clock_.wall_now(); }
    const Clock& clock() const { return clock_; }
    // The read connection itself, for searches outside the users and grants (audit: the
    // accesslog database and operational attributes).
    LdapSearcher& ldap() { return ldap_; }

    // MAILBOX argument: address, alias, login or DN. Throws Refusal when unknown.
    Account resolve_mailbox(const std::string& text);
    // GRANTEE argument: address, login, group name (cn) or DN. Throws Refusal when unknown.
    Principal resolve_grantee(const std::string& text);
    // What a DN stored in LDAP is (cached). Missing when the entry does not exist.
    const Principal& describe(const std::string& dn);
    // People in a group, nested groups followed (groups.max_depth, cycle-safe).
    std::vector<Member> expand_group(const std::string& group_dn);
    // Every grant below ldap.base / every mailbox (entry with a mail address) below users
    // base, sorted (owner and name / address). Walks (directory_walk.h): no ldap.size_limit,
    // but all of it held; check and report use the each_ forms below instead.
    std::vector<Grant> all_grants();
    std::vector<Account> all_mailboxes();
    // Every group entry: dn -> member DNs (for cycle checks). Each becomes known to describe().
    std::map<std::string, std::vector<std::string>> all_groups();
    // The walks themselves: each grant / mailbox as it arrives, one page held at a time.
    DirectoryWalk& walk() { return walk_; }
    // Reads every mailbox once (one walk) so that describe() answers each person from
    // memory instead of one read per DN (check, report: a million grants name ~100,000
    // people). A DN not met in the walk is still read when described. `each`, when given,
    // also sees every mailbox of the walk (its entry has uid too).
    void know_people(const std::function<void(const Account&, const LdapEntry&)>& each = nullptr);
    // One entry read elsewhere (a walk with objectClass, cn and the mail attributes)
    // made known to describe().
    void know(const LdapEntry& entry);

    std::string grantee_label(const std::string& dn);

    // Every mailbox (as all_mailboxes) with its entry, read with `extra` attributes too.
    std::vector<std::pair<Account, LdapEntry>> mailbox_entries(const std::vector<std::string>& extra);
    // Entries below the users base matching `filter` (report: manager links).
    std::vector<LdapEntry> search_users(const std::string& filter, const std::vector<std::string>& attributes);  // "bob@example.com", "group support-team", or the DN

private:
    std::optional<LdapEntry> read_entry(const std::string& dn);
    Principal principal_from_entry(const LdapEntry& entry) const;
    bool is_group(const LdapEntry& entry) const;
    std::string group_filter() const;

    const Config& config_;
    LdapSearcher& ldap_;
    LdapDirectory directory_;
    Decider decider_;
    const Clock& clock_;
    DirectoryWalk walk_;
    std::map<std::string, Principal> described_;  // normalised DN -> principal
};

}  // namespace mailgrant::cli
