// doveadm.h -- what the CLI asks Dovecot: mailbox sizes and unread counts (`report`) and
// the folder list of a user (`check`: folder patterns that match nothing). The command is
// configurable (--doveadm "doveadm -c /path/dovecot.conf"); when it cannot run, callers
// show "-" instead of numbers. Output parsing is pure and unit-tested.
#pragma once

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

class Doveadm {
public:
    explicit Doveadm(std::string command, int timeout_ms = 10000);
    // False when no command is set, or once doveadm could not be started or hung (then
    // every later call is skipped instead of waiting for its timeout again).
    bool configured() const { return !argv_.empty() && !broken_; }
    std::optional<MailboxStatus> status(const std::string& user, std::string* error = nullptr) const;
    std::optional<std::vector<std::string>> folders(const std::string& user, std::string* error = nullptr) const;
    // CMD ARGS...: its stdout, or nullopt (error says why). For `dict iter` (last_login.h).
    std::optional<std::string> run(const std::vector<std::string>& args, std::string* error = nullptr) const;

private:
    std::vector<std::string> argv_;
    int timeout_ms_;
    mutable bool broken_ = false;
};

}  // namespace mailgrant::cli
