// sent_copy.cpp -- see sent_copy.h.
#include "mailgrant/sent_copy.h"

#include <set>

#include "mailgrant/dn.h"

namespace mailgrant {
namespace {

constexpr std::size_t kMaxPathLength = 254;  // RFC 5321 4.5.3.1.3: 256 with the angle brackets

// RFC 5322 atext: what a local part may hold unquoted. A quoted local part would reach
// Dovecot's LDA (-d) without its quotes, so it is not routed at all.
bool atext(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    for (char ok : std::string("!#$%&'*+-/=?^_`{|}~"))
        if (c == ok) return true;
    return false;
}

bool dot_atom(const std::string& text) {
    if (text.empty() || text.front() == '.' || text.back() == '.') return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '.') {
            if (text[i + 1] == '.') return false;
        } else if (!atext(text[i])) {
            return false;
        }
    }
    return true;
}

const char* default_name(SentCopyDefault d) {
    switch (d) {
        case SentCopyDefault::Shared: return "shared";
        case SentCopyDefault::All: return "all";
        case SentCopyDefault::None: return "none";
    }
    return "shared";
}

}  // namespace

std::string sent_copy_recipient(const std::string& address, const std::string& domain) {
    const auto at = address.rfind('@');
    if (domain.empty() || at == std::string::npos || at == 0 || at + 1 == address.size()) return {};
    const std::string local = address.substr(0, at);
    const std::string mailbox_domain = ascii_lower(address.substr(at + 1));
    if (!dot_atom(local) || !dot_atom(mailbox_domain)) return {};
    // The whole address, quoted, as the local part: Postfix (and so the pipe's ${mailbox})
    // gives it back unquoted, which is exactly the user Dovecot's LDA is asked to deliver
    // to -- without any rewriting of the address on the way.
    std::string out = "\"" + local + "@" + mailbox_domain + "\"@" + domain;
    if (out.size() > kMaxPathLength) return {};
    return out;
}

bool is_sent_copy_recipient(const std::string& recipient, const std::string& domain) {
    if (domain.empty()) return false;
    // Any mention of the reserved domain as whole labels, not only as the address's own
    // domain: Postfix's rewriting after the policy check (the percent hack
    // "x%reserved@host", bang paths "reserved!x@host") would otherwise turn an address the
    // check saw as harmless into one the sent-copy route delivers.
    const std::string text = ascii_lower(recipient);
    const std::string reserved = ascii_lower(domain);
    const auto label_char = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || static_cast<unsigned char>(c) >= 0x80;
    };
    for (auto pos = text.find(reserved); pos != std::string::npos; pos = text.find(reserved, pos + 1)) {
        const auto end = pos + reserved.size();
        if ((pos == 0 || !label_char(text[pos - 1])) && (end == text.size() || !label_char(text[end]))) return true;
    }
    return false;
}

SentCopy decide_sent_copy(const TeamMailboxConfig& config, const SenderDecision& author,
                          const std::optional<Account>& mailbox) {
    SentCopy answer;
    answer.folder = config.sent;
    if (mailbox) answer.mailbox = mailbox->primary_address();
    if (author.right != SenderRight::SendAs && author.right != SenderRight::SendOnBehalf) {
        answer.reason = std::string("not sent as someone else's mailbox (") + to_string(author.right) + ")";
        return answer;
    }
    if (!mailbox || answer.mailbox.empty()) {
        answer.reason = "the mailbox " + author.mailbox_dn + " has no address in LDAP";
        return answer;
    }
    const std::string right = to_string(author.right);
    bool wanted = false;
    if (mailbox->sent_copy) {
        wanted = *mailbox->sent_copy;
        answer.reason = std::string("the mailbox's sent-copy switch is ") + (wanted ? "TRUE" : "FALSE");
    } else {
        switch (config.sent_copy) {
            case SentCopyDefault::All: wanted = true; break;
            case SentCopyDefault::None: wanted = false; break;
            case SentCopyDefault::Shared: wanted = mailbox->shared_mailbox; break;
        }
        answer.reason = std::string("site default team_mailbox.sent_copy=") + default_name(config.sent_copy) +
                        (config.sent_copy == SentCopyDefault::Shared
                             ? (mailbox->shared_mailbox ? " and the mailbox is a shared mailbox"
                                                        : " and the mailbox is not a shared mailbox")
                             : "");
    }
    answer.reason = right + " " + answer.mailbox + ": " + answer.reason;
    if (!wanted) return answer;
    if (config.sent_copy_domain.empty()) {
        answer.reason += ", but team_mailbox.sent_copy_domain is not set (sent copies are off)";
        return answer;
    }
    answer.recipient = sent_copy_recipient(answer.mailbox, config.sent_copy_domain);
    if (answer.recipient.empty()) {
        answer.reason += ", but its address cannot be routed as a sent copy (quoted or over-long)";
        return answer;
    }
    answer.copy = true;
    return answer;
}

std::vector<SentCopy> sent_copies(const TeamMailboxConfig& config, Directory& directory,
                                  const std::vector<SenderDecision>& authors) {
    std::vector<SentCopy> out;
    std::set<std::string> seen;  // normalised mailbox DNs
    for (const auto& author : authors) {
        if (author.right != SenderRight::SendAs && author.right != SenderRight::SendOnBehalf) continue;
        if (author.mailbox_dn.empty() || !seen.insert(normalize_dn(author.mailbox_dn)).second) continue;
        out.push_back(decide_sent_copy(config, author, directory.find_mailbox(author.mailbox_dn)));
    }
    return out;
}

}  // namespace mailgrant
