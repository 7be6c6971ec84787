// header_address.cpp -- see header_address.h.
//
// Two passes over one header value: a lexer turns the unfolded text into RFC 5322
// lexical tokens (atoms, quoted strings, domain literals, specials), dropping comments
// and whitespace but remembering whether any preceded each token; a recursive-descent
// parser then reads address-list / mailbox grammar over the tokens. Every failure is a
// HeaderError carrying the reason; the public functions turn it into a result.
#include "header_address.h"

#include <stdexcept>

#include "header_lexer.h"

namespace mailgrant::policy {
namespace {

using namespace header;

class Parser {
public:
    explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

    std::vector<HeaderMailbox> address_list(bool allow_groups) {
        std::vector<HeaderMailbox> out;
        for (;;) {
            while (special(",")) ++p_;  // obs-addr-list: empty list elements
            if (peek().kind == Kind::End) break;
            address(out, allow_groups);
            if (peek().kind == Kind::End) break;
            if (!special(",")) throw HeaderError("expected ',' between addresses, found " + describe(peek()));
        }
        return out;
    }

private:
    const Token& peek(std::size_t ahead = 0) const {
        const std::size_t at = p_ + ahead;
        return t_[at < t_.size() ? at : t_.size() - 1];
    }
    bool special(const char* s, std::size_t ahead = 0) const {
        const Token& t = peek(ahead);
        return t.kind == Kind::Special && t.text == s;
    }
    static std::string describe(const Token& t) {
        switch (t.kind) {
            case Kind::End: return "the end of the header";
            case Kind::Special: return "'" + t.text + "'";
            case Kind::Quoted: return "a quoted string";
            case Kind::Literal: return "a domain literal";
            case Kind::Atom: break;
        }
        return "'" + (t.text.size() > 40 ? t.text.substr(0, 40) + "..." : t.text) + "'";
    }

    void add(std::vector<HeaderMailbox>& out, HeaderMailbox box) {
        if (out.size() >= kMaxHeaderMailboxes)
            throw HeaderError("more than " + std::to_string(kMaxHeaderMailboxes) + " addresses in one header");
        out.push_back(std::move(box));
    }

    // Does the list element starting here use name-addr or group syntax ('<' or ':')?
    bool element_has_angle_or_colon() const {
        for (std::size_t k = p_; k < t_.size(); ++k) {
            const Token& t = t_[k];
            if (t.kind == Kind::End) return false;
            if (t.kind != Kind::Special) continue;
            if (t.text == "," || t.text == ";") return false;
            if (t.text == "<" || t.text == ":") return true;
        }
        return false;
    }

    void address(std::vector<HeaderMailbox>& out, bool allow_groups, const std::string& group = "") {
        if (!element_has_angle_or_colon()) {
            // A bare addr-spec: its own error is the clearest one.
            std::string address = addr_spec();
            if (peek().kind != Kind::End && !special(",") && !special(";"))
                throw HeaderError("expected ',' between addresses, found " + describe(peek()));
            add(out, HeaderMailbox{"", std::move(address), group});
            return;
        }
        const std::string name = phrase();
        if (special("<")) {
            ++p_;
            add(out, HeaderMailbox{name, angle_addr(), group});
            return;
        }
        if (special(":")) {
            if (!group.empty()) throw HeaderError("a group inside a group");
            if (!allow_groups) throw HeaderError("a group where one mailbox is expected");
            if (name.empty()) throw HeaderError("a group without a name");
            ++p_;
            for (;;) {  // mailbox-list, empty elements allowed (obs), possibly empty
                while (special(",")) ++p_;
                if (special(";")) break;
                if (peek().kind == Kind::End) throw HeaderError("group '" + name + "' is not closed with ';'");
                address(out, false, name);
                if (special(";")) break;
                if (peek().kind == Kind::End) throw HeaderError("group '" + name + "' is not closed with ';'");
                if (!special(",")) throw HeaderError("expected ',' or ';' in group '" + name + "', found " + describe(peek()));
            }
            ++p_;  // ';'
            return;
        }
        if (special("@")) throw HeaderError("unquoted '@' in a display name (quote it, or put the address in <>)");
        if (peek().kind == Kind::End || special(","))
            throw HeaderError(name.empty() ? "empty address" : "'" + name + "' is not an address (no @domain)");
        throw HeaderError("unexpected " + describe(peek()) + (name.empty() ? "" : " after '" + name + "'"));
    }

    // phrase (obs-phrase: '.' after the first word, as in "John Q. Public"); may be empty.
    std::string phrase() {
        std::string name;
        bool first = true;
        for (;;) {
            const Token& t = peek();
            const bool word = t.kind == Kind::Atom || t.kind == Kind::Quoted;
            const bool dot = !first && t.kind == Kind::Special && t.text == ".";
            if (!word && !dot) break;
            if (!name.empty() && t.space_before) name += ' ';
            name += t.text;
            first = false;
            ++p_;
        }
        return name;
    }

    // After '<': [CFWS] addr-spec [CFWS] '>'. Obsolete source routes are refused.
    std::string angle_addr() {
        if (special("@")) throw HeaderError("source routes (<@host:...>) are not accepted");
        if (special(">")) throw HeaderError("empty address <>");
        const std::string address = addr_spec();
        if (!special(">")) throw HeaderError("expected '>' after the address, found " + describe(peek()));
        ++p_;
        return address;
    }

    // local-part "@" domain, with no whitespace or comment inside (they are legal only in
    // obsolete forms, and clients disagree on what such an address is).
    // atom *("." atom) at the current (atom) token, with no space or comment between.
    std::string dot_atom(const char* where) {
        std::string text = peek().text;
        ++p_;
        while (special(".") && !peek().space_before) {
            const Token& next = peek(1);
            if (next.kind != Kind::Atom || next.space_before)
                throw HeaderError(std::string("bad dot in the ") + where + " of an address");
            text += "." + next.text;
            p_ += 2;
        }
        if (special(".")) throw HeaderError(std::string("bad dot in the ") + where + " of an address");
        return text;
    }

    std::string addr_spec() {
        std::string local;
        const Token& first = peek();
        if (first.kind == Kind::Quoted) {
            local = first.text;
            ++p_;
            if (local.empty()) throw HeaderError("empty quoted local part");
            local = is_dot_atom_text(local) ? local : quote(local);
        } else if (first.kind == Kind::Atom) {
            local = dot_atom("local part");
        } else {
            throw HeaderError("expected an address, found " + describe(first));
        }
        if (!special("@")) throw HeaderError("address '" + local.substr(0, 64) + "' has no @domain");
        if (peek().space_before) throw HeaderError("whitespace or comment inside an address");
        ++p_;
        const Token& d = peek();
        if (d.space_before) throw HeaderError("whitespace or comment inside an address");
        std::string domain;
        if (d.kind == Kind::Literal) {
            domain = d.text;
            ++p_;
        } else if (d.kind == Kind::Atom) {
            domain = dot_atom("domain");
        } else {
            throw HeaderError("expected a domain after '@', found " + describe(d));
        }
        if (special("@")) throw HeaderError("more than one '@' in an address");
        if (looks_encoded(local) || looks_encoded(domain)) throw HeaderError("encoded-word (=?...?=) inside an address");
        return local + "@" + domain;
    }

    std::vector<Token> t_;
    std::size_t p_ = 0;
};

HeaderParseResult parse(std::string_view value, bool single) {
    HeaderParseResult result;
    try {
        Parser parser(lex(value));
        result.mailboxes = parser.address_list(!single);
        if (result.mailboxes.empty()) throw HeaderError("names no mailbox");
        if (single && result.mailboxes.size() != 1) throw HeaderError("names more than one mailbox");
        result.ok = true;
    } catch (const HeaderError& e) {
        result.ok = false;
        result.error = e.what();
        result.mailboxes.clear();
    }
    return result;
}

}  // namespace

HeaderParseResult parse_from_header(std::string_view value) { return parse(value, false); }
HeaderParseResult parse_sender_header(std::string_view value) { return parse(value, true); }

}  // namespace mailgrant::policy
