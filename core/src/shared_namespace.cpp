// shared_namespace.cpp -- see shared_namespace.h: the namespace answer computed from the
// directory (the wire format, folder_letters and the memo: namespace_wire.cpp).
#include "mailgrant/shared_namespace.h"

#include <map>
#include <optional>
#include <utility>

#include "mailgrant/bad_input.h"
#include "mailgrant/dn.h"
#include "mailgrant/ldap_error.h"

namespace mailgrant {

std::vector<SharedMailbox> shared_namespace(const std::string& login, Directory& directory, Decider& decider,
                                            TeamMailboxes& team, std::optional<std::time_t>* changes_at) {
    std::vector<SharedMailbox> out;
    auto owners = decider.sharing_with(login, changes_at);
    // What each owner's address finds, for all owners in a fixed number of searches (a
    // cache keeps the answers for the per-mailbox questions below, and for later ones).
    std::map<std::string, std::optional<Account>> by_address;
    {
        std::vector<Account> accounts;
        for (const auto& owner : owners)
            if (!owner.owner.addresses.empty()) accounts.push_back(owner.owner);
        try {
            for (auto& [address, answer] : directory.mailboxes_by_address(accounts))
                by_address.emplace(ascii_lower(address), std::move(answer));
        } catch (const LdapError& e) {
            if (e.kind() != LdapErrorKind::Other) throw;  // LDAP down: the whole answer is temporary
        }  // else each owner's own search below says what is wrong
    }
    for (auto& owner : owners) {
        if (owner.owner.addresses.empty()) continue;  // as the "owners" answer: no name to open it by
        SharedMailbox mailbox;
        mailbox.address = owner.owner.primary_address();
        try {
            // The per-mailbox questions find the mailbox by this address (find_mailbox:
            // users base, one entry only). The patterns below are this owner's grants:
            // they answer for the address only when it finds this same owner -- not an
            // archived entry's old address that a live mailbox now has.
            const auto settled = by_address.find(ascii_lower(mailbox.address));
            const auto found = settled != by_address.end() ? settled->second : directory.find_mailbox(mailbox.address);
            if (found && normalize_dn(found->dn) == normalize_dn(owner.owner.dn)) {
                // The same decisions the per-mailbox questions give ("root", "team");
                // sharing_with has cached the login's grants, so these read nothing more
                // from LDAP for owners in the users base.
                const TopLevelDecision top = team.top_level(login, mailbox.address);
                TeamFoldersDecision folders = team.folders_for(login, mailbox.address);
                mailbox.patterns = std::move(owner.folder_patterns);
                mailbox.root_rights = top.root_rights;
                mailbox.root_reason = top.reason;
                mailbox.team = folders.team;
                mailbox.team_reason = std::move(folders.reason);
                if (folders.team) mailbox.team_folders = std::move(folders.folders);
            } else {
                mailbox.answered = false;
            }
        } catch (const BadInput&) {
            mailbox.answered = false;  // this mailbox's data only: its own questions say why
        } catch (const LdapError& e) {
            if (e.kind() != LdapErrorKind::Other) throw;  // LDAP down: the whole answer is temporary
            mailbox.answered = false;  // e.g. an address two entries share: refused per mailbox
        }
        out.push_back(std::move(mailbox));
    }
    return out;
}

}  // namespace mailgrant
