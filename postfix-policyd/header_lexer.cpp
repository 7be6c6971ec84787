// header_lexer.cpp -- see header_lexer.h.
#include "header_lexer.h"

#include <cstdint>

#include "header_address.h"

namespace mailgrant::policy::header {

static bool is_atext(unsigned char c) {
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

std::string show(unsigned char c) {
    if (c >= 0x21 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
    static const char hex[] = "0123456789abcdef";
    return std::string("byte 0x") + hex[c >> 4] + hex[c & 15];
}

// Strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
static bool valid_utf8(std::string_view s) {
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
static std::string unfold(std::string_view value) {
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

std::vector<Token> lex(std::string_view value) {
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
    return Lexer(text).run();
}

}  // namespace mailgrant::policy::header
