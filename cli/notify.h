// notify.h -- the notices mailgrant mails to a grantee: a grant, an invitation, a revoke,
// and a grant about to end (notify-expiring). What a notice says comes from templates a
// site can edit, one directory per language (cli/notices/<lang>/<kind>.{txt,html},
// installed to /usr/share/mailgrant/notices, overridden file by file from
// notify.templates_dir); the language is the recipient's preferredLanguage. This file
// turns a Notice into the templates' variables and renders subject, text and HTML; the
// message itself is built and sent by notice_mail.h. Pure apart from reading templates.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "notice_template.h"

namespace mailgrant::cli {

enum class NoticeKind { Grant, Invite, Revoke, Expiring };
const char* notice_kind_name(NoticeKind k);  // "grant", "invite", "revoke", "expiring"

struct Notice {
    NoticeKind kind = NoticeKind::Grant;  // Grant with invitation=true is sent as Invite
    std::string from;              // "postmaster@example.com"
    std::string from_name;         // display name of From ("" = "mailgrant")
    std::string to;                // grantee's address
    std::string to_name;           // grantee's display name ("" = none)
    std::string owner;             // mailbox's primary address
    std::string owner_name;        // mailbox's display name ("" = none)
    bool owner_is_shared = false;  // a shared (function) mailbox
    std::string actor_name;        // who shared / invited / revoked; both "" = the mail administrator
    std::string actor_address;
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
    // Where and in which language (notify.* in the configuration).
    std::string preferred_language;                 // the recipient's preferredLanguage
    std::string default_language = "en";
    std::string templates_dir = "/etc/mailgrant/notices";  // site overrides, "" = none
    std::string webmail_url;                        // "" = no Roundcube links
};

NoticeKind effective_kind(const Notice& n);  // Grant + invitation -> Invite

// The variables of cli/notices/README.md for this notice (dates as format_time_human).
TemplateVars notice_vars(const Notice& n);

struct RenderedNotice {
    std::string language;  // the one used, e.g. "pl"
    std::string subject;   // one line, UTF-8
    std::string text;      // text/plain body, LF line ends
    std::string html;      // text/html body
};

// Where the shipped templates are: $MAILGRANT_NOTICES_DIR if set, else the installed
// /usr/share/mailgrant/notices, else (an uninstalled build) the source tree's cli/notices.
std::string shipped_templates_dir();
// Languages with templates in the site dir or the shipped dir.
std::set<std::string> notice_languages(const std::string& site_dir);
// Chooses the language, loads <kind>.txt and <kind>.html (site dir first, file by file)
// and renders them. Throws TemplateError (a file is named) or std::runtime_error.
RenderedNotice render_notice(const Notice& n);

std::string notice_subject(const Notice& n);
// A complete RFC 5322 message (LF line ends), multipart/alternative text + HTML: what
// sendmail -t is given (notice_mail.h builds the same message for SMTP through libcurl).
std::string compose_notice(const Notice& n);

}  // namespace mailgrant::cli
