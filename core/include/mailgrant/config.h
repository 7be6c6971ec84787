// config.h -- the one typed configuration of every mailgrant component.
//
// All defaults live in the member initialisers below, so "what happens if the key is
// absent" has exactly one answer. load_config() reads /etc/mailgrant/mailgrant.yaml with
// yaml-cpp and rejects unknown keys, wrong types and bad values with a message naming
// the file, line and dotted key, because a silently ignored typo in an access-control
// config is a security bug.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "mailgrant/config_service.h"

namespace mailgrant {

class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct LdapConfig {
    std::vector<std::string> uris{"ldap://127.0.0.1"};  // tried in order (failover)
    std::string base;                                    // required
    std::string bind_dn;                                 // empty = anonymous
    std::string bind_password_file;                      // required when bind_dn is set
    // Never from the YAML: the password itself when a caller has read bind_password_file
    // already (mailgrant-policyd reads it as root, before dropping privileges, as Postfix
    // and nginx do). Empty = LdapConnection reads bind_password_file.
    std::string bind_password;
    bool starttls = false;
    std::string tls_ca_file;
    std::string tls_require_cert = "demand";  // never | allow | try | demand | hard
    int network_timeout_ms = 3000;             // TCP connect
    int operation_timeout_ms = 5000;           // every bind and search
    int size_limit = 5000;                     // entries per search
    // A server that timed out or could not be reached is tried last, by every mailgrant
    // process on the host, for this long; then one process probes it (server_health.h).
    // 0 = no memory: every session tries ldap.uris in order.
    int server_holddown_s = 30;
    // Where that memory lives, shared by the plugin (mail user), checkpassword and the
    // policy daemon: its directory must be writable by all of them (README "Several
    // servers"). "" = no memory; unwritable = no memory, one warning per process.
    std::string server_state_file = "/run/mailgrant/ldap-servers";
};

struct UsersConfig {
    std::string base;  // empty = ldap.base
    // %s is replaced by the RFC 4515-escaped login or address.
    std::string login_filter = "(&(objectClass=inetOrgPerson)(|(uid=%s)(mail=%s)))";
    std::string address_filter = "(|(mail=%s)(mailLocalAddress=%s))";
    std::string mail_attribute = "mail";
    // Where people's entries are, as a DN with the login in it (%u login, %n its local
    // part, %d its domain: dn.h, fill_dn_template), like Dovecot's auth_bind_userdn.
    // Search mode only: the login search then also asks for the groups naming that DN, so
    // a group member's login and cold send decision cost no search of their own for the
    // groups (login_groups.cpp). A guess, checked against the entry the login search
    // finds: a wrong one costs nothing but that search's few extra entries. "" = off.
    std::string dn_template;
    std::vector<std::string> alias_attributes{"mailLocalAddress"};
    // RFC 2798: the language a person's notices are written in (Accept-Language syntax).
    std::string language_attribute = "preferredLanguage";
};

enum class MembershipMode { Search, MemberOf };

struct GroupsConfig {
    std::string base;  // empty = ldap.base
    MembershipMode membership = MembershipMode::Search;
    // %s is replaced by the escaped DN of a user or group.
    std::string member_filter =
        "(|(&(objectClass=groupOfNames)(member=%s))"
        "(&(objectClass=groupOfUniqueNames)(uniqueMember=%s)))";
    std::vector<std::string> member_attributes{"member", "uniqueMember"};  // as used in member_filter
    std::string member_of_attribute = "memberOf";
    int max_depth = 8;  // nesting levels followed; deeper groups are ignored
    // A group by its name (IMAP ACL "$name", self_service.h); %s is the escaped name.
    // cn by default, the name GETACL prints for a group (its DN's first RDN value).
    std::string name_filter = "(&(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))(cn=%s))";
};

struct CacheConfig {
    int ttl_s = MAILGRANT_CACHE_TTL_S_DEFAULT;  // positive answers (DESIGN.md: changes obeyed within this)
    int negative_ttl_s = MAILGRANT_CACHE_NEGATIVE_TTL_S_DEFAULT;  // "no such user / no grants"
    std::size_t max_entries = 10000;
    // Follow LDAP changes (RFC 4533 sync against slapd's syncprov, change_feed.h) and drop
    // cached answers when a grant, group or person changes, so a revocation is obeyed within
    // a second; ttl_s stays the backstop. A server without syncprov: one log line, TTL only.
    bool follow_changes = true;
    // While changes are followed, answers (positive and negative) are kept this long
    // instead of ttl_s / negative_ttl_s: the feed, not the TTL, keeps them fresh then. The
    // moment the feed is down, ttl_s bounds them again (cache.h, Expiry). 0 or less than
    // ttl_s = ttl_s. A change the feed does not carry (an entry outside its filter,
    // change_feed.h) is obeyed within this.
    int follow_ttl_s = MAILGRANT_CACHE_FOLLOW_TTL_S_DEFAULT;
};

enum class DeferAction { DeferIfPermit, Defer };
enum class UnauthenticatedMode { Dunno, RejectLocal };

// mailgrant-policyd (Postfix SMTP access policy delegation).
struct PolicyConfig {
    std::string listen = "unix:/var/spool/postfix/private/mailgrant";
    std::string socket_owner = "postfix";  // unix socket: owner, group and mode so smtpd can connect
    std::string socket_group = "postfix";
    int socket_mode = 0660;
    std::string user = "mailgrant";  // the daemon drops root to this (dedicated, system) user after binding
    std::string stats_listen;     // "" = off; unix:PATH or inet:HOST:PORT, Prometheus text
    std::string milter_listen;    // "" = off; header From: check for smtpd_milters (unix:PATH or inet:HOST:PORT)
    int workers = 8;              // concurrent LDAP lookups (one LDAP connection each)
    int io_threads = 2;           // event loops answering from the cache (about one per core)
    int max_connections = 1000;   // smtpd connections served at once
    int request_timeout_ms = 5000;  // a request never waits longer; then defer_action
    DeferAction defer_action = DeferAction::DeferIfPermit;
    std::string defer_text = "4.7.1 Sender check temporarily unavailable, please try again later";
    // {sender} and {login} are replaced (sanitised) in the REJECT text.
    std::string reject_text = "5.7.1 Sender address <{sender}> is not owned by or delegated to user {login}";
    UnauthenticatedMode unauthenticated = UnauthenticatedMode::Dunno;
    std::vector<std::string> local_domains;  // for unauthenticated: reject_local
    std::string instance_name = "mailgrant";  // first field of every log line
};

// The per-host decision service (DESIGN.md "One cache per host", service_protocol.h):
// mailgrant-policyd answers the Dovecot plugin's and checkpassword's questions from its
// one cache and LDAP pool, so LDAP connections per host do not grow with IMAP sessions.
struct ServiceConfig {
    // "" = off: every mail process asks LDAP itself. unix:/ABSOLUTE/PATH = policyd serves
    // there and the plugin and checkpassword ask it (and never LDAP, except SETACL writes).
    std::string listen;
    std::string socket_owner;           // "" = leave as created (root, or whoever runs policyd)
    std::string socket_group = "mailgrant";  // Dovecot's processes get this group (the drop-ins)
    int socket_mode = 0660;
    int workers = 8;       // policyd threads answering (each may wait on the LDAP pool)
    int timeout_ms = MAILGRANT_SERVICE_TIMEOUT_MS_DEFAULT;  // a question never waits longer: then shared access is denied
    // A mail process reuses an answer this long (a rights check runs several times per
    // IMAP command); a change reaches open sessions within this plus the sync delay.
    int memo_ms = MAILGRANT_SERVICE_MEMO_MS_DEFAULT;
};

// Attribute and class names, so a site can map grants onto attributes it already has.
struct SchemaConfig {
    std::string grant_object_class = "mailGrant";
    std::string shared_mailbox_object_class = "mailSharedMailbox";
    std::string grant_name = "cn";
    std::string grantee = "mailGrantee";
    std::string folder = "mailGrantFolder";
    std::string rights = "mailGrantRights";
    std::string send = "mailGrantSend";
    std::string not_before = "mailGrantNotBefore";
    std::string not_after = "mailGrantNotAfter";
    std::string pending = "mailGrantPending";  // TRUE = invited, not accepted: gives nothing
    // On a mailbox entry (mailSharedMailbox may carry it): TRUE/FALSE overrides
    // team_mailbox.sent_copy for that mailbox.
    std::string sent_copy = "mailSharedSentCopy";
};

// The admin CLI, `mailgrant` (issue 14).
struct CliConfig {
    // A delegated admin's configuration: `report` lists only mailboxes whose owner has this
    // person (login, address or DN) as manager, transitively. "" = every mailbox.
    std::string supervisor;
    std::string manager_attribute = "manager";  // inetOrgPerson (RFC 4524), a DN, multi-valued
    int manager_max_depth = 8;                  // levels of `manager` followed; cycle-safe
    // Dovecot's last_login plugin dictionary, as in its last_login_dict: "file:/PATH" is
    // read directly; any other dict URI through `doveadm dict iter`. "" = not wired.
    std::string last_login_dict;
    std::string last_login_key = "last-login/%u";  // Dovecot's last_login_key; %u = the login
    // Base of slapd's accesslog overlay database (e.g. "cn=accesslog"), read by `mailgrant
    // audit` with the read credentials; "" = not used (revocations are then not visible).
    std::string accesslog_base;
    // How `grant --notify` hands its message over when neither --smtp nor --sendmail is
    // given: a command reading the message on stdin, recipients from its headers.
    std::string sendmail = "/usr/sbin/sendmail -t -i";
};

// Sharing changed from mail clients (IMAP SETACL/DELETEACL, self_service.h).
struct SelfServiceConfig {
    // The LDAP group (its name as groups.name_filter finds it, without the "$") that a
    // share with RFC 4314's "anyone" / "authenticated" is written to, so LDAP still holds
    // it as an ordinary group grant (GETACL shows it as "$name"). "" = such shares are
    // refused with the reason.
    std::string anyone_group;
    std::string authenticated_group;
    // The rights letters a share from a mail client may give (RFC 4314 letters or a role
    // name; stored canonical, e.g. "lrswipkxte"). SETACL asking for another letter is
    // refused naming it; taking letters away is always allowed. Default: all of them.
    std::string allowed_rights = "lrswipkxtea";
};

// Team (shared) mailboxes (issue 17).
enum class SentCopyDefault { Shared, All, None };

struct TeamMailboxConfig {
    // Where `mailgrant mailbox create` puts a new shared mailbox entry; "" = users.base
    // (or ldap.base).
    std::string base;
    // The special-use folders every shared mailbox has, by their names as the mailbox sees
    // them: created when first needed, advertised with SPECIAL-USE in the shared namespace,
    // and the Sent folder is where sent copies are filed.
    std::string drafts = "Drafts";
    std::string sent = "Sent";
    std::string trash = "Trash";
    std::string junk = "Junk";
    // Which mailboxes get a server-side copy, in their Sent folder, of mail sent as them
    // (sendAs or sendOnBehalf) by someone else, unless the mailbox entry's
    // schema.sent_copy attribute says otherwise: shared = mailSharedMailbox entries only.
    SentCopyDefault sent_copy = SentCopyDefault::Shared;
    // The reserved domain that routes a sent copy: the milter adds the envelope recipient
    // "<mailbox address>"@<this>, which Postfix's transport_maps hands to Dovecot's LDA
    // for the mailbox's Sent folder (README "Team mailboxes: sent copies"), and the policy
    // check refuses it from every client. "" = no sent copies at all: a copy must never
    // be added before Postfix knows where to deliver it (it would bounce).
    std::string sent_copy_domain;
};

// Invitations: grants with schema.pending TRUE (`mailgrant grant --invite`, issue 13).
struct InvitationsConfig {
    // How long an invitation can be accepted, counted from the grant entry's
    // createTimestamp; after that `mailgrant accept` refuses it and `check` reports it.
    // YAML: "14d" (also s, m, h, w; a bare number is days); 0 = never expires.
    long long expire_after_s = 14LL * 86400;
};

// The notices `grant --notify`, `revoke --notify` and `notify-expiring` mail (issue 13).
enum class SmtpTlsMode { None, StartTls, Required };

struct NotifyConfig {
    std::string webmail_url;  // Roundcube, e.g. https://mail.example.com/roundcube/; "" = no links
    // Site copies of cli/notices/<lang>/<kind>.{txt,html}, used file by file before the
    // shipped ones in /usr/share/mailgrant/notices.
    std::string templates_dir = "/etc/mailgrant/notices";
    std::string default_language = "en";  // when no preferredLanguage fits a shipped one
    std::string from;                     // sender address; "" = postmaster@<mailbox domain>
    // "" = hand the message to cli.sendmail; else smtp://host:port or smtps://host:port
    std::string smtp;
    SmtpTlsMode smtp_tls = SmtpTlsMode::StartTls;  // none | starttls (when offered) | required
    std::string smtp_user;                // "" = no AUTH
    std::string smtp_password_file;
    int smtp_timeout_s = 30;              // the whole SMTP transfer (connect: at most 10 s)
};

struct Config {
    LdapConfig ldap;
    UsersConfig users;
    GroupsConfig groups;
    CacheConfig cache;
    PolicyConfig policy;
    ServiceConfig service;
    SchemaConfig schema;
    CliConfig cli;
    SelfServiceConfig self_service;
    TeamMailboxConfig team_mailbox;
    InvitationsConfig invitations;
    NotifyConfig notify;

    const std::string& users_base() const { return users.base.empty() ? ldap.base : users.base; }
    const std::string& groups_base() const { return groups.base.empty() ? ldap.base : groups.base; }
};

// Reads and validates a YAML file. Throws ConfigError naming file, line and key.
// Where every component looks when not told otherwise (-c PATH, mailgrant_config).
inline constexpr const char* kDefaultConfigPath = "/etc/mailgrant/mailgrant.yaml";

Config load_config(const std::string& path);
// Same, from text (name is used in messages). For tests and tools.
Config parse_config(const std::string& yaml_text, const std::string& name = "<config>");

// Reads the bind password file: first line, trailing CR/LF removed. Throws ConfigError.
std::string read_secret_file(const std::string& path);

}  // namespace mailgrant
