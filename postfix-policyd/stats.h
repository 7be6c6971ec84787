// stats.h -- counters and an LDAP latency histogram an operator can read at any time.
//
// Exposed in Prometheus' text format on policy.stats_listen (curl it, or scrape it), and
// written as one log line on SIGUSR1. Lock-free: updated from the event loop and workers.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "mailgrant/answers.h"
#include "mailgrant/caching_directory.h"
#include "mailgrant/change_feed.h"

namespace mailgrant::policy {

class Stats {
public:
    // Upper bounds of the latency buckets, in milliseconds (+Inf is implicit).
    static constexpr std::array<int, 11> kBucketsMs{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000};

    std::atomic<std::uint64_t> requests{0}, allowed{0}, rejected{0}, deferred{0};
    std::atomic<std::uint64_t> timeouts{0}, overloaded{0}, protocol_errors{0}, ldap_errors{0};
    std::atomic<std::uint64_t> connections_accepted{0}, connections_refused{0};
    std::atomic<std::int64_t> connections_open{0};
    std::atomic<std::uint64_t> reloads{0}, reload_failures{0};
    std::atomic<std::uint64_t> sent_copies{0};  // recipients the milter added for sent copies
    // The per-host decision service (decision_service.h): questions answered, by outcome.
    std::atomic<std::uint64_t> service_questions{0}, service_bad{0}, service_temporary{0}, service_protocol_errors{0};
    std::atomic<std::uint64_t> service_busy{0};  // connections refused, or answers dropped unread: their process had kConnectionsPerProcess in service
    std::atomic<std::uint64_t> service_idle_wakeups{0};  // a service thread woke and found no connection to take
    std::atomic<std::uint64_t> service_changes{0};  // "changed" questions (a mail process wrote grants)
    DnGuessCounts dn_guesses;  // search mode without users.dn_template: learned DN patterns (dn_patterns.h)
    NamespaceCounts service_namespaces;  // "namespace" answers built / kept ones reused (answers.h)
    // The LDAP change follower (cache.follow_changes), while it exists; null = not following.
    std::atomic<const ChangeFeed*> change_feed{nullptr};
    // On while that follower follows: every Engine's caches (built at start and at each
    // reload) read it, so it lives here, with the counters that outlive Engines.
    const std::shared_ptr<FollowFlag> following = std::make_shared<FollowFlag>();

    void observe_ldap(std::chrono::microseconds elapsed, bool ok);
    std::string prometheus(const CacheStats& cache) const;
    std::string summary(const CacheStats& cache) const;  // one log line

private:
    std::array<std::atomic<std::uint64_t>, kBucketsMs.size() + 1> buckets_{};
    std::atomic<std::uint64_t> ldap_calls_{0};
    std::atomic<std::uint64_t> ldap_micros_{0};
};

}  // namespace mailgrant::policy
