// caching_directory.h -- the TTL cache in front of a Directory.
//
// One cache per question. The batched questions (directory.h) fill the caches of the
// single ones too: the mailboxes of find_mailboxes() are kept by DN and by primary
// address (what the plugin asks for a shared namespace's owner), and a login's grants
// from everywhere answer "which of them are below this mailbox" without a search, so
// LIST after LOGIN asks LDAP nothing more. Answers with content live cache.ttl_s, empty answers ("no
// such login", "no grants") cache.negative_ttl_s, both up to cache.follow_ttl_s while the
// change feed follows LDAP (cache.h, Expiry); errors are never cached, so the next
// request after an outage asks LDAP again. Shared between threads, the inner directory
// must itself be safe for concurrent use (DirectoryPool is; a bare LdapDirectory is not).
#pragma once

#include <algorithm>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "mailgrant/cache.h"
#include "mailgrant/clock.h"
#include "mailgrant/directory.h"

namespace mailgrant {

// While alive, records on this thread the earliest expiry of every answer a
// CachingDirectory gives (a hit: its entry's; a fetch: the one it is stored with), so a
// result built from those answers (the policy daemon's cached decisions) is kept no
// longer than the oldest of them: a change in LDAP is still obeyed within the TTL.
class FreshnessScope {
public:
    explicit FreshnessScope(Expiry limit);
    ~FreshnessScope();
    FreshnessScope(const FreshnessScope&) = delete;
    FreshnessScope& operator=(const FreshnessScope&) = delete;

    Expiry expires() const { return expires_; }
    void limit(const Expiry& when) { expires_.limit(when); }

private:
    Expiry expires_;
    FreshnessScope* previous_;
};

struct CacheStats {
    unsigned long long hits = 0;
    unsigned long long misses = 0;
    // Hits past cache.ttl_s, given only because the change feed follows LDAP.
    unsigned long long followed_hits = 0;
};

class CachingDirectory final : public Directory {
public:
    // `address_base`: where an address lookup searches (Config::users_base()). A mailbox
    // read by DN (find_mailboxes) is also kept under its primary address only when its
    // entry is there, so that answer is one the address search could have given: an
    // entry elsewhere (an archive outside users.base with an old address) never becomes
    // what that address means. "" = never kept under an address. `following`: on while
    // the change feed follows LDAP (null: never; the caches keep cache.ttl_s alone).
    CachingDirectory(Directory& inner, const CacheConfig& config, const Clock& clock,
                     std::string address_base = {}, std::shared_ptr<const FollowFlag> following = nullptr);

    std::optional<Account> find_login(const std::string& login) override;
    std::optional<Account> find_mailbox(const std::string& address_or_dn) override;
    std::vector<GroupMembership> groups_of(const std::string& user_dn) override;
    std::vector<Grant> grants_of(const std::string& mailbox_dn) override;
    std::vector<Grant> grants_to(const std::vector<std::string>& grantee_dns) override;
    // Not cached: asked only when someone changes a share (rare), and must see a new group.
    std::optional<std::string> find_group(const std::string& name) override;
    std::vector<Account> find_mailboxes(const std::vector<std::string>& dns) override;
    GroupsAndGrants groups_and_grants(const std::string& user_dn, const std::string& mailbox_dn) override;
    // The same, the inner directory asked through groups_and_grants_for (kept under the same
    // keys), with the account's memberOf only as fresh as find_login() allows (directory.h).
    GroupsAndGrants groups_and_grants_for(const Account& user, const std::string& mailbox_dn) override;
    // Answers kept by address, where find_mailbox(address) looks first.
    AddressAnswers mailboxes_by_address(const std::vector<Account>& mailboxes) override;
    // The address's answer is find_mailbox(address)'s (kept under the same key), the
    // user's groups groups_of()'s; the grants are kept for this pair alone (they may be
    // only those with a send right, so they never answer groups_and_grants).
    SenderFacts sender_facts(const std::string& user_dn, const std::string& address) override;
    // The same, the inner directory asked through sender_facts_for (kept under the same keys),
    // with the account's memberOf only as fresh as find_login() allows (directory.h).
    SenderFacts sender_facts_for(const Account& user, const std::string& address) override;

    // Drops every answer (a change in LDAP was seen, change_feed.h) and returns how many.
    // An answer being fetched while this runs is not stored afterwards (it may predate the change).
    std::size_t clear();
    CacheStats stats() const;

private:
    // What an answer fetched now is worth (an empty one: negative_ttl_).
    Expiry lifetime(bool empty) const;
    // A hit with these ends was given only because the feed follows (past cache.ttl_s).
    bool past_backstop(const Expiry& expires) const { return clock_.steady_now() >= expires.backstop; }
    // A cached answer, counted as a hit and observed by the FreshnessScope; nullopt = none.
    template <typename Value>
    std::optional<Value> hit(TtlCache<std::string, Value>& cache, const std::string& key);
    template <typename Value, typename Fetch>
    Value cached(TtlCache<std::string, Value>& cache, const std::string& key, Fetch&& fetch);
    // sender_facts and sender_facts_for (`user`: the account, when known): `fetch` asks the
    // inner directory on a miss.
    template <typename Fetch>
    SenderFacts sender_facts_cached(const std::string& user_dn, const Account* user, const std::string& address,
                                    Fetch&& fetch);
    // `user` with its memberOf only if no clear() came since the login search read it.
    Account as_read(const Account& user) const;
    // groups_and_grants and groups_and_grants_for, the same way.
    template <typename Fetch>
    GroupsAndGrants groups_and_grants_cached(const std::string& user_dn, const std::string& mailbox_dn, Fetch&& fetch);

    // A login's grants from everywhere, split by owner (normalised owner DN): built once
    // from that cached answer and kept as long as it, so the N owners of a shared
    // namespace cost O(N) together, not N copies and scans of N grants each.
    struct OwnerIndex {
        std::vector<GroupMembership> groups;
        std::unordered_map<std::string, std::vector<Grant>> grants_by_owner;
    };
    // The grants below one owner from that index (nullopt: the login's grants from
    // everywhere are not cached).
    std::optional<GroupsAndGrants> from_everywhere(const std::string& user_key, const std::string& owner_key);

    Directory& inner_;
    const Clock& clock_;
    const std::string address_base_;  // normalised; "" = none
    const std::chrono::seconds ttl_;
    const std::chrono::seconds negative_ttl_;
    const std::chrono::seconds follow_ttl_;
    mutable std::mutex stats_mutex_;
    CacheStats stats_;
    TtlCache<std::string, std::optional<Account>> logins_;
    TtlCache<std::string, std::optional<Account>> mailboxes_;
    TtlCache<std::string, std::vector<GroupMembership>> groups_;
    TtlCache<std::string, std::vector<Grant>> grants_of_;
    TtlCache<std::string, std::vector<Grant>> grants_to_;
    TtlCache<std::string, GroupsAndGrants> groups_and_grants_;
    TtlCache<std::string, GroupsAndGrants> sender_grants_;  // by user key + mailbox key
    TtlCache<std::string, std::shared_ptr<const OwnerIndex>> owner_index_;  // by user key
};

}  // namespace mailgrant
