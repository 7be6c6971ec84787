// folder_pattern.cpp -- wildcard matching as a set-of-positions automaton: O(pattern x
// folder) time, no recursion or backtracking blow-up (patterns come from LDAP: untrusted).
#include "mailgrant/folder_pattern.h"

#include <cctype>
#include <string>
#include <vector>

namespace mailgrant {
namespace {

// "inbox", "Inbox/Sub" -> "INBOX", "INBOX/Sub"; everything else unchanged.
std::string canonical_inbox(std::string_view name) {
    std::string out(name);
    if (out.size() >= 5) {
        std::string head;
        for (std::size_t i = 0; i < 5; ++i)
            head += static_cast<char>(std::toupper(static_cast<unsigned char>(out[i])));
        if (head == "INBOX" && (out.size() == 5 || out[5] == kFolderSeparator)) out.replace(0, 5, "INBOX");
    }
    return out;
}

bool is_wildcard(char c) { return c == '*' || c == '%'; }

class PatternAutomaton {
public:
    explicit PatternAutomaton(std::string pattern) : p_(std::move(pattern)), live_(p_.size() + 1, false) {
        live_[0] = true;
        close();
    }

    void feed(std::string_view text) {
        for (char c : text) step(c);
    }

    bool accepted() const { return live_[p_.size()]; }

    // Some continuation of the text fed so far (at least one more character) matches.
    bool may_accept_longer() const {
        for (std::size_t i = 0; i < p_.size(); ++i)
            if (live_[i]) return true;  // a live position before the end can consume more
        return false;
    }

private:
    void step(char c) {
        std::vector<bool> next(p_.size() + 1, false);
        for (std::size_t i = 0; i < p_.size(); ++i) {
            if (!live_[i]) continue;
            const char pc = p_[i];
            if (pc == '*' || (pc == '%' && c != kFolderSeparator)) next[i] = true;
            else if (!is_wildcard(pc) && pc == c) next[i + 1] = true;
        }
        live_.swap(next);
        close();
    }

    void close() {  // a wildcard may match the empty string
        for (std::size_t i = 0; i < p_.size(); ++i)
            if (live_[i] && is_wildcard(p_[i])) live_[i + 1] = true;
    }

    std::string p_;
    std::vector<bool> live_;
};

}  // namespace

bool folder_matches(std::string_view pattern, std::string_view folder) {
    PatternAutomaton automaton(canonical_inbox(pattern));
    automaton.feed(canonical_inbox(folder));
    return automaton.accepted();
}

bool pattern_may_match_below(std::string_view pattern, std::string_view parent) {
    PatternAutomaton automaton(canonical_inbox(pattern));
    automaton.feed(canonical_inbox(parent));
    automaton.feed(std::string(1, kFolderSeparator));
    return automaton.may_accept_longer();
}

}  // namespace mailgrant
