// input.h -- limits and shape checks for names that come from clients: a login (SASL
// user, IMAP user), a mail address (envelope or header sender, a mailbox named in a
// per-collaborator login) and a DN given where one is allowed.
//
// Every check throws BadInput (bad_input.h), never LdapError: input that can never
// succeed is the client's mistake and permanent (the policy daemon answers 5.7.1), while
// LdapError means the directory is in trouble (4xx, the plugin's circuit breaker). The
// checks run before any LDAP request is built, so bad input costs no LDAP round trip.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "mailgrant/bad_input.h"

namespace mailgrant {

// Longest login or address accepted (RFC 5321: 64 octets of local part, '@', 255 of domain).
constexpr std::size_t kMaxNameLength = 320;
// Longest DN accepted. DNs come from LDAP itself (owners, grantees) or from an admin, so
// the limit is generous; it only bounds what one request may put into a search base.
constexpr std::size_t kMaxDnLength = 1024;

// Any name a client or LDAP sent: not empty, at most `max` bytes, no control characters.
// The checks below are this with their limits.
void check_name(std::string_view name, const char* what, std::size_t max);

// A login: not empty, at most kMaxNameLength bytes, no control characters.
void check_login(std::string_view login, const char* what = "login");

// A mail address: as a login, and not shaped like a DN (a client's address is never
// read as a directory name: "a=b,c@example.com" must not become a base search).
void check_address(std::string_view address, const char* what = "address");

// `value` with every byte for which `escape(byte)` holds written as `prefix` and two
// lower-case hex digits; output past `max` bytes is cut and "..." appended. The one
// byte-escaper behind RFC 4515 filter values and log-safe texts.
std::string hex_escape(std::string_view value, std::string_view prefix, bool (*escape)(unsigned char),
                       std::size_t max = std::string::npos);

// A DN: not empty, at most kMaxDnLength bytes, and parses as a DN (RFC 4514; defined in
// dn.cpp with libldap's parser).
void check_dn(std::string_view dn, const char* what = "DN");

// The text as it may appear in an error message: control characters replaced by '?',
// cut to `max` bytes (with "..." when cut). Input is echoed, never trusted.
std::string excerpt(std::string_view text, std::size_t max = 64);

}  // namespace mailgrant
