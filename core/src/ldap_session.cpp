// ldap_session.cpp -- opening, binding and closing LDAP sessions (see ldap_session.h).
#include "mailgrant/ldap_session.h"

#include <ldap.h>

#include <atomic>
#include <utility>

#include "mailgrant/server_health.h"

namespace mailgrant {
namespace {

struct OpenCounters {
    std::atomic<unsigned long long> opens{0}, attempts{0}, failures{0}, held_down{0}, probes{0};
};
OpenCounters& counters() {
    static OpenCounters c;
    return c;
}

// Timed out, refused, unreachable, TLS handshake failed: the server, not the request.
bool server_failed(int code) {
    const LdapErrorKind kind = classify_ldap_code(code);
    return kind == LdapErrorKind::Timeout || kind == LdapErrorKind::Unavailable;
}

int require_cert_option(const std::string& name) {
    if (name == "never") return LDAP_OPT_X_TLS_NEVER;
    if (name == "allow") return LDAP_OPT_X_TLS_ALLOW;
    if (name == "try") return LDAP_OPT_X_TLS_TRY;
    if (name == "hard") return LDAP_OPT_X_TLS_HARD;
    return LDAP_OPT_X_TLS_DEMAND;
}

// Applies the protocol version, network and operation timeouts, referral and TLS options
// of `config` to a fresh session for `uri`, and runs StartTLS when configured.
int prepare(LDAP* session, const LdapConfig& config, const std::string& uri) {
    const int version = LDAP_VERSION3;
    const timeval network = to_timeval(config.network_timeout_ms);
    const timeval operation = to_timeval(config.operation_timeout_ms);
    ldap_set_option(session, LDAP_OPT_PROTOCOL_VERSION, &version);
    ldap_set_option(session, LDAP_OPT_NETWORK_TIMEOUT, &network);
    ldap_set_option(session, LDAP_OPT_TIMEOUT, &operation);  // bounds synchronous bind / StartTLS
    ldap_set_option(session, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    const int require = require_cert_option(config.tls_require_cert);
    ldap_set_option(session, LDAP_OPT_X_TLS_REQUIRE_CERT, &require);
    if (!config.tls_ca_file.empty()) ldap_set_option(session, LDAP_OPT_X_TLS_CACERTFILE, config.tls_ca_file.c_str());
    const int is_server = 0;
    ldap_set_option(session, LDAP_OPT_X_TLS_NEWCTX, &is_server);  // apply the per-session TLS options
    // StartTLS makes no sense on ldaps:// (already TLS) or ldapi:// (a local socket).
    if (config.starttls && uri.rfind("ldaps://", 0) != 0 && uri.rfind("ldapi://", 0) != 0)
        return ldap_start_tls_s(session, nullptr, nullptr);
    return LDAP_SUCCESS;
}

// EXTERNAL needs no user interaction (no password, no realm).
int no_interaction(LDAP*, unsigned, void*, void*) { return LDAP_SUCCESS; }

int bind(LDAP* session, const BindAs& as) {
    if (as.method == BindAs::Method::SaslExternal)  // bounded by LDAP_OPT_TIMEOUT
        return ldap_sasl_interactive_bind_s(session, nullptr, "EXTERNAL", nullptr, nullptr, LDAP_SASL_QUIET,
                                            no_interaction, nullptr);
    berval cred{};
    cred.bv_val = const_cast<char*>(as.password.data());
    cred.bv_len = as.password.size();
    return ldap_sasl_bind_s(session, as.dn.empty() ? nullptr : as.dn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr,
                            nullptr, nullptr);
}

}  // namespace

LdapErrorKind classify_ldap_code(int code) {
    switch (code) {
        case LDAP_TIMEOUT:
        case LDAP_TIMELIMIT_EXCEEDED:
            return LdapErrorKind::Timeout;
        case LDAP_SERVER_DOWN:
        case LDAP_CONNECT_ERROR:
        case LDAP_UNAVAILABLE:
        case LDAP_BUSY:
            return LdapErrorKind::Unavailable;
        case LDAP_NO_SUCH_OBJECT:
            return LdapErrorKind::NotFound;
        default:
            return LdapErrorKind::Other;
    }
}

void throw_ldap(int code, const std::string& context) {
    throw LdapError(classify_ldap_code(code), code, context + ": " + ldap_err2string(code));
}

timeval to_timeval(int ms) {
    timeval tv{};
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}

BindAs BindAs::service(const LdapConfig& config, std::string password) {
    BindAs as;
    as.dn = config.bind_dn;
    if (!as.dn.empty()) as.password = std::move(password);
    return as;
}

BindAs BindAs::person(std::string dn, std::string password) {
    BindAs as;
    as.dn = std::move(dn);
    as.password = std::move(password);
    as.wrong_password_is_final = true;
    return as;
}

BindAs BindAs::sasl_external() {
    BindAs as;
    as.method = Method::SaslExternal;
    return as;
}

std::string BindAs::describe() const {
    if (method == Method::SaslExternal) return "SASL EXTERNAL";
    return dn.empty() ? "anonymous" : dn;
}

LdapSession LdapSession::open(const LdapConfig& config, const BindAs& as, const std::vector<std::string>& uris) {
    std::string failures;
    int last_code = LDAP_SERVER_DOWN;
    ServerHealth health(config.server_state_file, config.server_holddown_s);
    const auto order = health.plan(uris.empty() ? config.uris : uris);
    auto& count = counters();
    ++count.opens;
    count.held_down += health.held_down();
    count.probes += health.probes();
    for (const auto& uri : order) {
        ++count.attempts;
        LDAP* raw = nullptr;
        int rc = ldap_initialize(&raw, uri.c_str());
        if (rc != LDAP_SUCCESS || !raw) {
            failures += " " + uri + ": " + ldap_err2string(rc) + ";";
            last_code = rc;
            continue;
        }
        LdapSession session(raw, uri);  // owns it from here: every way out unbinds
        rc = prepare(raw, config, uri);
        if (rc == LDAP_SUCCESS) rc = bind(raw, as);
        if (server_failed(rc)) {
            ++count.failures;
            health.failed(uri);
        } else {
            health.answered(uri);  // alive, even when it refused the bind
        }
        if (rc == LDAP_SUCCESS) return session;
        failures += " " + uri + " (bind as " + as.describe() + "): " + ldap_err2string(rc) + ";";
        last_code = rc;
        if (rc == LDAP_INVALID_CREDENTIALS && as.wrong_password_is_final) break;
    }
    if (!failures.empty()) failures.pop_back();
    throw LdapError(classify_ldap_code(last_code), last_code, "cannot connect to any LDAP server:" + failures);
}

LdapSession::~LdapSession() { close(); }

LdapSession::LdapSession(LdapSession&& other) noexcept
    : ld_(std::exchange(other.ld_, nullptr)), uri_(std::move(other.uri_)) {
    other.uri_.clear();
}

LdapSession& LdapSession::operator=(LdapSession&& other) noexcept {
    if (this != &other) {
        close();
        ld_ = std::exchange(other.ld_, nullptr);
        uri_ = std::move(other.uri_);
        other.uri_.clear();
    }
    return *this;
}

void LdapSession::close() {
    if (ld_) ldap_unbind_ext_s(ld_, nullptr, nullptr);  // also frees the session
    ld_ = nullptr;
    uri_.clear();
}

void note_server_failed(const LdapConfig& config, const std::string& uri) {
    ServerHealth(config.server_state_file, config.server_holddown_s).failed(uri);
}

LdapOpenStats ldap_open_stats() {
    const auto& c = counters();
    LdapOpenStats s;
    s.opens = c.opens;
    s.attempts = c.attempts;
    s.failures = c.failures;
    s.held_down = c.held_down;
    s.probes = c.probes;
    return s;
}

bool password_is_right(const LdapConfig& config, const std::string& dn, const std::string& password) {
    if (password.empty()) return false;
    try {
        LdapSession::open(config, BindAs::person(dn, password));
        return true;
    } catch (const LdapError& e) {
        if (e.code() == LDAP_INVALID_CREDENTIALS) return false;
        throw;
    }
}

}  // namespace mailgrant
