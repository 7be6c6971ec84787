// change_feed.cpp -- see change_feed.h.
#include "mailgrant/change_feed.h"

#include <ldap.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>

#include "mailgrant/ldap_session.h"

namespace mailgrant {

std::chrono::milliseconds Backoff::next() {
    const auto delay = next_;
    next_ = std::min(max_, next_ * 2);
    return delay;
}

bool ClearCoalescer::change(TimePoint now) {
    if (!last_ || now - *last_ >= window_) {
        last_ = now;
        pending_ = false;  // this clear starts after every change received so far
        return true;
    }
    pending_ = true;
    return false;
}

void ClearCoalescer::cleared(TimePoint now) {
    last_ = now;
    pending_ = false;
}

std::optional<ClearCoalescer::TimePoint> ClearCoalescer::due() const {
    if (!pending_) return std::nullopt;
    return *last_ + window_;
}

bool ClearCoalescer::trailing(TimePoint now) {
    if (!pending_ || now < *last_ + window_) return false;
    cleared(now);
    return true;
}

std::string change_filter(const Config& config) {
    std::string f = "(|(objectClass=" + config.schema.grant_object_class + ")";
    f += "(objectClass=" + config.schema.shared_mailbox_object_class + ")";
    f += "(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)";
    for (const auto& a : config.groups.member_attributes) f += "(" + a + "=*)";
    if (config.groups.membership == MembershipMode::MemberOf) f += "(" + config.groups.member_of_attribute + "=*)";
    f += "(" + config.users.mail_attribute + "=*)";
    for (const auto& a : config.users.alias_attributes) f += "(" + a + "=*)";
    // Whatever the lookup filters could match, with any value: "(uid=%s)" -> "(uid=*)" (a
    // presence test), "(uid=%s@x)" -> "(uid=*@x)" (a substring). Answers kept up to
    // cache.follow_ttl_s hang on such entries too: a login without an address, a group
    // found by a site's own member_filter. A %s where "*" is no wildcard (an extensible
    // match "attr:rule:=%s", "~=", ">=", "<=") cannot be widened so: then every entry is
    // followed, since what that filter finds is not known.
    for (std::string lookup : {config.users.login_filter, config.users.address_filter, config.groups.member_filter}) {
        for (auto at = lookup.find("%s"); at != std::string::npos; at = lookup.find("%s", at + 1)) {
            const auto open = lookup.rfind('(', at), equals = lookup.rfind('=', at);
            const bool value = equals != std::string::npos && (open == std::string::npos || equals > open) &&
                               equals > 0 && std::string(":~<>").find(lookup[equals - 1]) == std::string::npos;
            if (!value) return "(objectClass=*)";
            lookup.replace(at, 2, "*");
        }
        f += lookup;
    }
    return f + ")";
}

const char* to_string(FeedState state) {
    switch (state) {
        case FeedState::Off: return "off";
        case FeedState::Connecting: return "connecting";
        case FeedState::Following: return "following";
        case FeedState::Down: return "down";
        case FeedState::Unsupported: return "unsupported";
    }
    return "?";
}

// libldap's callbacks, with the feed in ls_private. During the refresh they only note
// progress (for the watchdog); afterwards each message is a change.
struct SyncCallbacks {
    static ChangeFeed& feed(ldap_sync_t* ls) { return *static_cast<ChangeFeed*>(ls->ls_private); }

    static int entry(ldap_sync_t* ls, LDAPMessage*, struct berval*, ldap_sync_refresh_t) {
        ChangeFeed& f = feed(ls);
        bool refreshing;
        {
            std::lock_guard<std::mutex> lock(f.mutex_);
            refreshing = f.refreshing_;
            f.progress_ = std::chrono::steady_clock::now();
        }
        if (!refreshing) f.changed();
        return LDAP_SUCCESS;
    }
    static int intermediate(ldap_sync_t* ls, LDAPMessage*, BerVarray, ldap_sync_refresh_t phase) {
        ChangeFeed& f = feed(ls);
        bool refreshing;
        {
            std::lock_guard<std::mutex> lock(f.mutex_);
            refreshing = f.refreshing_;
            f.progress_ = std::chrono::steady_clock::now();
        }
        // A syncIdSet of deleted entries outside the refresh is a change too.
        if (!refreshing && phase == LDAP_SYNC_CAPI_DELETES_IDSET) f.changed();
        return LDAP_SUCCESS;
    }
    static int result(ldap_sync_t* ls, LDAPMessage*, int) {
        feed(ls).search_ended_ = true;  // the server ended the persist phase: reconnect
        return LDAP_SUCCESS;
    }
};

ChangeFeed::ChangeFeed(const Config& config, Invalidate invalidate, Logger log, std::shared_ptr<FollowFlag> following)
    : config_(config),
      filter_(change_filter(config)),
      invalidate_(std::move(invalidate)),
      log_(std::move(log)),
      following_(std::move(following)) {
    if (!config_.ldap.bind_dn.empty())
        password_ = config_.ldap.bind_password.empty() ? read_secret_file(config_.ldap.bind_password_file)
                                                       : config_.ldap.bind_password;
}

ChangeFeed::~ChangeFeed() { stop(); }

void ChangeFeed::start() {
    if (thread_.joinable()) return;
    state_ = static_cast<int>(FeedState::Connecting);
    // The daemon's signals (SIGHUP, SIGUSR1, SIGTERM, ...) must reach its own threads, not
    // these: one delivered here would make libldap's select() fail with EINTR, read as a
    // lost connection (reconnect + full refresh). New threads inherit the caller's mask,
    // so block them around the creation and restore the caller's mask after.
    sigset_t blocked, previous;
    sigemptyset(&blocked);
    for (int s : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGCHLD})
        sigaddset(&blocked, s);
    pthread_sigmask(SIG_BLOCK, &blocked, &previous);
    struct Restore {
        const sigset_t& mask;
        ~Restore() { pthread_sigmask(SIG_SETMASK, &mask, nullptr); }
    } restore{previous};
    thread_ = std::thread([this] { run(); });
    watchdog_ = std::thread([this] { watchdog(); });
}

void ChangeFeed::stop() {
    {
        // Under the mutex: the watchdog tests stopping_ and then waits on wake_ under it,
        // so the notify below cannot fall between its test and its wait (a lost wakeup).
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    cut_socket();
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (watchdog_.joinable()) watchdog_.join();
}

ChangeFeedStats ChangeFeed::stats() const {
    ChangeFeedStats s;
    s.state = static_cast<FeedState>(state_.load());
    s.changes = changes_;
    s.invalidations = invalidations_;
    s.entries_dropped = dropped_;
    s.reconnects = reconnects_;
    s.refreshes = refreshes_;
    return s;
}

void ChangeFeed::set_socket(int fd) {
    std::lock_guard<std::mutex> lock(mutex_);
    socket_ = fd;
}

// shutdown(2), never close(2): the session still owns the descriptor, and under the
// mutex it cannot have been closed and reused meanwhile (set_socket(-1) comes first).
void ChangeFeed::cut_socket() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (socket_ >= 0) shutdown(socket_, SHUT_RDWR);
}

// Runs inside libldap's callbacks (C): nothing may be thrown through them. A failed
// invalidation is not counted, and it ends the longer life of kept answers (FollowFlag
// off until the next refresh): the TTL then bounds what it left behind.
bool ChangeFeed::invalidate_all() {
    try {
        dropped_ += invalidate_();
        ++invalidations_;
        return true;
    } catch (...) {
        set_following(false);
        return false;
    }
}

// Coalesced (ClearCoalescer): the first change of a burst clears now; later ones inside
// kCoalesce are left to the watchdog's trailing clear, which is woken for it.
void ChangeFeed::changed() {
    ++changes_;
    bool now;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        now = coalescer_.change(std::chrono::steady_clock::now());
    }
    if (now) invalidate_all();
    else wake_.notify_all();
}

void ChangeFeed::set_following(bool on) {
    if (following_) following_->set(on);
}

bool ChangeFeed::clear_now() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        coalescer_.cleared(std::chrono::steady_clock::now());
    }
    return invalidate_all();
}

bool ChangeFeed::sleep_unless_stopped(std::chrono::milliseconds delay) {
    std::unique_lock<std::mutex> lock(mutex_);
    return !wake_.wait_for(lock, delay, [this] { return stopping_.load(); });
}

// A refresh that receives nothing for ldap.operation_timeout_ms is cut (ldap_sync_init
// itself would wait for ever); the persist phase may be quiet for as long as nothing changes.
// It also makes the coalescer's trailing clears: the feed's thread may sit in
// ldap_sync_poll for a second (ls_timeout) and could not make them on time.
void ChangeFeed::watchdog() {
    const auto stall = std::chrono::milliseconds(config_.ldap.operation_timeout_ms);
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
        auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
        if (const auto due = coalescer_.due()) until = std::min(until, *due);
        // Woken early by stop(), or by changed() when a trailing clear falls due sooner.
        wake_.wait_until(lock, until, [&] {
            const auto due = coalescer_.due();
            return stopping_.load() || (due && *due < until);
        });
        if (coalescer_.trailing(std::chrono::steady_clock::now())) {
            lock.unlock();  // a clear takes the cache mutexes: never under ours
            invalidate_all();
            lock.lock();
        }
        if (refreshing_ && socket_ >= 0 && std::chrono::steady_clock::now() - progress_ > stall) {
            shutdown(socket_, SHUT_RDWR);
            refreshing_ = false;  // once
        }
    }
}

// A quiet persist phase is normal, but so is a server that hangs with the connection open
// (nothing would ever tell us): after kProbeAfter without a message, one rootDSE read on the
// same connection; no answer within ldap.operation_timeout_ms = lost (LDAP_TIMEOUT).
int ChangeFeed::check_alive(LDAP* ld, Probe& probe) {
    const auto now = std::chrono::steady_clock::now();
    if (probe.msgid >= 0) {
        LDAPMessage* res = nullptr;
        timeval zero{0, 0};
        const int got = ldap_result(ld, probe.msgid, LDAP_MSG_ALL, &zero, &res);
        if (res) ldap_msgfree(res);
        if (got < 0) return -1;
        if (got > 0) {
            probe.msgid = -1;
            std::lock_guard<std::mutex> lock(mutex_);
            progress_ = now;
            return LDAP_SUCCESS;
        }
        return now - probe.sent > std::chrono::milliseconds(config_.ldap.operation_timeout_ms) ? LDAP_TIMEOUT
                                                                                                : LDAP_SUCCESS;
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (now - progress_ < kProbeAfter) return LDAP_SUCCESS;
    }
    char no_attributes[] = "1.1";
    char* attrs[] = {no_attributes, nullptr};
    probe.sent = now;
    return ldap_search_ext(ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, nullptr, nullptr, nullptr, 1,
                           &probe.msgid) == LDAP_SUCCESS
               ? LDAP_SUCCESS
               : -1;
}

ChangeFeed::Ended ChangeFeed::follow(LDAP* ld, const std::string& uri, std::string& cookie, std::string& why,
                                     const std::function<void()>& up) {
    std::string base = config_.ldap.base, filter = filter_, no_attributes = "1.1";
    char* attrs[] = {&no_attributes[0], nullptr};  // DNs only: the content is never used
    ldap_sync_t ls;
    ldap_sync_initialize(&ls);
    ls.ls_base = &base[0];
    ls.ls_scope = LDAP_SCOPE_SUBTREE;
    ls.ls_filter = &filter[0];
    ls.ls_attrs = attrs;
    ls.ls_timeout = 1;  // seconds per poll in the persist phase: stop() is seen promptly
    ls.ls_search_entry = &SyncCallbacks::entry;
    ls.ls_intermediate = &SyncCallbacks::intermediate;
    ls.ls_search_result = &SyncCallbacks::result;
    ls.ls_private = this;
    ls.ls_ld = ld;
    if (!cookie.empty()) ber_str2bv(cookie.data(), cookie.size(), 1, &ls.ls_cookie);
    search_ended_ = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        refreshing_ = true;
        progress_ = std::chrono::steady_clock::now();
    }
    int rc = ldap_sync_init_refresh_and_persist(&ls);  // returns when the refresh is done
    {
        std::lock_guard<std::mutex> lock(mutex_);
        refreshing_ = false;
    }
    Ended ended = Ended::Lost;
    if (rc == LDAP_SUCCESS && !search_ended_) {
        ++refreshes_;
        // what changed before the search started came as refresh content: clear, then
        // follow. What was fetched before the clear is not stored (TtlCache generations),
        // so nothing kept past cache.ttl_s predates the refresh; a failed clear: TTL only.
        if (clear_now()) set_following(true);
        state_ = static_cast<int>(FeedState::Following);
        up();
        Probe probe;
        while (!stopping_ && !search_ended_) {
            rc = ldap_sync_poll(&ls);  // 0: nothing within ls_timeout, or messages handled
            if (rc == LDAP_SUCCESS) rc = check_alive(ld, probe);
            if (rc != LDAP_SUCCESS) break;
        }
        set_following(false);  // at once: cache.ttl_s bounds every kept answer again
        if (rc == LDAP_TIMEOUT) {
            why = "no answer to a probe within ldap.operation_timeout_ms (a hung server)";
            note_server_failed(config_.ldap, uri);  // the next session tries another server first
        }
    }
    if (stopping_) ended = Ended::Stopped;
    else if (rc == LDAP_UNAVAILABLE_CRITICAL_EXTENSION) ended = Ended::Unsupported;
    else if (rc == LDAP_SYNC_REFRESH_REQUIRED) ended = Ended::RefreshRequired;
    if (rc == -1) ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &rc);
    if (why.empty())
        why = search_ended_ && rc == LDAP_SUCCESS ? "the server ended the sync search" : ldap_err2string(rc);
    if (rc == LDAP_SIZELIMIT_EXCEEDED || rc == LDAP_ADMINLIMIT_EXCEEDED)
        why += " (the refresh reads every grant, group and address: the service account's `limits` must allow "
               "it, ldap-schema/README.md \"Following changes\")";
    cookie.assign(ls.ls_cookie.bv_val ? ls.ls_cookie.bv_val : "", ls.ls_cookie.bv_val ? ls.ls_cookie.bv_len : 0);
    if (ls.ls_cookie.bv_val) ber_memfree(ls.ls_cookie.bv_val);  // ldap_sync_destroy would unbind ld too
    if (ended == Ended::RefreshRequired) cookie.clear();
    return ended;
}

void ChangeFeed::run() {
    Backoff backoff(kFirstRetry, kMaxRetry);
    std::string cookie;      // in memory only
    std::string cookie_uri;  // the server that gave it
    bool ever_up = false, reported_down = false;
    const std::string ttl = "cache.ttl_s (" + std::to_string(config_.cache.ttl_s) + " s)";
    bool retried_refresh = false;  // the one immediate retry after e-syncRefreshRequired is used
    while (!stopping_) {
        std::string why, uri;
        Ended ended = Ended::Lost;
        try {
            LdapSession session = LdapSession::open(config_.ldap, BindAs::service(config_.ldap, password_));
            uri = session.uri();
            // A cookie holds its server's ID (sid=...): offered to another provider of a
            // multi-provider pair, syncprov takes it for that provider's own and withholds
            // every change that started on the first one. Another server: refresh afresh.
            if (uri != cookie_uri) cookie.clear();
            cookie_uri = uri;
            if (ever_up) ++reconnects_;
            int fd = -1;
            ldap_get_option(session.get(), LDAP_OPT_DESC, &fd);
            set_socket(fd);
            struct Forget {  // however follow() ends, before the session (and its descriptor) goes
                ChangeFeed& feed;
                ~Forget() { feed.set_socket(-1); }
            } forget{*this};
            if (stopping_) cut_socket();  // stop() ran before the socket was known
            ended = follow(session.get(), uri, cookie, why, [&] {
                if (reported_down || !ever_up)
                    log_("change feed: following LDAP changes on " + uri + (reported_down ? " again" : "") +
                         " (RFC 4533 sync); cached answers are dropped on every change and kept up to cache.follow_ttl_s (" +
                         std::to_string(followed_ttl(std::chrono::seconds(config_.cache.ttl_s),
                                                         std::chrono::seconds(config_.cache.follow_ttl_s))
                                                .count()) +
                         " s) meanwhile");
                ever_up = true;
                reported_down = false;
                retried_refresh = false;
                backoff.reset();
            });
        } catch (const LdapError& e) {
            why = e.what();
        } catch (const std::exception& e) {
            why = e.what();
        }
        if (ended == Ended::Stopped || stopping_) break;
        if (ended == Ended::Unsupported) {
            state_ = static_cast<int>(FeedState::Unsupported);
            log_("change feed: " + uri + " refuses RFC 4533 sync (" + why +
                 "; slapd needs the syncprov overlay, ldap-schema/README.md): changes are obeyed within " + ttl);
            break;
        }
        state_ = static_cast<int>(FeedState::Down);
        if (!reported_down) {
            std::string where = uri;
            for (const auto& u : config_.ldap.uris)
                if (uri.empty()) where += (where.empty() ? "" : ", ") + u;
            log_("change feed: sync connection to " + where + " lost or not opened: " + why +
                 "; until it is back, changes are obeyed within " + ttl);
            reported_down = true;
        }
        // The server wants a fresh start: once at once, then with the backoff like any other
        // failure, so a server that keeps answering e-syncRefreshRequired does not get a
        // tight loop of full refreshes. Reset when a refresh completes (up).
        if (ended == Ended::RefreshRequired && !retried_refresh) {
            retried_refresh = true;
            continue;
        }
        if (!sleep_unless_stopped(backoff.next())) break;
    }
    set_following(false);
    if (static_cast<FeedState>(state_.load()) != FeedState::Unsupported) state_ = static_cast<int>(FeedState::Off);
}

}  // namespace mailgrant
