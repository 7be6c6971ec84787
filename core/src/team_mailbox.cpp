// team_mailbox.cpp -- team mailboxes' special-use folders and top-level folder creation
// (see team_mailbox.h). Built on the Decider's answers, so the grants, groups and
// validity windows are read exactly as for every other folder right.
#include "mailgrant/team_mailbox.h"

#include <algorithm>
#include <utility>

namespace mailgrant {

std::vector<SpecialFolder> team_special_folders(const TeamMailboxConfig& config) {
    // config.cpp has checked the names: one folder each, not empty, no wildcards. A folder
    // named twice (junk: Trash) is one folder with both flags (RFC 6154 allows several).
    const std::pair<const std::string*, const char*> named[] = {
        {&config.drafts, "\\Drafts"}, {&config.sent, "\\Sent"}, {&config.trash, "\\Trash"}, {&config.junk, "\\Junk"}};
    std::vector<SpecialFolder> out;
    for (const auto& entry : named) {  // not a structured binding: C++17 lambdas cannot capture one (clang)
        const std::string& name = *entry.first;
        const char* flag = entry.second;
        auto same = std::find_if(out.begin(), out.end(), [&](const SpecialFolder& f) { return f.name == name; });
        if (same == out.end())
            out.push_back({name, flag});
        else
            same->special_use += std::string(" ") + flag;
    }
    return out;
}

bool pattern_covers_every_folder(std::string_view pattern) {
    return !pattern.empty() && pattern.find_first_not_of('*') == std::string_view::npos;
}

TopLevelDecision TeamMailboxes::top_level(const std::string& login, const std::string& mailbox) {
    TopLevelDecision decision;
    // A name no folder can have (RFC 3501 forbids '*' in names): the grants whose
    // patterns match it are the candidates for covering every folder.
    const FolderDecision probe = decider_.folder_rights(login, mailbox, "*");
    const std::string where = "top-level folders in " + mailbox;
    if (probe.owner) {
        decision.owner = true;
        decision.reason = "'" + login + "' owns " + mailbox + ": Dovecot decides";
        return decision;
    }
    if (probe.applied.empty()) {
        // An unknown login or mailbox keeps the Decider's words; "no grant gives access
        // to '*'" would name the probe, so say what is missing instead.
        const bool no_grant = probe.reason.rfind("no valid grant", 0) == 0;
        decision.reason = "'" + login + "' may not create " + where + ": " +
                          (no_grant ? std::string("no valid grant of theirs covers every folder ('*')") : probe.reason) +
                          " (creating one needs a grant on every folder, '*', with the k right)";
        return decision;
    }
    // The grants the probe applied, from the same batched question the probe asked (a
    // cache hit, and derived from the login's namespace when that was read): no read of
    // every grant of the mailbox.
    const auto account = directory_.find_login(login);
    const std::vector<Grant> grants =  // no account (gone since the probe): nothing covers, fail safe
        account ? directory_.groups_and_grants_for(*account, probe.applied.front().path.owner_dn).grants
                : std::vector<Grant>{};
    std::string without_k;
    for (const AppliedGrant& applied : probe.applied) {
        bool covers = false;
        for (const Grant& grant : grants)
            if (grant.dn == applied.path.grant_dn)
                for (const std::string& pattern : grant.folders) covers = covers || pattern_covers_every_folder(pattern);
        if (!covers) continue;
        if (!applied.rights.has('k')) {
            if (without_k.empty())
                without_k = applied.path.describe() + " covers every folder but gives only " + applied.rights.letters();
            continue;
        }
        decision.may_create = true;
        decision.root_rights = *Rights::from_letters("k");
        decision.reason = "'" + login + "' may create " + where + ": " + applied.path.describe() +
                          " covers every folder ('*') with rights " + applied.rights.letters();
        return decision;
    }
    decision.reason = "'" + login + "' may not create " + where + ": " +
                      (without_k.empty() ? "no valid grant of theirs covers every folder ('*')" : without_k) +
                      " (creating one needs a grant on every folder, '*', with the k right)";
    return decision;
}

TeamFoldersDecision TeamMailboxes::folders_for(const std::string& login, const std::string& mailbox) {
    TeamFoldersDecision decision;
    const auto owner = directory_.find_mailbox(mailbox);
    if (!owner) {
        decision.reason = "no mailbox '" + mailbox + "' in LDAP";
        return decision;
    }
    if (!owner->shared_mailbox) {
        decision.reason = mailbox + " is not a shared mailbox: its folders are its owner's to make";
        return decision;
    }
    if (!decider_.may_open_mailbox(login, mailbox)) {
        decision.reason = "'" + login + "' holds no valid folder grant on " + mailbox;
        return decision;
    }
    decision.team = true;
    decision.folders = team_special_folders(config_);
    decision.reason = mailbox + " is a shared mailbox and '" + login + "' holds a grant on it";
    return decision;
}

}  // namespace mailgrant
