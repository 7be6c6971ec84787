// ldap_error.h -- how LDAP trouble reaches callers: one exception with a small taxonomy
// (Timeout and Unavailable are temporary, NotFound = the search base does not exist,
// Other = everything else), so each caller can decide between 4xx, "deny" and a clear
// error without knowing libldap's result codes.
#pragma once

#include <stdexcept>
#include <string>

namespace mailgrant {

enum class LdapErrorKind { Timeout, Unavailable, NotFound, Other };

const char* to_string(LdapErrorKind kind);

class LdapError : public std::runtime_error {
public:
    LdapError(LdapErrorKind kind, int code, const std::string& what)
        : std::runtime_error(what), kind_(kind), code_(code) {}
    LdapErrorKind kind() const { return kind_; }
    int code() const { return code_; }  // libldap result code, 0 when not from libldap

private:
    LdapErrorKind kind_;
    int code_;
};

}  // namespace mailgrant
