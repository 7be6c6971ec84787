// bad_input.h -- the error for input that can never succeed (an over-long or malformed
// login, address or identifier from a client, a policy request or an IMAP command).
//
// Kept apart from LdapError on purpose: bad input is the client's fault and permanent
// (the policy daemon answers 5.7.1 so the client stops retrying), while LdapError means
// the directory is in trouble (4xx, and the plugin's circuit breaker). Mixing the two let
// one malformed sender be counted as an LDAP outage.
#pragma once

#include <stdexcept>
#include <string>

namespace mailgrant {

class BadInput : public std::runtime_error {
public:
    explicit BadInput(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace mailgrant
