// ldap_client.h -- mailgrant's reads from LDAP.
//
// LdapConnection owns one bound session (LdapSession, ldap_session.h: ldap.uris in
// order, the service account's password from bind_password_file, optionally StartTLS)
// and puts a timeout on every search. Every subtree search asks for its result in pages (RFC 2696
// paged results, kPageSize entries each; a base or one-level search only once its first
// unpaged try was cut short by a size limit: see run()), so an answer larger than the server's
// per-search size limit (slapd's default: 500) still arrives whole where the service
// account may page (ldap-schema/README.md: `limits`); each page has its own timeout and
// the number of pages is bounded by ldap.size_limit (a walk's by kMaxWalkPages). A search that fails because the server went away before
// any result arrived is retried once on a fresh connection; once results have arrived it
// is never retried (the caller would see duplicates or a mix of two states).
//
// Errors are reported as LdapError with a small taxonomy so callers can decide: Timeout
// and Unavailable are temporary (policy daemon answers 4xx), NotFound means the search
// base does not exist, Other is everything else. No error ever means "no grants".
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "mailgrant/config.h"
#include "mailgrant/ldap_error.h"
#include "mailgrant/ldap_session.h"

namespace mailgrant {

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
    SearchRequest() = default;
    SearchRequest(std::string base_dn, SearchScope search_scope, std::string search_filter = "(objectClass=*)",
                  std::vector<std::string> attribute_list = {})
        : base(std::move(base_dn)), scope(search_scope), filter(std::move(search_filter)),
          attributes(std::move(attribute_list)) {}

    std::string base;
    SearchScope scope = SearchScope::Subtree;
    std::string filter = "(objectClass=*)";
    std::vector<std::string> attributes;  // empty = all user attributes
    // RFC 3876 matched values, sent critical: only the values this ValuesReturnFilter
    // matches come back (e.g. "((member=<DN>)(mail=*))": of a group's members only that
    // one). An attribute no item names comes back without values. "" = every value.
    std::string values_filter;
};

// What the directory model needs from LDAP; unit tests substitute an in-memory one.
class LdapSearcher {
public:
    virtual ~LdapSearcher() = default;
    // A missing base (noSuchObject) returns no entries rather than throwing NotFound,
    // because "this mailbox has no grant children" is the common case.
    virtual std::vector<LdapEntry> search(const SearchRequest& request) = 0;

    using EntrySink = std::function<void(LdapEntry&&)>;
    // The same result handed to `each` entry by entry, for walks over a whole directory
    // (the admin CLI's check and report): LdapConnection holds one page at a time and
    // applies no ldap.size_limit. This default (in-memory searchers) reads it all first.
    virtual void search_each(const SearchRequest& request, const EntrySink& each) {
        for (auto& entry : search(request)) each(std::move(entry));
    }
};

class LdapConnection final : public LdapSearcher {
public:
    // Reads the password file at construction (throws ConfigError); connects lazily.
    explicit LdapConnection(const LdapConfig& config);
    ~LdapConnection() override;
    LdapConnection(const LdapConnection&) = delete;
    LdapConnection& operator=(const LdapConnection&) = delete;

    std::vector<LdapEntry> search(const SearchRequest& request) override;
    // Page by page (kPageSize entries held at most), without ldap.size_limit: a walk is
    // bounded by kMaxWalkPages instead. Each page goes to `each` once it is complete, when
    // no request is outstanding: the caller's time is not the server's timeout. Lookups
    // from `each` belong on another connection: slapd keeps one paged search per
    // connection, so a paged lookup here would end the walk (the CLI walks on a second
    // one). An exception from `each` ends the walk and reaches the caller as it was thrown
    // (never counted against this connection's server). Retried like search(), only before
    // the first entry arrived.
    void search_each(const SearchRequest& request, const EntrySink& each) override;

    // Connects and binds now (for start-up checks); throws LdapError.
    void connect();
    // The URI of the current connection, "" when not connected.
    const std::string& connected_uri() const { return session_.uri(); }

    // Limits on what one entry may hold, so a hostile or broken directory cannot exhaust
    // memory. An entry that exceeds them is left out of the result and named in one
    // warning (warnings.h); the other entries are returned. An error here would let one
    // grant that any mailbox owner may write take down every answer of the search (all
    // of a grantee's shared mailboxes). Leaving an entry out never widens access: grants
    // only ever add rights. (Too many entries is still an error: see ldap.size_limit.)
    static constexpr std::size_t kMaxValueBytes = 256 * 1024;
    static constexpr std::size_t kMaxValuesPerAttribute = 100000;  // large groups
    // Entries per page: slapd's default size limit, which a page may never exceed there.
    static constexpr int kPageSize = 500;
    // Pages of one search_each: 50 million entries, far above any directory mailgrant
    // serves, so that a server that never ends its result cannot keep a walk going.
    static constexpr int kMaxWalkPages = 100000;

    // LDAP search operations sent so far (each page is one), for tests and benchmarks.
    unsigned long long search_count() const { return searches_; }

private:
    // `limit`: the most entries (ldap.size_limit), 0 = a walk (kMaxWalkPages).
    void run(const SearchRequest& request, int limit, const EntrySink& each);
    // One search, retried once on a connection that dropped before any result.
    void with_retry(const std::function<void(bool& results_arrived)>& search);
    // `paged` false: one unpaged request with a size limit of kPageSize; returns false
    // when that limit (or the server's) cut the result short. Paged: always true.
    bool search_once(const SearchRequest& request, int limit, const EntrySink& each, bool& results_arrived, bool paged);

    LdapConfig config_;
    std::string password_;
    LdapSession session_;
    unsigned long long searches_ = 0;
};

}  // namespace mailgrant
