// ldap_client.cpp -- searches over an LdapSession (ldap_session.h): timeouts, entry
// limits, and one retry on a dropped connection.
#include "mailgrant/ldap_client.h"

#include <ldap.h>

#include <chrono>
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
    for (int attempt = 0;; ++attempt) {
        if (!session_) connect();
        bool results_arrived = false;
        try {
            return search_once(request, results_arrived);
        } catch (const LdapError& e) {
            const bool connection_broken =
                e.kind() == LdapErrorKind::Unavailable || e.kind() == LdapErrorKind::Timeout;
            if (connection_broken) {  // state of the session is unknown: start afresh next time
                session_.close();
            }
            // A dropped idle connection (server restart, idle timeout) is normal: retry once,
            // but never after entries arrived and never after a timeout (it would double the wait).
            if (e.kind() == LdapErrorKind::Unavailable && !results_arrived && attempt == 0) continue;
            throw;
        }
    }
}

std::vector<LdapEntry> LdapConnection::search_once(const SearchRequest& request, bool& results_arrived) {
    LDAP* ld = session_.get();
    std::vector<const char*> attrs;
    for (const auto& a : request.attributes) attrs.push_back(a.c_str());
    attrs.push_back(nullptr);
    timeval server_limit = to_timeval(config_.operation_timeout_ms);
    int msgid = 0;
    int rc = ldap_search_ext(ld, request.base.c_str(), scope_code(request.scope), request.filter.c_str(),
                             request.attributes.empty() ? nullptr : const_cast<char**>(attrs.data()), 0, nullptr,
                             nullptr, &server_limit, config_.size_limit, &msgid);
    if (rc != LDAP_SUCCESS) throw_ldap(rc, "search " + request.filter + " below " + request.base);

    PendingSearch pending(ld, msgid);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.operation_timeout_ms);
    std::vector<LdapEntry> entries;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            throw LdapError(LdapErrorKind::Timeout, LDAP_TIMEOUT, "search " + request.filter + ": timed out");
        timeval wait = to_timeval(static_cast<int>(left.count()));
        LDAPMessage* raw = nullptr;
        rc = ldap_result(ld, msgid, LDAP_MSG_ONE, &wait, &raw);
        MessagePtr message(raw);
        if (rc == 0)
            throw LdapError(LdapErrorKind::Timeout, LDAP_TIMEOUT,
                            "search " + request.filter + ": no answer within " +
                                std::to_string(config_.operation_timeout_ms) + " ms");
        if (rc < 0) {
            int code = LDAP_SERVER_DOWN;
            ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &code);
            throw_ldap(code, "search " + request.filter);
        }
        if (rc == LDAP_RES_SEARCH_ENTRY) {
            results_arrived = true;
            LdapEntry entry;
            const std::string problem = read_entry(ld, message.get(), entry);
            if (problem.empty()) {
                entries.push_back(std::move(entry));
            } else {
                // One entry anyone may write (a grant below one's own mailbox) must not take
                // every other answer of this search down with it: leave it out, say so.
                const std::string dn = entry.dn.empty() ? "(unreadable DN)" : entry.dn;
                warn(Warning{entry.dn, "LDAP entry " + dn + " ignored: " + problem});
            }
        } else if (rc == LDAP_RES_SEARCH_RESULT) {
            pending.finished();
            int result = LDAP_SUCCESS;
            char* raw_text = nullptr;
            rc = ldap_parse_result(ld, message.get(), &result, nullptr, &raw_text, nullptr, nullptr, 0);
            LdapString text(raw_text);
            if (rc != LDAP_SUCCESS) throw_ldap(rc, "search " + request.filter);
            if (result == LDAP_NO_SUCH_OBJECT) return {};
            if (result == LDAP_SIZELIMIT_EXCEEDED)
                throw LdapError(LdapErrorKind::Other, result,
                                "search " + request.filter + " below " + request.base + " returned more than " +
                                    std::to_string(config_.size_limit) + " entries (ldap.size_limit)");
            if (result != LDAP_SUCCESS) throw_ldap(result, "search " + request.filter + " below " + request.base);
            return entries;
        }
        // Referrals and intermediate messages are ignored: grants live in one directory.
    }
}

}  // namespace mailgrant
