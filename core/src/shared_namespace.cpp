// shared_namespace.cpp -- see shared_namespace.h.
#include "mailgrant/shared_namespace.h"

#include <map>
#include <optional>
#include <utility>

#include "mailgrant/bad_input.h"
#include "mailgrant/dn.h"
#include "mailgrant/folder_pattern.h"
#include "mailgrant/ldap_error.h"

namespace mailgrant {

namespace {

Rights letters_or_throw(const std::string& text) {
    if (text.empty()) return Rights::none();
    const auto rights = Rights::from_letters(text);
    if (!rights) throw ProtocolError("namespace answer: '" + text + "' are not rights letters");
    return *rights;
}

}  // namespace

std::vector<SharedMailbox> shared_namespace(const std::string& login, Directory& directory, Decider& decider,
                                            TeamMailboxes& team) {
    std::vector<SharedMailbox> out;
    auto owners = decider.sharing_with(login);
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

std::string folder_letters(const SharedMailbox& mailbox, const std::string& folder) {
    Rights rights;
    for (const auto& [pattern, given] : mailbox.patterns)
        if (folder_matches(pattern, folder)) rights |= given;
    return rights.letters();
}

// Items: "mailbox" ADDRESS ROOT-LETTERS ROOT-REASON TEAM(0|1) TEAM-REASON, then for that
// mailbox "pattern" PATTERN LETTERS and "folder" NAME SPECIAL-USE lines; an unanswered
// mailbox is one "owner" ADDRESS line.
void add_namespace_items(const std::vector<SharedMailbox>& mailboxes, ServiceReply& reply) {
    for (const auto& m : mailboxes) {
        if (!m.answered) {
            reply.items.push_back({"owner", m.address});
            continue;
        }
        reply.items.push_back({"mailbox", m.address, m.root_rights.letters(), m.root_reason, m.team ? "1" : "0", m.team_reason});
        for (const auto& [pattern, rights] : m.patterns) reply.items.push_back({"pattern", pattern, rights.letters()});
        for (const auto& folder : m.team_folders) reply.items.push_back({"folder", folder.name, folder.special_use});
    }
}

std::vector<SharedMailbox> namespace_from(const ServiceReply& reply) {
    std::vector<SharedMailbox> out;
    for (const auto& item : reply.items) {
        const std::string kind = item.empty() ? std::string() : item[0];
        if (kind == "mailbox" && item.size() == 6) {
            if (item[1].empty()) throw ProtocolError("namespace answer: a mailbox without an address");
            if (item[4] != "0" && item[4] != "1") throw ProtocolError("namespace answer: team is neither 0 nor 1");
            SharedMailbox m;
            m.address = item[1];
            m.root_rights = letters_or_throw(item[2]);
            m.root_reason = item[3];
            m.team = item[4] == "1";
            m.team_reason = item[5];
            out.push_back(std::move(m));
        } else if (kind == "owner" && item.size() == 2) {
            if (item[1].empty()) throw ProtocolError("namespace answer: an owner without an address");
            SharedMailbox m;
            m.address = item[1];
            m.answered = false;
            out.push_back(std::move(m));
        } else if ((out.empty() || !out.back().answered) && (kind == "pattern" || kind == "folder")) {
            throw ProtocolError("namespace answer: a " + kind + " before any answered mailbox");
        } else if (kind == "pattern" && item.size() == 3) {
            out.back().patterns.emplace_back(item[1], letters_or_throw(item[2]));
        } else if (kind == "folder" && item.size() == 3) {
            if (!out.back().team) throw ProtocolError("namespace answer: a team folder of a mailbox that is no team's");
            out.back().team_folders.push_back({item[1], item[2]});
        } else {
            throw ProtocolError("namespace answer: an item of kind '" + kind.substr(0, 32) + "' with " +
                                std::to_string(item.size()) + " fields");
        }
    }
    return out;
}

void NamespaceMemo::put(const std::string& login, std::vector<SharedMailbox> mailboxes, Clock::time_point now) {
    if (keep_for_.count() <= 0) return;
    if (namespaces_.size() >= kMaxLogins && !namespaces_.count(login)) namespaces_.clear();
    Entry entry{now, {}};
    for (auto& m : mailboxes) {
        if (!m.answered) continue;
        std::string address = m.address;
        entry.by_address.emplace(std::move(address), std::move(m));
    }
    namespaces_[login] = std::move(entry);
}

const SharedMailbox* NamespaceMemo::find(const std::string& login, const std::string& address,
                                         Clock::time_point now) const {
    const auto it = namespaces_.find(login);
    if (it == namespaces_.end() || now - it->second.at >= keep_for_ || now < it->second.at) return nullptr;
    const auto found = it->second.by_address.find(address);
    return found == it->second.by_address.end() ? nullptr : &found->second;
}

bool NamespaceMemo::listed(const std::string& login, const std::string& address) const {
    const auto it = namespaces_.find(login);
    return it != namespaces_.end() && it->second.by_address.count(address) > 0;
}

}  // namespace mailgrant
