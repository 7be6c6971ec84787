// ldap_client.cpp -- searches over an LdapSession (ldap_session.h): RFC 2696 paged
// results, timeouts, entry limits, and one retry on a dropped connection.
#include "mailgrant/ldap_client.h"

#include <ldap.h>

#include <chrono>
#include <exception>
#include <memory>
#include <new>
#include <cctype>

#include "mailgrant/ldap_session.h"
#include "mailgrant/warnings.h"

namespace mailgrant {
namespace {

int scope_code(SearchScope scope) {
    switch (scope) {
        case SearchScope::Base: return LDAP_SCOPE_BASE;
        case SearchScope::OneLevel: return LDAP_SCOPE_ONELEVEL;
        case SearchScope::Subtree: return LDAP_SCOPE_SUBTREE;
    }
    return LDAP_SCOPE_SUBTREE;
}

struct MessageFree {
    void operator()(LDAPMessage* m) const { ldap_msgfree(m); }
};
using MessagePtr = std::unique_ptr<LDAPMessage, MessageFree>;

struct MemFree {
    void operator()(char* p) const { ldap_memfree(p); }
};
using LdapString = std::unique_ptr<char, MemFree>;

struct BerFree {
    void operator()(BerElement* b) const { ber_free(b, 0); }
};

struct ValuesFree {
    void operator()(berval** v) const { ldap_value_free_len(v); }
};
using Values = std::unique_ptr<berval*, ValuesFree>;

const std::vector<std::string>& no_values() {
    static const std::vector<std::string> empty;
    return empty;
}

}  // namespace

const char* to_string(LdapErrorKind kind) {
    switch (kind) {
        case LdapErrorKind::Timeout: return "timeout";
        case LdapErrorKind::Unavailable: return "unavailable";
        case LdapErrorKind::NotFound: return "not found";
        case LdapErrorKind::Other: return "error";
    }
    return "error";
}

const std::vector<std::string>& LdapEntry::values(const std::string& attribute) const {
    std::string key = attribute;
    for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto it = attributes.find(key);
    return it == attributes.end() ? no_values() : it->second;
}

std::string LdapEntry::first(const std::string& attribute) const {
    const auto& v = values(attribute);
    return v.empty() ? std::string() : v.front();
}

bool LdapEntry::has_value_ci(const std::string& attribute, const std::string& value) const {
    for (const auto& v : values(attribute)) {
        if (v.size() != value.size()) continue;
        bool same = true;
        for (std::size_t i = 0; i < v.size() && same; ++i)
            same = std::tolower(static_cast<unsigned char>(v[i])) == std::tolower(static_cast<unsigned char>(value[i]));
        if (same) return true;
    }
    return false;
}

namespace {

// Abandons a search the caller stopped reading (timeout, limit, exception), so the server
// stops working on it and no stray results arrive for the next operation.
class PendingSearch {
public:
    PendingSearch(LDAP* ld, int msgid) : ld_(ld), msgid_(msgid) {}
    ~PendingSearch() {
        if (!finished_) ldap_abandon_ext(ld_, msgid_, nullptr, nullptr);
    }
    PendingSearch(const PendingSearch&) = delete;
    PendingSearch& operator=(const PendingSearch&) = delete;
    void finished() { finished_ = true; }

private:
    LDAP* ld_;
    int msgid_;
    bool finished_ = false;
};

using ControlPtr = std::unique_ptr<LDAPControl, void (*)(LDAPControl*)>;

// RFC 3876's control for SearchRequest::values_filter (null when it is empty), critical:
// a server that cannot honour it refuses the search (unavailableCriticalExtension)
// rather than sending every value.
ControlPtr matched_values_control(const std::string& values_filter, const std::string& what) {
    ControlPtr control(nullptr, ldap_control_free);
    if (values_filter.empty()) return control;
    std::unique_ptr<BerElement, void (*)(BerElement*)> ber(ber_alloc_t(LBER_USE_DER),
                                                           [](BerElement* b) { ber_free(b, 1); });
    if (!ber) throw std::bad_alloc();
    if (ldap_put_vrFilter(ber.get(), values_filter.c_str()) == -1)
        throw LdapError(LdapErrorKind::Other, LDAP_FILTER_ERROR, what + ": bad matched values filter");
    berval* raw_value = nullptr;
    if (ber_flatten(ber.get(), &raw_value) == -1 || !raw_value) throw std::bad_alloc();
    std::unique_ptr<berval, void (*)(berval*)> value(raw_value, ber_bvfree);
    LDAPControl* raw = nullptr;
    const int rc = ldap_control_create(LDAP_CONTROL_VALUESRETURNFILTER, 1, value.get(), 1, &raw);
    if (rc != LDAP_SUCCESS || !raw)
        throw LdapError(LdapErrorKind::Other, rc, what + ": matched values control");
    control.reset(raw);
    return control;
}

// Reads one search result entry into `entry`. Returns "" when it was read whole, else why
// it must be left out (a value or value count over the limits of ldap_client.h, or a DN
// libldap cannot decode); the caller skips it and names it in one warning. Every libldap
// allocation is owned from the moment it exists, so an exception (bad_alloc) leaks nothing.
std::string read_entry(LDAP* ld, LDAPMessage* message, LdapEntry& entry) {
    {
        LdapString dn(ldap_get_dn(ld, message));
        if (!dn) return "its DN cannot be decoded";
        entry.dn = dn.get();
    }
    BerElement* raw_ber = nullptr;
    LdapString name(ldap_first_attribute(ld, message, &raw_ber));
    const std::unique_ptr<BerElement, BerFree> ber(raw_ber);
    for (; name; name.reset(ldap_next_attribute(ld, message, ber.get()))) {
        std::string key = name.get();
        for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        Values values(ldap_get_values_len(ld, message, name.get()));
        auto& out = entry.attributes[key];
        for (std::size_t i = 0; values && values.get()[i]; ++i) {
            const berval* v = values.get()[i];
            if (v->bv_len > LdapConnection::kMaxValueBytes)
                return "a value of " + std::string(name.get()) + " is " + std::to_string(v->bv_len) +
                       " bytes (limit " + std::to_string(LdapConnection::kMaxValueBytes) + ")";
            if (out.size() >= LdapConnection::kMaxValuesPerAttribute)
                return std::string(name.get()) + " has more than " +
                       std::to_string(LdapConnection::kMaxValuesPerAttribute) + " values";
            out.emplace_back(v->bv_val, v->bv_len);
        }
    }
    return {};
}

}  // namespace

LdapConnection::LdapConnection(const LdapConfig& config) : config_(config) {
    if (!config_.bind_dn.empty())
        password_ = config_.bind_password.empty() ? read_secret_file(config_.bind_password_file) : config_.bind_password;
}

LdapConnection::~LdapConnection() = default;

void LdapConnection::connect() {
    session_.close();
    session_ = LdapSession::open(config_, BindAs::service(config_, password_));
}

std::vector<LdapEntry> LdapConnection::search(const SearchRequest& request) {
    std::vector<LdapEntry> entries;
    run(request, config_.size_limit, [&](LdapEntry&& entry) { entries.push_back(std::move(entry)); });
    return entries;
}

namespace {

// What the caller of a walk threw, carried past the retry and server-health handling
// (which catch LdapError): a lookup of the caller's that timed out on another connection
// is not this connection's server failing.
struct CallerFailure {
    std::exception_ptr error;
};

}  // namespace

void LdapConnection::search_each(const SearchRequest& request, const EntrySink& each) {
    try {
        run(request, 0, [&](LdapEntry&& entry) {
            try {
                each(std::move(entry));
            } catch (...) {
                throw CallerFailure{std::current_exception()};
            }
        });
    } catch (const CallerFailure& failure) {
        std::rethrow_exception(failure.error);
    }
}

void LdapConnection::run(const SearchRequest& request, int limit, const EntrySink& each) {
    // A base or one-level search is asked first without paging, up to kPageSize entries:
    // slapd's back-mdb answers a paged one-level search by testing every entry the filter's
    // index gives (every grant in the directory for grants_of's filter: 13 ms per search at
    // 110,000 entries, growing with the directory) instead of the DN index's children of
    // the base (0.3 ms). A result that turns out larger ends that search (the size limit)
    // and its entries and warnings are dropped; the paged search then reads it whole, so
    // the answer always comes from one complete search. Each of the two requests has its
    // own retry on a dropped connection (at most four connects in all).
    if (request.scope != SearchScope::Subtree) {
        std::vector<LdapEntry> held;
        bool complete = false;
        with_retry([&](bool& results_arrived) {
            held.clear();
            complete = search_once(request, limit, [&](LdapEntry&& entry) { held.push_back(std::move(entry)); },
                                   results_arrived, false);
        });
        if (complete) {
            for (auto& entry : held) each(std::move(entry));
            return;
        }
    }
    with_retry([&](bool& results_arrived) { search_once(request, limit, each, results_arrived, true); });
}

void LdapConnection::with_retry(const std::function<void(bool&)>& search) {
    for (int attempt = 0;; ++attempt) {
        if (!session_) connect();
        bool results_arrived = false;
        try {
            search(results_arrived);
            return;
        } catch (const LdapError& e) {
            const bool connection_broken =
                e.kind() == LdapErrorKind::Unavailable || e.kind() == LdapErrorKind::Timeout;
            if (connection_broken) {  // state of the session is unknown: start afresh next time
                // A timeout: the following sessions of the host try this server last.
                // Only our own clock running out (LDAP_TIMEOUT): a server that answered
                // "time limit exceeded" is alive and merely had a heavy search.
                if (e.kind() == LdapErrorKind::Timeout && e.code() == LDAP_TIMEOUT)
                    note_server_failed(config_, session_.uri());
                session_.close();
            }
            // A dropped idle connection (server restart, idle timeout) is normal: retry once,
            // but never after entries arrived and never after a timeout (it would double the wait).
            if (e.kind() == LdapErrorKind::Unavailable && !results_arrived && attempt == 0) continue;
            throw;
        }
    }
}

bool LdapConnection::search_once(const SearchRequest& request, int limit, const EntrySink& each,
                                 bool& results_arrived, bool paged) {
    LDAP* const ld = session_.get();
    std::vector<const char*> attrs;
    for (const auto& a : request.attributes) attrs.push_back(a.c_str());
    attrs.push_back(nullptr);
    const std::string what = "search " + request.filter + " below " + request.base;
    // `limit` entries are at most this many pages; one more page may only bring the
    // entry that proves the limit exceeded. A walk (limit 0) has kMaxWalkPages.
    const int max_pages = !paged ? 1 : limit > 0 ? limit / kPageSize + 2 : kMaxWalkPages;
    std::size_t received = 0;
    const auto values_control = matched_values_control(request.values_filter, what);
    berval cookie{0, nullptr};
    std::unique_ptr<berval, void (*)(berval*)> cookie_owner(nullptr, [](berval* b) { ber_memfree(b->bv_val); });
    for (int page = 0; page < max_pages; ++page) {
        // Each page's entries go to `each` once the page is complete, when no request is
        // outstanding: a caller may take its time (a walk that runs doveadm or sends a
        // notice per entry) without eating the next page's timeout. Meanwhile the session
        // may have been closed or replaced (a caller's search here, against the header's
        // advice), and the next page's cookie means nothing on another session.
        if (!ld || session_.get() != ld)
            throw LdapError(LdapErrorKind::Unavailable, LDAP_SERVER_DOWN,
                            what + ": the connection was lost or replaced between pages");
        std::vector<LdapEntry> page_entries;
        std::vector<Warning> page_warnings;
        const auto deliver = [&] {
            for (const auto& w : page_warnings) warn(w);
            page_warnings.clear();
            for (auto& entry : page_entries) each(std::move(entry));
            page_entries.clear();
        };
        // RFC 2696: every search asks in pages of kPageSize, so a result larger than the
        // server's per-search size limit (slapd: 500) still arrives whole where the
        // service account may page through more (README: the `limits` line).
        LDAPControl* raw_control = nullptr;
        int rc = LDAP_SUCCESS;
        if (paged) {
            rc = ldap_create_page_control(ld, kPageSize, cookie.bv_len ? &cookie : nullptr, 0, &raw_control);
            if (rc != LDAP_SUCCESS) throw_ldap(rc, what + ": paged results control");
        }
        const ControlPtr control(raw_control, ldap_control_free);
        LDAPControl* server_controls[3] = {nullptr, nullptr, nullptr};
        std::size_t n_controls = 0;
        if (control) server_controls[n_controls++] = control.get();
        if (values_control) server_controls[n_controls++] = values_control.get();
        timeval server_limit = to_timeval(config_.operation_timeout_ms);
        int msgid = 0;
        rc = ldap_search_ext(ld, request.base.c_str(), scope_code(request.scope), request.filter.c_str(),
                             request.attributes.empty() ? nullptr : const_cast<char**>(attrs.data()), 0,
                             n_controls ? server_controls : nullptr, nullptr, &server_limit, paged ? 0 : kPageSize,
                             &msgid);
        if (rc != LDAP_SUCCESS) throw_ldap(rc, what);
        ++searches_;

        PendingSearch pending(ld, msgid);
        // Each page has the whole operation timeout: a slow server costs one timeout per
        // page at most, and the page count is bounded above.
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.operation_timeout_ms);
        bool page_done = false;
        while (!page_done) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) throw LdapError(LdapErrorKind::Timeout, LDAP_TIMEOUT, what + ": timed out");
            timeval wait = to_timeval(static_cast<int>(left.count()));
            LDAPMessage* raw = nullptr;
            rc = ldap_result(ld, msgid, LDAP_MSG_ONE, &wait, &raw);
            MessagePtr message(raw);
            if (rc == 0)
                throw LdapError(LdapErrorKind::Timeout, LDAP_TIMEOUT,
                                what + ": no answer within " + std::to_string(config_.operation_timeout_ms) + " ms");
            if (rc < 0) {
                int code = LDAP_SERVER_DOWN;
                ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &code);
                throw_ldap(code, what);
            }
            if (rc == LDAP_RES_SEARCH_ENTRY) {
                results_arrived = true;
                if (limit > 0 && received >= static_cast<std::size_t>(limit))
                    throw LdapError(LdapErrorKind::Other, LDAP_SIZELIMIT_EXCEEDED,
                                    what + " returned more than " + std::to_string(limit) +
                                        " entries (mailgrant's limit ldap.size_limit)");
                LdapEntry entry;
                const std::string problem = read_entry(ld, message.get(), entry);
                if (problem.empty()) {
                    ++received;  // only entries kept count toward the limit
                    page_entries.push_back(std::move(entry));
                } else {
                    // One entry anyone may write (a grant below one's own mailbox) must not take
                    // every other answer of this search down with it: leave it out, say so
                    // (with the page: an unpaged try cut short warns nothing, its paged
                    // search will).
                    const std::string dn = entry.dn.empty() ? "(unreadable DN)" : entry.dn;
                    page_warnings.push_back(Warning{entry.dn, "LDAP entry " + dn + " ignored: " + problem});
                }
            } else if (rc == LDAP_RES_SEARCH_RESULT) {
                pending.finished();
                page_done = true;
                int result = LDAP_SUCCESS;
                char* raw_text = nullptr;
                LDAPControl** raw_controls = nullptr;
                rc = ldap_parse_result(ld, message.get(), &result, nullptr, &raw_text, nullptr, &raw_controls, 0);
                LdapString text(raw_text);
                std::unique_ptr<LDAPControl*, void (*)(LDAPControl**)> controls(raw_controls, ldap_controls_free);
                if (rc != LDAP_SUCCESS) throw_ldap(rc, what);
                if (result == LDAP_NO_SUCH_OBJECT) return true;
                if (!paged) {
                    // More than a page (or than the server lets an unpaged search have; an
                    // older slapd says so with adminLimitExceeded): drop it, page instead.
                    if (result == LDAP_SIZELIMIT_EXCEEDED || result == LDAP_ADMINLIMIT_EXCEEDED) return false;
                    if (result != LDAP_SUCCESS) throw_ldap(result, what);
                    deliver();
                    return true;
                }
                if (result == LDAP_SIZELIMIT_EXCEEDED)
                    // The server stopped (mailgrant's own limit is checked above): name
                    // its limit, not ldap.size_limit, so the admin changes the right one.
                    throw LdapError(LdapErrorKind::Other, result,
                                    what + ": the LDAP server's size limit for this account was hit after " +
                                        std::to_string(received) +
                                        " entries (slapd: sizelimit, or the limits line with size.prtotal for "
                                        "ldap.bind_dn; see ldap-schema/README.md)");
                if (result != LDAP_SUCCESS) throw_ldap(result, what);
                // The next page's cookie; none (or empty) = this was the last page.
                cookie_owner.reset();
                cookie = berval{0, nullptr};
                LDAPControl* response =
                    controls ? ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, controls.get(), nullptr) : nullptr;
                if (response) {
                    ber_int_t estimate = 0;
                    rc = ldap_parse_pageresponse_control(ld, response, &estimate, &cookie);
                    if (rc != LDAP_SUCCESS) throw_ldap(rc, what + ": paged results response");
                    if (cookie.bv_val) cookie_owner.reset(&cookie);
                }
                deliver();
                // No control (a server without paging: one page is all) or an empty cookie: done.
                if (!response || cookie.bv_len == 0) return true;
            }
            // Referrals and intermediate messages are ignored: grants live in one directory.
        }
    }
    // Still more pages after the limit's worth: the same answer as too many entries.
    throw LdapError(LdapErrorKind::Other, LDAP_SIZELIMIT_EXCEEDED,
                    what + " needs more than " + std::to_string(max_pages) + " pages of " +
                        std::to_string(kPageSize) + " entries (" +
                        (limit > 0 ? "mailgrant's limit ldap.size_limit: " + std::to_string(limit)
                                   : "the most a walk of the whole directory reads") +
                        ")");
}

}  // namespace mailgrant
