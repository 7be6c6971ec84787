// decision.h -- the one place that decides access, shared by the Dovecot plugin, the
// policy daemon and the CLI's `explain`, so the three can never disagree.
//
// Every answer carries its reasons: which grant, through which group path, which folder
// pattern, and for grants that exist but do not apply, why not. The Decider asks a
// Directory (normally a CachingDirectory) and evaluates validity windows on its Clock.
// LDAP trouble propagates as LdapError: the caller must treat it as "no access" / 4xx.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mailgrant/clock.h"
#include "mailgrant/directory.h"
#include "mailgrant/rights.h"

namespace mailgrant {

// Why a grant reaches a user: directly (group_path empty) or through groups.
struct GrantPath {
    std::string grant_dn;
    std::string grant_name;
    std::string owner_dn;
    std::string grantee_dn;               // the mailGrantee value that matched
    std::vector<std::string> group_path;  // user's direct group ... grantee group

    std::string describe() const;  // "grant team (cn=team,...) via cn=support-leads,... -> cn=support-team,..."
};

struct AppliedGrant {
    GrantPath path;
    std::string folder_pattern;
    Rights rights;
};

struct FolderDecision {
    bool owner = false;  // the user's own mailbox: mailgrant adds nothing, Dovecot decides
    Rights rights;       // union of every applied grant (all rights for an owner)
    std::vector<AppliedGrant> applied;
    std::vector<std::string> not_applied;  // grants seen that give nothing here, and why
    std::string reason;                    // one line for logs and `explain`
};

enum class SenderRight { NullSender, Own, SendAs, SendOnBehalf, Denied };
const char* to_string(SenderRight right);

struct SenderDecision {
    SenderRight right = SenderRight::Denied;
    std::optional<GrantPath> via;  // set for SendAs / SendOnBehalf
    std::string mailbox_dn;        // the mailbox that owns the address, when known
    std::vector<std::string> not_applied;
    std::string reason;  // one line for logs, REJECT texts and `explain`
    // When a validity window of a grant considered opens or closes next (the answer may
    // change then without any change in LDAP); empty = none ahead.
    std::optional<std::time_t> changes_at;

    bool allowed() const { return right != SenderRight::Denied; }
};

// A mailbox that grants something to the user (for the shared namespace).
struct SharingOwner {
    Account owner;
    std::vector<AppliedGrant> grants;  // active grants, folder_pattern empty
    // Every folder pattern of those grants with that grant's rights: folder_rights() of
    // this owner for any folder is the union of the rights whose pattern matches it.
    std::vector<std::pair<std::string, Rights>> folder_patterns;
};

// Someone a mailbox's active grants name (GETACL, `mailgrant report`): one per
// mailGrantee value, with what all of that grantee's grants give together.
struct Grantee {
    std::string dn;                 // the mailGrantee value as first seen
    std::optional<Account> person;  // the mailbox the DN names; empty for a group (or a dangling DN)
    std::string name;               // person: primary address; otherwise the DN's first RDN value
    bool folder_access = false;     // some grant gives folder rights (on the folder asked about)
    Rights rights;                  // their union
    bool send_as = false;
    bool send_on_behalf = false;
    std::vector<std::string> grants;  // names of the grants, in name order

    bool is_group() const { return !person; }
};

class Decider {
public:
    Decider(Directory& directory, const Clock& clock) : directory_(directory), clock_(clock) {}

    // Rights of `login` on `folder` of the mailbox named by `mailbox` (address or DN).
    FolderDecision folder_rights(const std::string& login, const std::string& mailbox, const std::string& folder);

    // May `login` use `address` as envelope/header sender, and as what?
    SenderDecision sender(const std::string& login, const std::string& address);

    // Owners with at least one active grant to the user or one of the user's groups.
    // `changes_at`, when given, receives the first second after now at which one of the
    // login's grants starts or stops being valid (nullopt: none will): what an answer
    // built from this one is worth at most (Answers remembers namespaces until then).
    std::vector<SharingOwner> sharing_with(const std::string& login,
                                           std::optional<std::time_t>* changes_at = nullptr);

    // Does `mailbox` (address or DN) give `login` folder access by an active grant, as
    // sharing_with() would list it? Decides per-collaborator (MAILBOX*GRANTEE) logins.
    bool may_open_mailbox(const std::string& login, const std::string& mailbox);

    // Everyone the active grants of `mailbox` (address or DN) name, in the name order of
    // the grants. Folder rights count from grants covering `folder`; with no folder, from
    // every grant that opens at least one folder. Send rights count from every active
    // grant. An unknown mailbox has no grantees; pending and expired grants name no one.
    std::vector<Grantee> grantees_of(const std::string& mailbox, const std::optional<std::string>& folder = {});

private:
    struct Identity {
        Account account;
        std::vector<GroupMembership> groups;
    };
    // The account's groups, and into `grants` the grants naming it or one of them: below
    // `mailbox_dn`, or anywhere when empty (Directory::groups_and_grants).
    Identity with_grants(const Account& account, const std::string& mailbox_dn, std::vector<Grant>& grants);
    std::optional<GrantPath> reaches(const Grant& grant, const Identity& who) const;
    // An active grant with usable rights on at least one folder.
    static bool opens_folders(const Grant& grant, std::time_t now);

    Directory& directory_;
    const Clock& clock_;
};

}  // namespace mailgrant
