// cache.h -- a size-bounded, thread-safe TTL cache with least-recently-used eviction.
// Bounded by a number of entries and, optionally, by a total cost the caller gives each
// entry (its size in bytes, for values whose size varies by orders of magnitude).
//
// Positive and negative answers are stored with different TTLs by the caller (a missing
// grant should appear soon after it is added; DESIGN.md: every change is obeyed within the
// TTL). Entries age on the monotonic clock so a wall-clock step cannot extend them.
//
// An entry has two ends (Expiry): cache.ttl_s after its fetch, and cache.follow_ttl_s
// after it. The later end counts only while the change feed follows LDAP (FollowFlag,
// set by change_feed.h), because then every change the feed sees empties the caches at
// once and the TTL is not what keeps answers fresh; when the feed is down the TTL is the
// backstop again, for entries stored while it was up too.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include "mailgrant/clock.h"

namespace mailgrant {

// Set while the change feed follows LDAP; shared by the feed (writer) and the caches.
class FollowFlag {
public:
    void set(bool following) { on_.store(following, std::memory_order_release); }
    bool on() const { return on_.load(std::memory_order_acquire); }

private:
    std::atomic<bool> on_{false};
};

// How long an answer with `ttl` may live while the feed follows: `follow_ttl`, never less
// than `ttl`, and nothing when `ttl` is 0 (caching off stays off). The one rule, for the
// caches (Expiry::after) and for what the feed says it does.
inline std::chrono::seconds followed_ttl(std::chrono::seconds ttl, std::chrono::seconds follow_ttl) {
    return ttl.count() <= 0 ? std::chrono::seconds(0) : std::max(ttl, follow_ttl);
}

// When a cached entry stops being an answer: at `backstop` (cache.ttl_s after its fetch),
// or, while the feed follows (FollowFlag), at `followed` (never before `backstop`).
struct Expiry {
    using TimePoint = std::chrono::steady_clock::time_point;
    Expiry() = default;
    Expiry(TimePoint both) : backstop(both), followed(both) {}  // NOLINT: one end, no extension
    Expiry(TimePoint backstop_at, TimePoint followed_at)
        : backstop(backstop_at), followed(std::max(backstop_at, followed_at)) {}
    // An answer fetched `now`, living `ttl` (0: not kept at all), or `follow_ttl` while
    // followed (0 or less than `ttl`: `ttl`).
    static Expiry after(TimePoint now, std::chrono::seconds ttl, std::chrono::seconds follow_ttl) {
        if (ttl.count() <= 0) return Expiry(now);
        return Expiry(now + ttl, now + followed_ttl(ttl, follow_ttl));
    }
    TimePoint at(bool following) const { return following ? followed : backstop; }
    // Both ends at most `other`'s: what an answer built from both is worth.
    void limit(const Expiry& other) {
        backstop = std::min(backstop, other.backstop);
        followed = std::min(followed, other.followed);
    }

    TimePoint backstop{}, followed{};
};

template <typename Key, typename Value, typename Hash = std::hash<Key>>
class TtlCache {
public:
    // `max_cost`: the most the entries' costs (put_until) may add up to; 0 = no such bound.
    // `following`: while it is on, entries live to their Expiry's later end (null: never).
    TtlCache(std::size_t max_entries, const Clock& clock, std::size_t max_cost = 0,
             std::shared_ptr<const FollowFlag> following = nullptr)
        : max_entries_(max_entries ? max_entries : 1), max_cost_(max_cost), clock_(clock),
          following_(std::move(following)) {}
    TtlCache(const TtlCache&) = delete;
    TtlCache& operator=(const TtlCache&) = delete;

    using TimePoint = std::chrono::steady_clock::time_point;

    // `expires`, when given, receives the hit's expiry (what an answer built from it is
    // worth: caching_directory.h's FreshnessScope).
    std::optional<Value> get(const Key& key, Expiry* expires = nullptr) {
        std::lock_guard<std::mutex> lock(mutex_);
        const auto it = index_.find(key);
        if (it == index_.end()) return std::nullopt;
        if (clock_.steady_now() >= it->second->expires.at(following())) {
            drop(it);
            return std::nullopt;
        }
        order_.splice(order_.begin(), order_, it->second);  // most recently used first
        if (expires) *expires = it->second->expires;
        return it->second->value;
    }

    // `fetched_at`: the generation() read before the value was fetched; when clear() has
    // run since (a change in LDAP was seen, change_feed.h), the value may predate that
    // change and is not stored.
    void put(const Key& key, Value value, std::chrono::seconds ttl, std::uint64_t fetched_at = kAnyGeneration) {
        if (ttl.count() <= 0) return;  // ttl 0 disables caching
        put_until(key, std::move(value), clock_.steady_now() + ttl, fetched_at);
    }

    // Stored until `expires` (nothing is stored when that has passed already), at `cost`
    // (see max_cost; a value costing more than max_cost alone is not stored, and drops
    // what the key held). Least recently used entries make room.
    void put_until(const Key& key, Value value, Expiry expires, std::uint64_t fetched_at = kAnyGeneration,
                   std::size_t cost = 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (expires.at(following()) <= clock_.steady_now()) return;
        if (fetched_at != kAnyGeneration && fetched_at != generation_) return;
        const auto it = index_.find(key);
        if (it != index_.end()) drop(it);
        if (max_cost_ && cost > max_cost_) return;
        while (!order_.empty() && (index_.size() >= max_entries_ || (max_cost_ && total_cost_ + cost > max_cost_)))
            drop(index_.find(order_.back().key));
        order_.push_front(Item{key, std::move(value), expires, cost});
        index_[key] = order_.begin();
        total_cost_ += cost;
    }

    // Drops one entry, if there.
    void erase(const Key& key) {
        std::lock_guard<std::mutex> lock(mutex_);
        const auto it = index_.find(key);
        if (it != index_.end()) drop(it);
    }

    // Returns how many entries were dropped.
    std::size_t clear() {
        std::lock_guard<std::mutex> lock(mutex_);
        const std::size_t dropped = index_.size();
        index_.clear();
        order_.clear();
        total_cost_ = 0;
        ++generation_;
        return dropped;
    }

    static constexpr std::uint64_t kAnyGeneration = ~std::uint64_t{0};
    // Counts clear() calls: read before a fetch, passed to put() after it.
    std::uint64_t generation() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return generation_;
    }

    std::size_t size() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return index_.size();
    }

    std::size_t cost() const {  // what the entries' costs add up to
        std::lock_guard<std::mutex> lock(mutex_);
        return total_cost_;
    }

private:
    bool following() const { return following_ && following_->on(); }

    struct Item {
        Key key;
        Value value;
        Expiry expires;
        std::size_t cost;
    };
    using Index = std::unordered_map<Key, typename std::list<Item>::iterator, Hash>;

    void drop(typename Index::iterator it) {  // mutex_ held
        total_cost_ -= it->second->cost;
        order_.erase(it->second);
        index_.erase(it);
    }

    const std::size_t max_entries_;
    const std::size_t max_cost_;
    const Clock& clock_;
    const std::shared_ptr<const FollowFlag> following_;
    mutable std::mutex mutex_;
    std::uint64_t generation_ = 0;
    std::size_t total_cost_ = 0;
    std::list<Item> order_;
    Index index_;
};

}  // namespace mailgrant
