// audit.h -- `mailgrant audit`: who granted, changed and revoked which grant, and when, from
// two LDAP sources merged into one time-ordered list:
//   - "ldap": the grant entries' operational attributes (createTimestamp/creatorsName,
//     modifyTimestamp/modifiersName): what exists now, so revocations are invisible;
//   - "accesslog": slapd's accesslog overlay (reqStart, reqType, reqDN, reqAuthzID, reqMod,
//     reqOld), every write while the overlay was on, deletions included.
// A write seen in both is shown once, from the accesslog (it says more).
//
// Pure code (entries in, rows out), unit-tested in tests/cli/test_cli_audit_units.cpp;
// cmd_audit.cpp does the searches and names DNs. Values come from LDAP: bounded here.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "mailgrant/ldap_client.h"
#include "output.h"

namespace mailgrant::cli {

struct AuditEvent {
    std::time_t when = 0;
    std::string source;    // "accesslog" or "ldap"
    std::string action;    // "granted", "changed", "revoked"
    std::string actor_dn;  // who wrote ("" = anonymous or not recorded)
    std::string grant_dn;
    std::string changes;   // "mailGrantFolder+=Projects; mailGrantSend-=sendAs", "" when unknown
    // filled in by cmd_audit.cpp from the directory:
    std::string actor;     // address of a person, else the DN
    std::string mailbox;   // address of the grant's mailbox, else its DN
};

// At most this much of the changes text per event (LDAP values may be long).
constexpr std::size_t kMaxAuditChangesChars = 400;

// --since: a date (2026-11-01), a time (2026-11-01T08:00Z, 20261101080000Z) or a duration
// back from now (90m, 12h, 7d, 2w). Throws UsageError.
std::time_t parse_since(const std::string& text, std::time_t now);

// One accesslog entry (auditAdd/auditModify/auditDelete; others and unparseable times give
// nullopt). `grant_class` is schema.grant_object_class: an add is a grant only when its
// objectClass values include it (*is_grant tells; unknown for modify/delete without reqOld).
std::optional<AuditEvent> event_from_accesslog(const LdapEntry& entry, const std::string& grant_class,
                                               std::optional<bool>* is_grant);

// The creation (and, when modifyTimestamp differs, the last change) of a grant entry
// read with its operational attributes.
std::vector<AuditEvent> events_from_grant_entry(const LdapEntry& entry);

// "attr:+ value" lines (reqMod) or "attr: value" lines (reqOld) as one short text;
// operational attributes and objectClass are left out.
std::string summarize_mods(const std::vector<std::string>& lines, bool old_values);

// Both sources in time order; an "ldap" event that the accesslog also has (same entry,
// action, time within a second) is dropped.
std::vector<AuditEvent> merge_events(const std::vector<AuditEvent>& accesslog, const std::vector<AuditEvent>& ldap);

std::string render_audit_table(const std::vector<AuditEvent>& events);
std::string render_audit_csv(const std::vector<AuditEvent>& events);  // RFC 4180, CRLF
Json render_audit_json(const std::vector<AuditEvent>& events, const std::vector<std::string>& notes);

}  // namespace mailgrant::cli
