// header_address.cpp -- see header_address.h.
//
// Two passes over one header value: a lexer turns the unfolded text into RFC 5322
// lexical tokens (atoms, quoted strings, domain literals, specials), dropping comments
// and whitespace but remembering whether any preceded each token; a recursive-descent
// parser then reads address-list / mailbox grammar over the tokens. Every failure is a
// HeaderError carrying the reason; the public functions turn it into a result.
#include "header_address.h"

#include <cstdint>
#include <stdexcept>

namespace mailgrant::policy {
namespace {

struct HeaderError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

enum class Kind { Atom, Quoted, Literal, Special, End };

struct Token {
    Kind kind = Kind::End;
    std::string text;         // atom text, quoted-string content (unescaped), literal incl. [], or the special
    bool space_before = false;  // whitespace or a comment separated it from the previous token
};

bool is_atext(unsigned char c) {
    if (c >= 0x80) return true;  // UTF-8 (RFC 6532); validity checked once for the whole value
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
        case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
        case '/': case '=': case '?': case '^': case '_': case '`': case '{': case '|': case '}': case '~':
            return true;
        default:
            return false;
    }
}

// Printable form of one byte for error texts (never echoes control bytes).
std::string show(unsigned char c) {
    if (c >= 0x21 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
    static const char hex[] = "0123456789abcdef";
    return std::string("byte 0x") + hex[c >> 4] + hex[c & 15];
}

// Strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len;
        std::uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) len = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef) len = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4) len = 4, cp = c & 0x07;
        else return false;
        if (i + len > s.size()) return false;
        for (std::size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

// Unfolds (CRLF or LF followed by a space or tab -> that whitespace). A line break not
// followed by whitespace cannot occur inside one header: it is refused, not guessed at.
std::string unfold(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        if (c == '\r' || c == '\n') {
            std::size_t j = i;
            if (value[j] == '\r') ++j;
            if (j < value.size() && value[j] == '\n') ++j;
            else if (c == '\r') throw HeaderError("bare CR in the header");
            if (j >= value.size()) {  // a trailing line end (some MTAs pass it on): ignore
                i = j - 1;
                continue;
            }
            if (value[j] != ' ' && value[j] != '\t') throw HeaderError("line break not followed by whitespace");
            i = j - 1;  // the whitespace itself is copied next
            continue;
        }
        out += c;
    }
    return out;
}

class Lexer {
public:
    explicit Lexer(const std::string& text) : s_(text) {}

    std::vector<Token> run() {
        std::vector<Token> tokens;
        bool space = false;
        while (i_ < s_.size()) {
            const auto c = static_cast<unsigned char>(s_[i_]);
            if (c == ' ' || c == '\t') {
                ++i_;
                space = true;
            } else if (c == '(') {
                comment();
                space = true;
            } else if (c == '"') {
                tokens.push_back(Token{Kind::Quoted, quoted(), space});
                space = false;
            } else if (c == '[') {
                tokens.push_back(Token{Kind::Literal, literal(), space});
                space = false;
            } else if (c == '<' || c == '>' || c == '@' || c == ',' || c == ':' || c == ';' || c == '.') {
                tokens.push_back(Token{Kind::Special, std::string(1, static_cast<char>(c)), space});
                ++i_;
                space = false;
            } else if (is_atext(c)) {
                const std::size_t start = i_;
                while (i_ < s_.size() && is_atext(static_cast<unsigned char>(s_[i_]))) ++i_;
                tokens.push_back(Token{Kind::Atom, s_.substr(start, i_ - start), space});
                space = false;
            } else if (c == ')') {
                throw HeaderError("')' without a matching '('");
            } else if (c == ']') {
                throw HeaderError("']' without a matching '['");
            } else if (c == '\\') {
                throw HeaderError("backslash outside a quoted string or comment");
            } else {
                throw HeaderError("unexpected " + show(c));
            }
        }
        tokens.push_back(Token{Kind::End, "", space});
        return tokens;
    }

private:
    // A printable character, UTF-8 byte or (inside quotes/comments) whitespace.
    static bool text_ok(unsigned char c) { return c == ' ' || c == '\t' || c >= 0x21; }
    static bool controls(unsigned char c) { return c == 0x7f; }

    void comment() {
        int depth = 0;
        while (i_ < s_.size()) {
            const auto c = static_cast<unsigned char>(s_[i_++]);
            if (c == '(') {
                if (++depth > kMaxCommentDepth)
                    throw HeaderError("comments nested deeper than " + std::to_string(kMaxCommentDepth));
            } else if (c == ')') {
                if (--depth == 0) return;
            } else if (c == '\\') {
                if (i_ >= s_.size()) break;
                const auto q = static_cast<unsigned char>(s_[i_++]);
                if (!text_ok(q) || controls(q)) throw HeaderError("control character in a comment");
            } else if (!text_ok(c) || controls(c)) {
                throw HeaderError("control character in a comment");
            }
        }
        throw HeaderError("unterminated comment");
    }

    std::string quoted() {
        std::string content;
        ++i_;  // the opening quote
        while (i_ < s_.size()) {
            const auto c = static_cast<unsigned char>(s_[i_++]);
            if (c == '"') return content;
            if (c == '\\') {
                if (i_ >= s_.size()) break;
                const auto q = static_cast<unsigned char>(s_[i_++]);
                if (!text_ok(q) || controls(q)) throw HeaderError("control character in a quoted string");
                content += static_cast<char>(q);
            } else if (!text_ok(c) || controls(c)) {
                throw HeaderError("control character in a quoted string");
            } else {
                content += static_cast<char>(c);
            }
        }
        throw HeaderError("unterminated quoted string");
    }

    std::string literal() {
        const std::size_t start = i_++;
        while (i_ < s_.size()) {
            const auto c = static_cast<unsigned char>(s_[i_++]);
            if (c == ']') return s_.substr(start, i_ - start);
            // dtext only: no quoted-pairs (obs), no whitespace, nothing nested
            if (c == '[' || c == '\\' || c <= 0x20 || c >= 0x7f) throw HeaderError("bad character in a domain literal");
        }
        throw HeaderError("unterminated domain literal");
    }

    const std::string& s_;
    std::size_t i_ = 0;
};

bool is_dot_atom_text(const std::string& s) {
    if (s.empty() || s.front() == '.' || s.back() == '.') return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '.') {
            if (s[i - 1] == '.') return false;
        } else if (!is_atext(c)) {
            return false;
        }
    }
    return true;
}

std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

// An RFC 2047 encoded-word is only allowed in phrases, comments and unstructured text;
// a client that decodes one inside an address anyway would show a different address.
bool looks_encoded(const std::string& s) {
    const auto start = s.find("=?");
    return start != std::string::npos && s.find("?=", start + 2) != std::string::npos;
}

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
    std::string addr_spec() {
        std::string local;
        const Token& first = peek();
        if (first.kind == Kind::Quoted) {
            local = first.text;
            ++p_;
            if (local.empty()) throw HeaderError("empty quoted local part");
            local = is_dot_atom_text(local) ? local : quote(local);
        } else if (first.kind == Kind::Atom) {
            local = first.text;
            ++p_;
            while (special(".") && !peek().space_before) {
                const Token& next = peek(1);
                if (next.kind != Kind::Atom || next.space_before) throw HeaderError("bad dot in the local part of an address");
                local += "." + next.text;
                p_ += 2;
            }
            if (special(".")) throw HeaderError("bad dot in the local part of an address");
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
            domain = d.text;
            ++p_;
            while (special(".") && !peek().space_before) {
                const Token& next = peek(1);
                if (next.kind != Kind::Atom || next.space_before) throw HeaderError("bad dot in the domain of an address");
                domain += "." + next.text;
                p_ += 2;
            }
            if (special(".")) throw HeaderError("bad dot in the domain of an address");
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
        if (value.size() > kMaxHeaderValueBytes)
            throw HeaderError("header longer than " + std::to_string(kMaxHeaderValueBytes) + " bytes");
        for (char c : value) {
            const auto u = static_cast<unsigned char>(c);
            if (u == 0) throw HeaderError("NUL byte in the header");
            if (u < 0x20 && c != '\t' && c != '\r' && c != '\n') throw HeaderError("control character (" + show(u) + ") in the header");
            if (u == 0x7f) throw HeaderError("control character (byte 0x7f) in the header");
        }
        if (!valid_utf8(value)) throw HeaderError("header is not valid UTF-8");
        const std::string text = unfold(value);
        Parser parser(Lexer(text).run());
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
