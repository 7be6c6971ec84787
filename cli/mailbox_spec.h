// mailbox_spec.h -- the pure half of `mailgrant mailbox ...` (cmd_mailbox.cpp): which
// sub-command and options were given, checked before anything is read or written (a
// typo never half-creates a mailbox), and what a new shared mailbox becomes in LDAP (the
// entry's shape: the one the demo's support@ has) and in Dovecot (the doveadm command
// creating its special-use folders). No I/O here: unit-tested in
// tests/cli/test_cli_mailbox_units.cpp.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "args.h"
#include "ldif.h"
#include "mailgrant/config.h"

namespace mailgrant::cli {

// --sent-copy: yes / no write schema.sent_copy TRUE / FALSE; default (set only) removes
// it, so team_mailbox.sent_copy decides.
enum class SentCopyChoice { Unset, Yes, No, Default };

struct MailboxCommand {
    enum class Kind { Create, Delete, Set, List };
    Kind kind = Kind::List;
    std::string address;                // create, delete, set
    std::string name;                   // create (required), set (optional)
    std::vector<std::string> aliases;   // create
    std::vector<std::string> grantees;  // create --grant (as given: address, login, group, $group, DN)
    std::optional<std::string> role;    // create --rights/--role when it is a role name
    std::optional<std::string> letters; // create --rights when it is RFC 4314 letters
    bool send_as = false;
    bool send_on_behalf = false;
    SentCopyChoice sent_copy = SentCopyChoice::Unset;
    std::optional<std::string> doveadm;  // create, delete: --doveadm CMD
    bool force = false;                  // delete
    bool ldif = false;
    ParsedArgs args;                     // for the write options (--bind-dn, ...)
};

// Most aliases and grantees one create takes (each is looked up before any write).
constexpr std::size_t kMaxMailboxAliases = 20;
constexpr std::size_t kMaxMailboxGrantees = 100;
// Longest display name accepted (a name, not a document).
constexpr std::size_t kMaxMailboxNameLength = 256;

// `mailbox SUB ARGS...` -> the command. Throws UsageError naming what is wrong.
MailboxCommand parse_mailbox_command(const std::vector<std::string>& args);

// "yes"/"no" (and "default" when allowed) -> the choice. Throws UsageError.
SentCopyChoice parse_sent_copy(const std::string& text, bool allow_default);

// A new mailbox's address: local@domain, no spaces or control characters, not a DN.
// Returns the reason it is unusable, "" when fine.
std::string address_problem(const std::string& address);

// The base a new shared mailbox goes below: team_mailbox.base, else users.base / ldap.base.
std::string shared_mailbox_base(const Config& config);
// uid=<local part>,<base>, RFC 4514-escaped.
std::string shared_mailbox_dn(const std::string& address, const Config& config);

// The LDAP add for a new shared mailbox: inetOrgPerson + mailSharedMailbox (+
// inetLocalMailRecipient for aliases in mailLocalAddress), uid, cn, sn, displayName,
// mail, aliases, the sent-copy switch when chosen, and no password: it is reached
// through grants only. Throws UsageError for aliases when users.alias_attributes is empty.
Change shared_mailbox_add(const MailboxCommand& cmd, const Config& config);

// The special-use folders (team_mailbox.drafts/sent/trash/junk), in that order, without
// empty names or repeats.
std::vector<std::string> special_use_folders(const TeamMailboxConfig& team);
// Arguments after the doveadm command: mailbox create -s -u ADDRESS FOLDER...
std::vector<std::string> folder_create_args(const std::string& address, const TeamMailboxConfig& team);
// The same as one shell line to copy and paste ("doveadm mailbox create ..."), every
// argument with a space or shell character single-quoted.
std::string folder_create_command(const std::string& address, const TeamMailboxConfig& team);

// `mailbox set`: displayName and/or the sent-copy switch (Default: the attribute goes).
Change shared_mailbox_modify(const std::string& dn, const MailboxCommand& cmd, const Config& config);

}  // namespace mailgrant::cli
