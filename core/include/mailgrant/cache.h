// cache.h -- a size-bounded, thread-safe TTL cache with least-recently-used eviction.
//
// Positive and negative answers are stored with different TTLs by the caller (a missing
// grant should appear soon after it is added; DESIGN.md: every change is obeyed within the
// TTL). Entries age on the monotonic clock so a wall-clock step cannot extend them.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include "mailgrant/clock.h"

namespace mailgrant {

template <typename Key, typename Value, typename Hash = std::hash<Key>>
class TtlCache {
public:
    TtlCache(std::size_t max_entries, const Clock& clock) : max_entries_(max_entries ? max_entries : 1), clock_(clock) {}
    TtlCache(const TtlCache&) = delete;
    TtlCache& operator=(const TtlCache&) = delete;

    using TimePoint = std::chrono::steady_clock::time_point;

    // `expires`, when given, receives the hit's expiry (what an answer built from it is
    // worth: caching_directory.h's FreshnessScope).
    std::optional<Value> get(const Key& key, TimePoint* expires = nullptr) {
        std::lock_guard<std::mutex> lock(mutex_);
        const auto it = index_.find(key);
        if (it == index_.end()) return std::nullopt;
        if (clock_.steady_now() >= it->second->expires) {
            order_.erase(it->second);
            index_.erase(it);
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

    // Stored until `expires` (nothing is stored when that has passed already).
    void put_until(const Key& key, Value value, TimePoint expires, std::uint64_t fetched_at = kAnyGeneration) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (expires <= clock_.steady_now()) return;
        if (fetched_at != kAnyGeneration && fetched_at != generation_) return;
        const auto it = index_.find(key);
        if (it != index_.end()) {
            it->second->value = std::move(value);
            it->second->expires = expires;
            order_.splice(order_.begin(), order_, it->second);
            return;
        }
        if (index_.size() >= max_entries_) {
            index_.erase(order_.back().key);
            order_.pop_back();
        }
        order_.push_front(Item{key, std::move(value), expires});
        index_[key] = order_.begin();
    }

    // Drops one entry, if there.
    void erase(const Key& key) {
        std::lock_guard<std::mutex> lock(mutex_);
        const auto it = index_.find(key);
        if (it == index_.end()) return;
        order_.erase(it->second);
        index_.erase(it);
    }

    // Returns how many entries were dropped.
    std::size_t clear() {
        std::lock_guard<std::mutex> lock(mutex_);
        const std::size_t dropped = index_.size();
        index_.clear();
        order_.clear();
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

private:
    struct Item {
        Key key;
        Value value;
        std::chrono::steady_clock::time_point expires;
    };
    const std::size_t max_entries_;
    const Clock& clock_;
    mutable std::mutex mutex_;
    std::uint64_t generation_ = 0;
    std::list<Item> order_;
    std::unordered_map<Key, typename std::list<Item>::iterator, Hash> index_;
};

}  // namespace mailgrant
