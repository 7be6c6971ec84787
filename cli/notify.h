// notify.h -- the share notification `grant --notify` mails to the grantee: what was
// shared, with which rights, until when, and how to open it in a mail client (the
// shared/<owner>/<folder> path of the shared namespace, or the per-collaborator login
// MAILBOX*GRANTEE where the server offers it). Composition is pure and unit-tested;
// delivery goes through `sendmail -t` or SMTP to a host:port (normally localhost).
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace mailgrant::cli {

struct Notice {
    std::string from;              // "postmaster@example.com"
    std::string to;                // grantee's address
    std::string owner;             // mailbox's primary address
    bool owner_is_shared = false;  // a shared (function) mailbox
    std::string granted_by_group;  // group name when the grant names a group, else ""
    std::vector<std::string> folders;
    std::string rights;            // letters, "" = no folder access
    std::string role;              // "reader" / "editor" / "admin" / ""
    bool send_as = false;
    bool send_on_behalf = false;
    std::optional<std::time_t> not_before;
    std::optional<std::time_t> not_after;
    std::time_t date = 0;          // Date: header
    std::string message_id_host = "localhost";
    // grant --invite: the grant waits for the grantee's acceptance (issue 13)
    bool invitation = false;
    std::optional<std::time_t> invitation_expires;  // empty = never
};

std::string notice_subject(const Notice& n);
// A complete RFC 5322 message (LF line ends; the SMTP sender converts to CRLF).
std::string compose_notice(const Notice& n);

// Delivery. Both throw std::runtime_error with the MTA's answer on failure.
void send_with_sendmail(const std::string& command, const std::string& message, int timeout_ms);
void send_with_smtp(const std::string& host_port, const std::string& envelope_from,
                    const std::vector<std::string>& recipients, const std::string& message, int timeout_ms);

}  // namespace mailgrant::cli
