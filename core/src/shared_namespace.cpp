// shared_namespace.cpp -- see shared_namespace.h.
#include "mailgrant/shared_namespace.h"

#include <utility>

#include "mailgrant/folder_pattern.h"

namespace mailgrant {

namespace {

Rights letters_or_throw(const std::string& text) {
    if (text.empty()) return Rights::none();
    const auto rights = Rights::from_letters(text);
    if (!rights) throw ProtocolError("namespace answer: '" + text + "' are not rights letters");
    return *rights;
}

}  // namespace

std::vector<SharedMailbox> shared_namespace(const std::string& login, Decider& decider, TeamMailboxes& team) {
    std::vector<SharedMailbox> out;
    for (auto& owner : decider.sharing_with(login)) {
        if (owner.owner.addresses.empty()) continue;  // as the "owners" answer: no name to open it by
        SharedMailbox mailbox;
        mailbox.address = owner.owner.primary_address();
        mailbox.patterns = std::move(owner.folder_patterns);
        // The same decisions the per-mailbox questions give ("root", "team"); sharing_with
        // has cached the login's grants, so these read nothing more from LDAP.
        const TopLevelDecision top = team.top_level(login, mailbox.address);
        mailbox.root_rights = top.owner ? Rights::none() : top.root_rights;
        mailbox.root_reason = top.reason;
        TeamFoldersDecision folders = team.folders_for(login, mailbox.address);
        mailbox.team = folders.team;
        mailbox.team_reason = std::move(folders.reason);
        if (folders.team) mailbox.team_folders = std::move(folders.folders);
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
// mailbox "pattern" PATTERN LETTERS and "folder" NAME SPECIAL-USE lines.
void add_namespace_items(const std::vector<SharedMailbox>& mailboxes, ServiceReply& reply) {
    for (const auto& m : mailboxes) {
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
        } else if (out.empty() && (kind == "pattern" || kind == "folder")) {
            throw ProtocolError("namespace answer: a " + kind + " before any mailbox");
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
