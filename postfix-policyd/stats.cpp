// stats.cpp -- see stats.h.
#include "stats.h"

#include <sstream>

namespace mailgrant::policy {

void Stats::observe_ldap(std::chrono::microseconds elapsed, bool ok) {
    if (!ok) ++ldap_errors;
    ++ldap_calls_;
    ldap_micros_ += static_cast<std::uint64_t>(elapsed.count());
    std::size_t i = 0;
    while (i < kBucketsMs.size() && elapsed.count() > kBucketsMs[i] * 1000LL) ++i;
    ++buckets_[i];
}

std::string Stats::prometheus(const CacheStats& cache) const {
    std::ostringstream out;
    auto counter = [&](const char* name, const char* help, std::uint64_t value) {
        out << "# HELP mailgrant_policyd_" << name << " " << help << "\n# TYPE mailgrant_policyd_" << name
            << " counter\nmailgrant_policyd_" << name << " " << value << "\n";
    };
    counter("requests_total", "Policy requests answered or timed out.", requests);
    counter("allowed_total", "Requests answered DUNNO (sender allowed).", allowed);
    counter("rejected_total", "Requests answered REJECT 5.7.1.", rejected);
    counter("deferred_total", "Requests answered with the 4xx defer action.", deferred);
    counter("timeouts_total", "Requests deferred because the decision took longer than request_timeout_ms.", timeouts);
    counter("overloaded_total", "Requests deferred because every worker was busy.", overloaded);
    counter("protocol_errors_total", "Connections closed for malformed or oversized requests.", protocol_errors);
    counter("ldap_errors_total", "LDAP calls that failed.", ldap_errors);
    counter("cache_hits_total", "Directory answers served from the cache.", cache.hits);
    counter("cache_misses_total", "Directory answers fetched from LDAP.", cache.misses);
    counter("cache_followed_hits_total",
            "Directory answers served past cache.ttl_s (within cache.follow_ttl_s) because LDAP changes are followed.",
            cache.followed_hits);
    counter("connections_accepted_total", "Policy connections accepted.", connections_accepted);
    counter("connections_refused_total", "Policy connections refused at max_connections.", connections_refused);
    counter("reloads_total", "Successful configuration reloads (SIGHUP).", reloads);
    counter("reload_failures_total", "Reloads refused because the new configuration was invalid.", reload_failures);
    counter("sent_copies_total", "Sent copies the milter added (one envelope recipient each).", sent_copies);
    counter("service_questions_total", "Questions of mail processes answered by the decision service.",
            service_questions);
    counter("service_bad_input_total", "Service questions answered 'bad' (input that can never be found).", service_bad);
    counter("service_temporary_total", "Service questions answered 'temp' or 'fail' (LDAP trouble, internal error: access denied).",
            service_temporary);
    counter("service_protocol_errors_total", "Service connections closed for malformed or oversized questions.",
            service_protocol_errors);
    counter("service_busy_total",
            "Service connections answered 'temp' at once, or answers dropped unread: their process already had 2 in service.",
            service_busy);
    counter("service_idle_wakeups_total",
            "Service threads woken for a connection another thread had already taken (a few at most: one wakes per connection).",
            service_idle_wakeups);
    counter("service_namespaces_built_total", "Shared-namespace answers built from the directory for a login.",
            service_namespaces.built);
    counter("service_namespaces_reused_total",
            "Shared-namespace answers given from one kept since it was built (no change seen, within cache.ttl_s).",
            service_namespaces.reused);
    counter("service_namespaces_followed_total",
            "Of those, answers given past cache.ttl_s (within cache.follow_ttl_s) because LDAP changes are followed.",
            service_namespaces.followed);
    counter("dn_patterns_learned_total",
            "People's DN patterns learned from login searches (search mode without users.dn_template).",
            dn_guesses.learned);
    counter("dn_guesses_total", "Login searches that also asked for the groups of a DN guessed from users.dn_template or a learned pattern.",
            dn_guesses.guesses);
    counter("dn_guesses_right_total", "Of those, the ones whose guess the login search proved (the groups kept).",
            dn_guesses.right);
    static_assert(DnPatterns::kMaxFallbacks == 3, "the help text below names DnPatterns::kMaxFallbacks");
    counter("dn_guess_fallbacks_total",
            "Login searches with a learned guess that could not be settled (the plain login search ran; a domain "
            "with 3 in a row whose guess that search proved right learns no pattern again).",
            dn_guesses.fallbacks);
    counter("service_changes_total", "Caches emptied because a mail process wrote grants (SETACL).", service_changes);
    const ChangeFeed* feed = change_feed.load();
    const ChangeFeedStats sync = feed ? feed->stats() : ChangeFeedStats{};
    counter("sync_changes_total", "LDAP changes (RFC 4533 sync messages) seen after the refresh.", sync.changes);
    counter("sync_invalidations_total", "Times the caches were emptied because of an LDAP change or a resync.",
            sync.invalidations);
    counter("sync_entries_dropped_total", "Cached answers dropped because of LDAP changes.", sync.entries_dropped);
    counter("sync_reconnects_total", "Sync sessions reopened after a lost one.", sync.reconnects);
    counter("sync_refreshes_total", "Sync refreshes completed (start and every reconnect).", sync.refreshes);
    out << "# HELP mailgrant_policyd_sync_up 1 while LDAP changes are followed (answers kept up to cache.follow_ttl_s; "
           "else cache.ttl_s).\n"
           "# TYPE mailgrant_policyd_sync_up gauge\nmailgrant_policyd_sync_up "
        << (sync.state == FeedState::Following ? 1 : 0) << "\n";
    out << "# HELP mailgrant_policyd_sync_unsupported 1 when the LDAP server refused RFC 4533 sync (no syncprov).\n"
           "# TYPE mailgrant_policyd_sync_unsupported gauge\nmailgrant_policyd_sync_unsupported "
        << (sync.state == FeedState::Unsupported ? 1 : 0) << "\n";
    out << "# HELP mailgrant_policyd_connections_open Policy connections open now.\n"
           "# TYPE mailgrant_policyd_connections_open gauge\nmailgrant_policyd_connections_open "
        << connections_open << "\n";
    out << "# HELP mailgrant_policyd_ldap_seconds Latency of LDAP-backed directory calls.\n"
           "# TYPE mailgrant_policyd_ldap_seconds histogram\n";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
        cumulative += buckets_[i];
        out << "mailgrant_policyd_ldap_seconds_bucket{le=\"";
        if (i < kBucketsMs.size()) out << kBucketsMs[i] / 1000.0;
        else out << "+Inf";
        out << "\"} " << cumulative << "\n";
    }
    out << "mailgrant_policyd_ldap_seconds_sum " << ldap_micros_ / 1e6 << "\n";
    out << "mailgrant_policyd_ldap_seconds_count " << ldap_calls_ << "\n";
    return out.str();
}

std::string Stats::summary(const CacheStats& cache) const {
    const ChangeFeed* feed = change_feed.load();
    std::ostringstream out;
    out << "stats: requests=" << requests << " allowed=" << allowed << " rejected=" << rejected
        << " deferred=" << deferred << " timeouts=" << timeouts << " protocol_errors=" << protocol_errors
        << " ldap_errors=" << ldap_errors << " ldap_calls=" << ldap_calls_
        << " ldap_avg_ms=" << (ldap_calls_ ? ldap_micros_ / 1000.0 / ldap_calls_ : 0.0)
        << " sent_copies=" << sent_copies << " service_questions=" << service_questions
        << " service_temporary=" << service_temporary << " sync=" << (feed ? to_string(feed->stats().state) : "off")
        << " cache_hits=" << cache.hits << " cache_misses=" << cache.misses << " connections_open=" << connections_open;
    return out.str();
}

}  // namespace mailgrant::policy
