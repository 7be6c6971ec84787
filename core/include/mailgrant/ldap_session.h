// ldap_session.h -- the one way mailgrant opens an LDAP session.
//
// Every component that talks to LDAP (the core's reads, the CLI's writes, the password
// check of mailgrant-checkpassword) opens its session here, so all of them try
// ldap.uris in the same order, with the same network/operation timeouts, TLS checks and
// StartTLS, and differ only in how they bind (BindAs). LdapSession is the one RAII
// handle over libldap's LDAP*: non-copyable, movable, unbinds (and frees) when it goes.
// The order of ldap.uris is adjusted by server_health.h: a server that timed out or was
// unreachable in any mailgrant process of the host is tried last for a while.
#pragma once

#include <sys/time.h>

#include <string>
#include <vector>

#include "mailgrant/config.h"
#include "mailgrant/ldap_error.h"

struct ldap;  // libldap's session type (LDAP in <ldap.h>), kept out of this header

namespace mailgrant {

// How a session proves who it is.
struct BindAs {
    enum class Method { Simple, SaslExternal };
    Method method = Method::Simple;
    std::string dn;        // Simple: empty = anonymous
    std::string password;  // Simple only
    // A person's password check: "invalid credentials" from a server is the answer, not
    // an outage, so no further URI is tried with the same password.
    bool wrong_password_is_final = false;

    // The service account of the YAML (ldap.bind_dn with its password; anonymous without).
    static BindAs service(const LdapConfig& config, std::string password);
    // A person binding with their own password (to check it).
    static BindAs person(std::string dn, std::string password);
    // SASL EXTERNAL: the identity comes from the transport (ldapi:// peer credentials, a
    // TLS client certificate).
    static BindAs sasl_external();

    std::string describe() const;  // "cn=admin,...", "anonymous" or "SASL EXTERNAL"
};

class LdapSession {
public:
    LdapSession() = default;
    // Tries `uris` (empty = config.uris) in order: connect, apply the options of
    // `config`, bind as `bind`. Throws LdapError naming every URI that failed and why.
    static LdapSession open(const LdapConfig& config, const BindAs& bind, const std::vector<std::string>& uris = {});

    ~LdapSession();
    LdapSession(LdapSession&& other) noexcept;
    LdapSession& operator=(LdapSession&& other) noexcept;
    LdapSession(const LdapSession&) = delete;
    LdapSession& operator=(const LdapSession&) = delete;

    ::ldap* get() const { return ld_; }
    const std::string& uri() const { return uri_; }  // "" when closed
    explicit operator bool() const { return ld_ != nullptr; }
    void close();

private:
    LdapSession(::ldap* ld, std::string uri) : ld_(ld), uri_(std::move(uri)) {}
    ::ldap* ld_ = nullptr;
    std::string uri_;
};

// A server that answered nothing in time during a session (a search timed out): tried
// last by the following sessions of the host (server_health.h).
void note_server_failed(const LdapConfig& config, const std::string& uri);

// What LdapSession::open did in this process (all threads), for tests and benchmarks:
// proof that a hung server is skipped comes from these counts, never from timings.
struct LdapOpenStats {
    unsigned long long opens = 0;      // calls of LdapSession::open
    unsigned long long attempts = 0;   // servers tried (connect, StartTLS, bind)
    unsigned long long failures = 0;   // of those: timed out or unreachable
    unsigned long long held_down = 0;  // servers tried last because they failed lately
    unsigned long long probes = 0;     // servers tried again when their hold-down ended
};
LdapOpenStats ldap_open_stats();

// True when `password` is the password of the entry `dn` (a simple bind as that entry
// succeeds); false when the server says the credentials are invalid. Throws LdapError
// when no server answers. An empty password is never right: an LDAP simple bind with
// one is "unauthenticated" and would succeed.
bool password_is_right(const LdapConfig& config, const std::string& dn, const std::string& password);

// libldap's result codes as mailgrant's error kinds, and the exception built from one.
LdapErrorKind classify_ldap_code(int code);
[[noreturn]] void throw_ldap(int code, const std::string& context);

// Milliseconds as the timeval libldap wants for its timeouts.
timeval to_timeval(int ms);

}  // namespace mailgrant
