// preflight.h -- `mailgrant-policyd --check-config`: what the running daemon will need,
// checked before it is started (systemd's ExecStartPre runs it as root).
//
// A configuration can parse and still not run: policy.user missing, or unable to read
// the configuration it re-reads on SIGHUP; a socket directory that does not exist; a unix
// socket outside Postfix's queue directory, which Debian's chrooted smtpd cannot reach.
// Each finding is one line naming the key; errors make the check fail, warnings do not.
#pragma once

#include <string>
#include <vector>

#include "mailgrant/config.h"

namespace mailgrant::policy {

struct Finding {
    bool error = false;  // false: a warning (the daemon would start, but something is off)
    std::string text;
};

// `queue_directory` is Postfix's (from `postconf -h queue_directory`; "" = unknown, the
// chroot check is then skipped). Must run as root to test policy.user's access for real.
std::vector<Finding> preflight(const Config& config, const std::string& config_path, const std::string& milter_address,
                               const std::string& queue_directory);

// `postconf -h queue_directory`, or "" when Postfix is not installed here.
std::string postfix_queue_directory();

}  // namespace mailgrant::policy
