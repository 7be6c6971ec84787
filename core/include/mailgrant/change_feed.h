// change_feed.h -- follows LDAP changes so cached answers are dropped within a second.
//
// One long-lived LDAP session (LdapSession::open, the service account) runs an RFC 4533
// refreshAndPersist search (libldap's ldap_sync_* API; slapd's syncprov overlay answers
// it) over ldap.base, limited to the entries whose change can change an answer:
// change_filter(). The initial refresh's content is skipped (only DNs are asked for, none
// is kept); when it is done the caches are emptied once, because whatever changed before
// the search started arrived as refresh content, not as a change. After that every
// add/modify/delete message empties the caches again (the Invalidate callback), at most
// once per kCoalesce during a burst (ClearCoalescer: the first change at once, the rest
// by one trailing clear).
//
// Why the whole cache and not only the keys of the changed entry: an answer depends on a
// grant (cached under its owner and under every grantee and group of the grantee), on
// group membership (nested, cached per member) and on a person's addresses (cached per
// address, login and DN); mapping one changed DN onto all of those needs the entry's old
// state, which a delete or a "no longer matches" message does not carry. Changes are
// rare next to reads, and a miss costs ≤ 2 searches, so correctness wins.
//
// The sync cookie is kept in memory only: after a lost connection the session is reopened
// with a doubling delay (Backoff) and resumes from the cookie; the caches are emptied when
// it is back, since changes may have been missed meanwhile. A server that hangs with the
// connection open is found by a probe after 5 s of quiet (kProbeAfter) that gets no answer
// within ldap.operation_timeout_ms. While the feed follows it holds a FollowFlag on
// (cache.h), so the caches keep answers up to cache.follow_ttl_s: every change it carries
// empties them anyway. The flag goes off the moment following ends, before any reconnect,
// and from then cache.ttl_s is the backstop again, for the answers kept meanwhile too. One log line when it goes down, one when it is back. A
// server that refuses the sync control (no syncprov): one log line, the feed ends, TTL
// only. Every blocking call has a timeout: the session opener's network/operation
// timeouts, a 1 s poll in the persist loop, and a watchdog that cuts a refresh that makes
// no progress for ldap.operation_timeout_ms and cuts the socket on stop(), so a stop is
// prompt whatever libldap is waiting for.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "mailgrant/cache.h"
#include "mailgrant/config.h"

struct ldap;  // libldap's session type (LDAP in <ldap.h>), kept out of this header

namespace mailgrant {

// Delays between reconnection attempts: `first`, doubling up to `max`; reset() once the
// connection is back.
class Backoff {
public:
    Backoff(std::chrono::milliseconds first, std::chrono::milliseconds max) : first_(first), max_(max), next_(first) {}
    std::chrono::milliseconds next();
    void reset() { next_ = first_; }

private:
    std::chrono::milliseconds first_, max_, next_;
};

// Bounds how often a burst of changes empties the caches. Every modify of a person with an
// address is a sync message (RFC 4533 has no attribute-level filter, so a password change
// or slapd's own pwdLastSuccess/ppolicy writes arrive too), and each clear holds the cache
// mutexes: a burst must not turn into a clear per message. The first change clears at
// once (a revocation is obeyed at once); more changes within `window` of the last clear
// are covered by ONE trailing clear at the window's end, which starts after they were
// received. Not thread-safe: ChangeFeed's mutex guards it.
class ClearCoalescer {
public:
    using TimePoint = std::chrono::steady_clock::time_point;
    explicit ClearCoalescer(std::chrono::milliseconds window) : window_(window) {}
    // A change was received at `now`: true = clear now (counted as done at `now`).
    bool change(TimePoint now);
    // A clear made anyway (a refresh completed) starts at `now`: it covers what is pending.
    void cleared(TimePoint now);
    // When the trailing clear is due, if one is pending.
    std::optional<TimePoint> due() const;
    // true = the trailing clear is due at `now`; the caller makes it (counted as done).
    bool trailing(TimePoint now);

private:
    std::chrono::milliseconds window_;
    std::optional<TimePoint> last_;  // start of the last clear
    bool pending_ = false;           // a change arrived after it
};

// The sync search's filter: grants, shared mailboxes, groups (by class and by member
// attribute), people's addresses (mail and alias attributes), memberOf where used, and every
// entry users.login_filter, users.address_filter or groups.member_filter could find (%s read
// as "*": a login without an address, a site's own group class; every entry when such a
// %s is no value, as in an extensible match). A change to an entry outside it is obeyed
// within cache.follow_ttl_s while following.
std::string change_filter(const Config& config);

enum class FeedState : int { Off, Connecting, Following, Down, Unsupported };
const char* to_string(FeedState state);

struct ChangeFeedStats {
    FeedState state = FeedState::Off;
    std::uint64_t changes = 0;          // add/modify/delete messages after the refresh
    std::uint64_t invalidations = 0;    // times the caches were emptied
    std::uint64_t entries_dropped = 0;  // cached answers those dropped
    std::uint64_t reconnects = 0;       // sessions opened after a lost one
    std::uint64_t refreshes = 0;        // refreshes completed (first start and each reconnect)
};

class ChangeFeed {
public:
    // Empties every cache the answers come from; returns how many entries it dropped.
    using Invalidate = std::function<std::size_t()>;
    using Logger = std::function<void(const std::string& line)>;

    // Reads the bind password (config.ldap.bind_password, else its file: ConfigError) now.
    // `following` (may be null) is on exactly while changes are followed.
    ChangeFeed(const Config& config, Invalidate invalidate, Logger log,
               std::shared_ptr<FollowFlag> following = nullptr);
    ~ChangeFeed();  // stop()
    ChangeFeed(const ChangeFeed&) = delete;
    ChangeFeed& operator=(const ChangeFeed&) = delete;

    void start();  // its own thread (plus the watchdog); once
    void stop();   // prompt; idempotent
    ChangeFeedStats stats() const;

    // Reconnection delays (tests use the same values as the daemon).
    static constexpr std::chrono::milliseconds kFirstRetry{250};
    static constexpr std::chrono::milliseconds kMaxRetry{30000};
    // A persist phase quiet for this long gets a probe (check_alive).
    static constexpr std::chrono::milliseconds kProbeAfter{5000};
    // At most one cache clear per this window during a burst of changes (ClearCoalescer).
    static constexpr std::chrono::milliseconds kCoalesce{100};

private:
    enum class Ended { Stopped, Lost, Unsupported, RefreshRequired };
    void run();
    void watchdog();
    struct Probe {
        int msgid = -1;
        std::chrono::steady_clock::time_point sent;
    };
    Ended follow(::ldap* ld, const std::string& uri, std::string& cookie, std::string& why,
                 const std::function<void()>& up);
    int check_alive(::ldap* ld, Probe& probe);
    void set_socket(int fd);
    void cut_socket();
    void changed();
    bool invalidate_all();  // false: it failed (and the FollowFlag is off)
    bool clear_now();  // a refresh completed: clear at once, whatever the coalescer holds
    void set_following(bool on);
    bool sleep_unless_stopped(std::chrono::milliseconds delay);

    friend struct SyncCallbacks;

    const Config config_;
    std::string password_;
    const std::string filter_;
    Invalidate invalidate_;
    Logger log_;
    const std::shared_ptr<FollowFlag> following_;

    std::atomic<bool> stopping_{false};
    std::mutex mutex_;  // guards socket_, progress_, refreshing_, coalescer_ and the condition
    std::condition_variable wake_;
    int socket_ = -1;
    bool refreshing_ = false;
    bool search_ended_ = false;  // the feed's thread only (libldap calls back on it)
    std::chrono::steady_clock::time_point progress_;
    ClearCoalescer coalescer_{kCoalesce};  // trailing clears are made by the watchdog thread
    std::thread thread_, watchdog_;

    std::atomic<int> state_{static_cast<int>(FeedState::Off)};
    std::atomic<std::uint64_t> changes_{0}, invalidations_{0}, dropped_{0}, reconnects_{0}, refreshes_{0};
};

}  // namespace mailgrant
