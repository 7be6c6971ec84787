// ldap_client.h -- the only place mailgrant talks to libldap.
//
// LdapConnection owns one bound connection (RAII, non-copyable). It tries ldap.uris in
// order, binds with the password from bind_password_file, optionally StartTLS, and puts
// a timeout on every operation. A search that fails because the server went away before
// any result arrived is retried once on a fresh connection; once results have arrived it
// is never retried (the caller would see duplicates or a mix of two states).
//
// Errors are reported as LdapError with a small taxonomy so callers can decide: Timeout
// and Unavailable are temporary (policy daemon answers 4xx), NotFound means the search
// base does not exist, Other is everything else. No error ever means "no grants".
#pragma once

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "mailgrant/config.h"

struct ldap;  // libldap's session type (LDAP in <ldap.h>), kept out of this header

namespace mailgrant {

enum class LdapErrorKind { Timeout, Unavailable, NotFound, Other };

const char* to_string(LdapErrorKind kind);

class LdapError : public std::runtime_error {
public:
    LdapError(LdapErrorKind kind, int code, const std::string& what)
        : std::runtime_error(what), kind_(kind), code_(code) {}
    LdapErrorKind kind() const { return kind_; }
    int code() const { return code_; }  // libldap result code, 0 when not from libldap

private:
    LdapErrorKind kind_;
    int code_;
};

// One entry of a search result. Attribute names are stored lower-cased; values are byte
// strings read by length (may contain NUL).
struct LdapEntry {
    std::string dn;
    std::map<std::string, std::vector<std::string>> attributes;

    const std::vector<std::string>& values(const std::string& attribute) const;
    std::string first(const std::string& attribute) const;  // "" when absent
    bool has_value_ci(const std::string& attribute, const std::string& value) const;
};

enum class SearchScope { Base, OneLevel, Subtree };

struct SearchRequest {
    std::string base;
    SearchScope scope = SearchScope::Subtree;
    std::string filter = "(objectClass=*)";
    std::vector<std::string> attributes;  // empty = all user attributes
};

// What the directory model needs from LDAP; unit tests substitute an in-memory one.
class LdapSearcher {
public:
    virtual ~LdapSearcher() = default;
    // A missing base (noSuchObject) returns no entries rather than throwing NotFound,
    // because "this mailbox has no grant children" is the common case.
    virtual std::vector<LdapEntry> search(const SearchRequest& request) = 0;
};

// Applies the protocol version, network and operation timeouts, referral and TLS options
// of `config` to a fresh libldap session for `uri`, and runs StartTLS when configured.
// Returns libldap's result code; the caller binds. Shared by LdapConnection and the
// CLI's writer so both talk to LDAP with the same timeouts and certificate checks.
int prepare_ldap_session(::ldap* session, const LdapConfig& config, const std::string& uri);

class LdapConnection final : public LdapSearcher {
public:
    // Reads the password file at construction (throws ConfigError); connects lazily.
    explicit LdapConnection(const LdapConfig& config);
    ~LdapConnection() override;
    LdapConnection(const LdapConnection&) = delete;
    LdapConnection& operator=(const LdapConnection&) = delete;

    std::vector<LdapEntry> search(const SearchRequest& request) override;

    // Connects and binds now (for start-up checks); throws LdapError.
    void connect();
    // The URI of the current connection, "" when not connected.
    const std::string& connected_uri() const { return connected_uri_; }

    // Limits on what one entry may hold, so a hostile or broken directory cannot exhaust
    // memory. An entry that exceeds them is left out of the result and named in one
    // warning (warnings.h); the other entries are returned. An error here would let one
    // grant that any mailbox owner may write take down every answer of the search (all
    // of a grantee's shared mailboxes). Leaving an entry out never widens access: grants
    // only ever add rights. (Too many entries is still an error: see ldap.size_limit.)
    static constexpr std::size_t kMaxValueBytes = 256 * 1024;
    static constexpr std::size_t kMaxValuesPerAttribute = 100000;  // large groups

private:
    struct Handle;  // owns LDAP*
    std::vector<LdapEntry> search_once(const SearchRequest& request, bool& results_arrived);

    LdapConfig config_;
    std::string password_;
    std::unique_ptr<Handle> handle_;
    std::string connected_uri_;
};

}  // namespace mailgrant
