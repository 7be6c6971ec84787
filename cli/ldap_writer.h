// ldap_writer.h -- the CLI's write connection to LDAP (add, delete, modify).
//
// The core only reads; writes live here because they bind with their own, stronger
// credentials: --bind-dn/--bind-password-file, else ldap.bind_dn/bind_password_file from
// the YAML, or SASL EXTERNAL (--sasl-external, e.g. ldapi:// as root on the LDAP host).
// The session comes from the core's one opener (ldap_session.h): same URIs, timeouts
// (ldap.operation_timeout_ms; connect: ldap.network_timeout_ms) and TLS checks as reads. Errors throw
// mailgrant::LdapError with the server's message.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ldif.h"
#include "mailgrant/config.h"
#include "mailgrant/ldap_client.h"
#include "mailgrant/ldap_session.h"

namespace mailgrant::cli {

struct WriteCredentials {
    std::string bind_dn;             // empty + !sasl_external = anonymous (rarely useful)
    std::string bind_password_file;
    bool sasl_external = false;
    std::vector<std::string> uris;   // empty = ldap.uris
};

class LdapWriter {
public:
    // Reads the password file now (throws ConfigError); connects on first use.
    LdapWriter(const LdapConfig& config, WriteCredentials credentials);
    ~LdapWriter();
    LdapWriter(const LdapWriter&) = delete;
    LdapWriter& operator=(const LdapWriter&) = delete;

    void apply(const Change& change);

private:
    void connect();
    void wait_result(int msgid, const std::string& what);

    LdapConfig config_;
    WriteCredentials credentials_;
    std::string password_;
    LdapSession session_;
};

}  // namespace mailgrant::cli
