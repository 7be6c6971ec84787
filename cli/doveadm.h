// doveadm.h -- what the CLI asks Dovecot: mailbox sizes and unread counts (`report`),
// the folder list of a user (`check`: folder patterns that match nothing) and the entries
// of a folder's local ACL file (`check`: shares made with `doveadm acl`, outside LDAP).
// The command is
// configurable (--doveadm "doveadm -c /path/dovecot.conf"); when it cannot run, callers
// show "-" instead of numbers. Output parsing is pure and unit-tested.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mailgrant::cli {

struct MailboxStatus {
    unsigned long long messages = 0;
    unsigned long long unseen = 0;
    unsigned long long vsize = 0;
};

// Sums the lines of `doveadm -f flow mailbox status -u USER 'messages unseen vsize' '*'`
// ("INBOX messages=3 unseen=1 vsize=1234"; the name may contain spaces). nullopt when no line parses.
std::optional<MailboxStatus> parse_status_flow(const std::string& output);

// Folder names from `doveadm mailbox list -u USER` (one per line).
std::vector<std::string> parse_mailbox_list(const std::string& output);

// One entry of a local ACL file (Dovecot's vfile backend), as `doveadm acl get` shows it.
struct LocalAclEntry {
    std::string identifier;  // "user=dave@example.com", "group=staff", "anyone", ...
    std::string rights;      // RFC 4314 letters in canonical order ("lr"); unknown right names follow
    bool global = false;     // from the global ACL file, not the folder's own
};

// Rows of `doveadm -f tab acl get` ("ID<TAB>Global<TAB>Rights" header, then
// "user=dave@example.com<TAB><TAB>lookup read"). Rows that do not parse are skipped.
std::vector<LocalAclEntry> parse_acl_get_tab(const std::string& output);

// Folders of `mailbox list` that are another user's, seen through a shared namespace
// ("shared/alice@example.com/Projects", and its containers "shared" and
// "shared/alice@example.com"): a path segment after the first names a mailbox (is_mailbox).
std::vector<std::string> own_folders(const std::vector<std::string>& listed,
                                     const std::function<bool(const std::string&)>& is_mailbox);

class Doveadm {
public:
    explicit Doveadm(std::string command, int timeout_ms = 10000);
    // False when no command is set, or once doveadm could not be started or hung (then
    // every later call is skipped instead of waiting for its timeout again).
    bool configured() const { return !argv_.empty() && !broken_; }
    std::optional<MailboxStatus> status(const std::string& user, std::string* error = nullptr) const;
    std::optional<std::vector<std::string>> folders(const std::string& user, std::string* error = nullptr) const;
    // The local ACL file entries of one folder: `acl get` with only the acl plugin
    // loaded (-o mail_plugins=acl), so rights that mailgrant's plugin derives from LDAP
    // are not mixed in.
    std::optional<std::vector<LocalAclEntry>> local_acl(const std::string& user, const std::string& folder,
                                                        std::string* error = nullptr) const;
    // CMD ARGS...: its stdout, or nullopt (error says why). For `dict iter` (last_login.h).
    std::optional<std::string> run(const std::vector<std::string>& args, std::string* error = nullptr) const;

private:
    std::vector<std::string> argv_;
    int timeout_ms_;
    mutable bool broken_ = false;
};

}  // namespace mailgrant::cli
