// namespace_wire.cpp -- see shared_namespace.h: what a mail process does with a namespace
// answer (read it from the wire, a folder's rights from its patterns, the memo). No
// directory code, so the plugin's service-mode core (libmailgrant_core.so) links no LDAP.
#include "mailgrant/shared_namespace.h"

#include <string>
#include <utility>
#include <vector>

#include "mailgrant/folder_match.h"

namespace mailgrant {

namespace {

Rights letters_or_throw(const std::string& text) {
    if (text.empty()) return Rights::none();
    const auto rights = Rights::from_letters(text);
    if (!rights) throw ProtocolError("namespace answer: '" + text + "' are not rights letters");
    return *rights;
}

}  // namespace

std::string folder_letters(const SharedMailbox& mailbox, const std::string& folder) {
    // folder_match.c's union, the one the plugin's C client applies to the same answer.
    std::vector<std::string> letters;
    std::vector<const char*> pattern_ptrs, letter_ptrs;
    letters.reserve(mailbox.patterns.size());
    for (const auto& [pattern, given] : mailbox.patterns) {
        letters.push_back(given.letters());
        pattern_ptrs.push_back(pattern.c_str());
        letter_ptrs.push_back(letters.back().c_str());
    }
    char out[sizeof(MAILGRANT_RIGHTS_LETTERS)];
    mailgrant_folder_letters(pattern_ptrs.data(), letter_ptrs.data(), pattern_ptrs.size(), folder.c_str(), out);
    return out;
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
