// team_mailbox.h -- what a team (shared) mailbox has beyond ordinary grants (issue 17):
// the special-use folders every mailSharedMailbox has (config team_mailbox: which names,
// which RFC 6154 flags), and whether a grantee may add folders at its top level.
//
// Dovecot's ACL plugin checks the CREATE right (k) on a new folder's parent; for a
// top-level folder the parent is the namespace root, which no folder pattern names. The
// decision here gives the root "k" exactly when a valid grant covers EVERY folder of the
// mailbox (a pattern of '*' only) with k: such a grantee already has k on every existing
// folder, so the root (also Dovecot's fallback for folders without ACL entries) adds
// nothing the grant does not already give anywhere in the mailbox. Deleting a top-level
// folder needs x on the folder itself, which that grant gives through its pattern.
// The Dovecot plugin translates these answers (dovecot-plugin/mailgrant-team.c); every
// decision is made here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mailgrant/config.h"
#include "mailgrant/decision.h"
#include "mailgrant/directory.h"
#include "mailgrant/rights.h"

namespace mailgrant {

// One special-use folder: its name as the mailbox sees it and its RFC 6154 flag.
struct SpecialFolder {
    std::string name;         // "Drafts"
    std::string special_use;  // "\\Drafts"; "\\Trash \\Junk" for a folder configured twice
};

// The special-use folders of every team mailbox, in the order drafts, sent, trash, junk;
// a name given for two of them is one folder with both flags.
std::vector<SpecialFolder> team_special_folders(const TeamMailboxConfig& config);

// True when a mailGrantFolder pattern covers every folder at every depth ("*", "**"):
// a grant with it may extend the mailbox's folder tree at the top.
bool pattern_covers_every_folder(std::string_view pattern);

// May `login` create folders at the top level of `mailbox` (the namespace root's rights)?
struct TopLevelDecision {
    bool owner = false;       // the login's own mailbox: Dovecot decides, mailgrant adds nothing
    bool may_create = false;  // root_rights has k
    Rights root_rights;       // what the plugin adds to the root ("k" or none)
    std::string reason;       // one line for the log
};

// Is `mailbox` a team mailbox whose special-use folders `login` should find?
struct TeamFoldersDecision {
    bool team = false;  // a mailSharedMailbox and `login` holds an active folder grant on it
    std::vector<SpecialFolder> folders;  // empty unless team
    std::string reason;
};

class TeamMailboxes {
public:
    TeamMailboxes(const TeamMailboxConfig& config, Directory& directory, Decider& decider)
        : config_(config), directory_(directory), decider_(decider) {}

    TopLevelDecision top_level(const std::string& login, const std::string& mailbox);
    TeamFoldersDecision folders_for(const std::string& login, const std::string& mailbox);

private:
    const TeamMailboxConfig& config_;
    Directory& directory_;
    Decider& decider_;
};

}  // namespace mailgrant
