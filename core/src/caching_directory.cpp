// caching_directory.cpp -- see caching_directory.h.
#include "mailgrant/caching_directory.h"

#include <set>

#include "mailgrant/dn.h"
#include "mailgrant/input.h"

namespace mailgrant {
namespace {

template <typename T>
bool is_empty_answer(const std::optional<T>& v) { return !v.has_value(); }
template <typename T>
bool is_empty_answer(const std::vector<T>& v) { return v.empty(); }
bool is_empty_answer(const GroupsAndGrants& v) { return v.groups.empty() && v.grants.empty(); }

// A DN key that two spellings of the same DN share; falls back to lower-case text.
std::string dn_key(const std::string& dn) {
    std::string norm = normalize_dn(dn);
    return norm.empty() ? ascii_lower(dn) : norm;
}

// The key find_mailbox(address) keeps an address's answer under; every other question
// that files an answer by address (find_mailboxes, mailboxes_by_address) uses it too.
std::string address_key(const std::string& address) { return ascii_lower(address); }

thread_local FreshnessScope* freshness = nullptr;

void observe(const Expiry& expires) {
    if (freshness) freshness->limit(expires);
}

}  // namespace

FreshnessScope::FreshnessScope(Expiry limit) : expires_(limit), previous_(freshness) { freshness = this; }
FreshnessScope::~FreshnessScope() { freshness = previous_; }

CachingDirectory::CachingDirectory(Directory& inner, const CacheConfig& config, const Clock& clock,
                                   std::string address_base, std::shared_ptr<const FollowFlag> following)
    : inner_(inner),
      clock_(clock),
      address_base_(address_base.empty() ? std::string() : normalize_dn(address_base)),
      ttl_(config.ttl_s),
      negative_ttl_(config.negative_ttl_s),
      follow_ttl_(config.follow_ttl_s),
      logins_(config.max_entries, clock, 0, following),
      mailboxes_(config.max_entries, clock, 0, following),
      groups_(config.max_entries, clock, 0, following),
      grants_of_(config.max_entries, clock, 0, following),
      grants_to_(config.max_entries, clock, 0, following),
      groups_and_grants_(config.max_entries, clock, 0, following),
      sender_grants_(config.max_entries, clock, 0, following),
      owner_index_(config.max_entries, clock, 0, following) {}

Expiry CachingDirectory::lifetime(bool empty) const {
    return Expiry::after(clock_.steady_now(), empty ? negative_ttl_ : ttl_, follow_ttl_);
}

template <typename Value>
std::optional<Value> CachingDirectory::hit(TtlCache<std::string, Value>& cache, const std::string& key) {
    Expiry expires;
    auto found = cache.get(key, &expires);
    if (!found) return std::nullopt;
    observe(expires);
    const bool followed = past_backstop(expires);
    std::lock_guard<std::mutex> lock(stats_mutex_);
    ++stats_.hits;
    stats_.followed_hits += followed ? 1 : 0;
    return found;
}

template <typename Value, typename Fetch>
Value CachingDirectory::cached(TtlCache<std::string, Value>& cache, const std::string& key, Fetch&& fetch) {
    if (auto found = hit(cache, key)) return std::move(*found);
    const auto generation = cache.generation();  // a clear() during the fetch: not stored
    Value value = fetch();  // throws on LDAP trouble: nothing is cached then
    const Expiry expires = lifetime(is_empty_answer(value));
    observe(expires);
    cache.put_until(key, value, expires, generation);
    std::lock_guard<std::mutex> lock(stats_mutex_);
    ++stats_.misses;
    return value;
}

std::optional<Account> CachingDirectory::find_login(const std::string& login) {
    bool fetched = false;
    auto account = cached(logins_, ascii_lower(login), [&] {
        fetched = true;
        const auto generation = logins_.generation();
        auto found = inner_.find_login(login);
        if (found) found->direct_groups_generation = generation;
        return found;
    });
    // A kept login's direct groups may be as old as cache.ttl_s: an answer built from them and
    // kept for a full lifetime of its own would outlive that (a group left, still obeyed).
    if (!fetched && account) account->direct_groups.reset();
    return account;
}

// The account as the inner directory may use it: its direct groups only if no clear() (a change
// seen in LDAP) came since it was read.
Account CachingDirectory::as_read(const Account& user) const {
    Account copy = user;
    if (copy.direct_groups && copy.direct_groups_generation != logins_.generation()) copy.direct_groups.reset();
    return copy;
}

std::optional<Account> CachingDirectory::find_mailbox(const std::string& address_or_dn) {
    const std::string key = looks_like_dn(address_or_dn) ? "dn:" + dn_key(address_or_dn) : address_key(address_or_dn);
    return cached(mailboxes_, key, [&] { return inner_.find_mailbox(address_or_dn); });
}

std::vector<GroupMembership> CachingDirectory::groups_of(const std::string& user_dn) {
    return cached(groups_, dn_key(user_dn), [&] { return inner_.groups_of(user_dn); });
}

std::vector<Grant> CachingDirectory::grants_of(const std::string& mailbox_dn) {
    return cached(grants_of_, dn_key(mailbox_dn), [&] { return inner_.grants_of(mailbox_dn); });
}

std::vector<Grant> CachingDirectory::grants_to(const std::vector<std::string>& grantee_dns) {
    std::string key;
    for (const auto& dn : grantee_dns) key += dn_key(dn) + '\n';
    return cached(grants_to_, key, [&] { return inner_.grants_to(grantee_dns); });
}

std::optional<std::string> CachingDirectory::find_group(const std::string& name) { return inner_.find_group(name); }

std::vector<Account> CachingDirectory::find_mailboxes(const std::vector<std::string>& dns) {
    std::vector<Account> accounts;
    std::vector<std::string> missing;
    std::set<std::string> seen;
    unsigned long long hits = 0, followed = 0;
    for (const auto& dn : dns) {
        const std::string key = "dn:" + dn_key(dn);
        if (!seen.insert(key).second) continue;
        Expiry expires;
        if (auto hit = mailboxes_.get(key, &expires)) {
            observe(expires);
            ++hits;
            followed += past_backstop(expires) ? 1 : 0;
            if (*hit) accounts.push_back(**hit);
        } else {
            missing.push_back(dn);
        }
    }
    if (!missing.empty()) {
        const auto generation = mailboxes_.generation();  // a clear() during the fetch: not stored
        auto fetched = inner_.find_mailboxes(missing);  // throws on LDAP trouble: nothing cached
        std::set<std::string> found;
        for (const auto& account : fetched) {
            const std::string key = "dn:" + dn_key(account.dn);
            found.insert(key);
            mailboxes_.put_until(key, account, lifetime(false), generation);
            // The name a shared namespace is opened by (mailgrant_core_sharing_owners
            // reports the primary address): its folder rights find the owner here.
            // Only for entries where the address search looks (see the constructor).
            if (!account.addresses.empty() && !address_base_.empty() && dn_within(account.dn, address_base_))
                mailboxes_.put_until(address_key(account.primary_address()), account, lifetime(false), generation);
        }
        for (const auto& dn : missing)
            if (!found.count("dn:" + dn_key(dn)))
                mailboxes_.put_until("dn:" + dn_key(dn), std::nullopt, lifetime(true), generation);
        observe(lifetime(fetched.size() < missing.size()));
        accounts.insert(accounts.end(), fetched.begin(), fetched.end());
    }
    std::lock_guard<std::mutex> lock(stats_mutex_);
    stats_.hits += hits;
    stats_.followed_hits += followed;
    stats_.misses += missing.empty() ? 0 : 1;
    return accounts;
}

AddressAnswers CachingDirectory::mailboxes_by_address(const std::vector<Account>& mailboxes) {
    // Kept under the key find_mailbox(address) reads: the inner directory's answers are
    // that question's own (directory.h), so a later find_mailbox or find_address (a
    // sender's) gets what its search would have given.
    AddressAnswers answers;
    std::vector<Account> missing;
    unsigned long long hits = 0, followed = 0;
    for (const auto& m : mailboxes) {
        Expiry expires;
        if (auto hit = mailboxes_.get(address_key(m.primary_address()), &expires)) {
            observe(expires);
            ++hits;
            followed += past_backstop(expires) ? 1 : 0;
            answers.emplace_back(m.primary_address(), *hit);
        } else {
            missing.push_back(m);
        }
    }
    if (!missing.empty()) {
        const auto generation = mailboxes_.generation();  // a clear() during the fetch: not stored
        for (auto& [address, answer] : inner_.mailboxes_by_address(missing)) {
            const Expiry expires = lifetime(!answer);
            mailboxes_.put_until(address_key(address), answer, expires, generation);
            observe(expires);
            answers.emplace_back(std::move(address), std::move(answer));
        }
    }
    std::lock_guard<std::mutex> lock(stats_mutex_);
    stats_.hits += hits;
    stats_.followed_hits += followed;
    stats_.misses += missing.empty() ? 0 : 1;
    return answers;
}

std::optional<GroupsAndGrants> CachingDirectory::from_everywhere(const std::string& user_key,
                                                                 const std::string& owner_key) {
    Expiry expires;
    auto index = owner_index_.get(user_key, &expires);
    if (!index) {
        // Read before the answer it is built from: a clear() meanwhile (clear() empties
        // this cache after groups_and_grants_) keeps a stale index out.
        const auto generation = owner_index_.generation();
        auto everywhere = groups_and_grants_.get(user_key, &expires);
        if (!everywhere) return std::nullopt;
        auto built = std::make_shared<OwnerIndex>();
        built->groups = std::move(everywhere->groups);
        for (auto& grant : everywhere->grants) {
            const std::string owner = dn_key(grant.owner_dn);
            built->grants_by_owner[owner].push_back(std::move(grant));
        }
        index = std::shared_ptr<const OwnerIndex>(std::move(built));
        owner_index_.put_until(user_key, *index, expires, generation);
    }
    observe(expires);
    const bool followed = past_backstop(expires);
    GroupsAndGrants answer{(*index)->groups, {}};
    const auto it = (*index)->grants_by_owner.find(owner_key);
    if (it != (*index)->grants_by_owner.end()) answer.grants = it->second;
    std::lock_guard<std::mutex> lock(stats_mutex_);
    ++stats_.hits;
    stats_.followed_hits += followed ? 1 : 0;
    return answer;
}

GroupsAndGrants CachingDirectory::groups_and_grants(const std::string& user_dn, const std::string& mailbox_dn) {
    return groups_and_grants_cached(user_dn, mailbox_dn, [&] { return inner_.groups_and_grants(user_dn, mailbox_dn); });
}

GroupsAndGrants CachingDirectory::groups_and_grants_for(const Account& user, const std::string& mailbox_dn) {
    return groups_and_grants_cached(user.dn, mailbox_dn,
                                    [&] { return inner_.groups_and_grants_for(as_read(user), mailbox_dn); });
}

template <typename Fetch>
GroupsAndGrants CachingDirectory::groups_and_grants_cached(const std::string& user_dn, const std::string& mailbox_dn,
                                                           Fetch&& fetch) {
    const std::string user_key = dn_key(user_dn) + '\n';
    const std::string key = user_key + (mailbox_dn.empty() ? std::string() : dn_key(mailbox_dn));
    if (!mailbox_dn.empty()) {
        // An answer asked for this mailbox itself comes first: it also holds grants the
        // search from everywhere cannot see (a mailbox outside ldap.base).
        if (auto found = hit(groups_and_grants_, key)) return std::move(*found);
        // Else the user's grants from everywhere (a login's shared namespace) hold the
        // ones below this mailbox: no search for each folder of each owner.
        if (auto derived = from_everywhere(user_key, dn_key(mailbox_dn))) return std::move(*derived);
    }
    bool fetched = false;
    const auto groups_generation = groups_.generation();
    auto answer = cached(groups_and_grants_, key, [&] {
        fetched = true;
        return fetch();
    });
    if (fetched) {
        // The same walk answers groups_of().
        groups_.put_until(dn_key(user_dn), answer.groups, lifetime(answer.groups.empty()), groups_generation);
        // A new answer from everywhere (the old one expired or was evicted): the old
        // one's split must not answer for it. (A split being built from the old answer
        // meanwhile may still be stored: it lives no longer than that answer would have.)
        if (mailbox_dn.empty()) owner_index_.erase(user_key);
    }
    return answer;
}

SenderFacts CachingDirectory::sender_facts(const std::string& user_dn, const std::string& address) {
    return sender_facts_cached(user_dn, nullptr, address, [&] { return inner_.sender_facts(user_dn, address); });
}

SenderFacts CachingDirectory::sender_facts_for(const Account& user, const std::string& address) {
    return sender_facts_cached(user.dn, &user, address, [&] { return inner_.sender_facts_for(as_read(user), address); });
}

template <typename Fetch>
SenderFacts CachingDirectory::sender_facts_cached(const std::string& user_dn, const Account* user,
                                                  const std::string& address, Fetch&& fetch) {
    check_address(address);  // as find_address: never a cache key, never read as a DN
    const std::string user_key = dn_key(user_dn) + '\n';
    if (auto mailbox = hit(mailboxes_, address_key(address))) {
        SenderFacts facts{std::move(*mailbox), {}};
        if (facts.mailbox) {
            if (auto found = hit(sender_grants_, user_key + dn_key(facts.mailbox->dn))) facts.with = std::move(*found);
            else facts.with = user ? groups_and_grants_for(*user, facts.mailbox->dn)
                                   : groups_and_grants(user_dn, facts.mailbox->dn);
        }
        return facts;
    }
    // Each cache's generation before the fetch: a clear() meanwhile keeps its answer out.
    const auto mailboxes_generation = mailboxes_.generation();
    const auto groups_generation = groups_.generation();
    const auto sender_generation = sender_grants_.generation();
    auto facts = fetch();  // throws on LDAP trouble: nothing cached
    const Expiry mailbox_expires = lifetime(!facts.mailbox);
    mailboxes_.put_until(address_key(address), facts.mailbox, mailbox_expires, mailboxes_generation);
    observe(mailbox_expires);
    if (facts.mailbox) {
        groups_.put_until(dn_key(user_dn), facts.with.groups, lifetime(facts.with.groups.empty()), groups_generation);
        const Expiry with_expires = lifetime(is_empty_answer(facts.with));
        sender_grants_.put_until(user_key + dn_key(facts.mailbox->dn), facts.with, with_expires, sender_generation);
        observe(with_expires);
    }
    std::lock_guard<std::mutex> lock(stats_mutex_);
    ++stats_.misses;
    return facts;
}

std::size_t CachingDirectory::clear() {
    // owner_index_ after groups_and_grants_: an index being built from an answer read
    // before this clear() is then not stored (from_everywhere).
    const std::size_t dropped = logins_.clear() + mailboxes_.clear() + groups_.clear() + grants_of_.clear() +
                                grants_to_.clear() + groups_and_grants_.clear() + sender_grants_.clear();
    owner_index_.clear();   // derived entries: not counted as answers dropped
    return dropped;
}

CacheStats CachingDirectory::stats() const {
    std::lock_guard<std::mutex> lock(stats_mutex_);
    return stats_;
}

}  // namespace mailgrant
