// header_lexer.h -- the first pass of header_address.cpp: one header value (From:,
// Sender:) checked byte by byte (size, control characters, UTF-8), unfolded and cut
// into RFC 5322 lexical tokens, comments and whitespace dropped but remembered as
// "space before" the next token; plus the token-level text rules the parser needs.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mailgrant::policy::header {

struct HeaderError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

enum class Kind { Atom, Quoted, Literal, Special, End };

struct Token {
    Kind kind = Kind::End;
    std::string text;         // atom text, quoted-string content (unescaped), literal incl. [], or the special
    bool space_before = false;  // whitespace or a comment separated it from the previous token
};

// The tokens of a whole header value; throws HeaderError with the reason.
std::vector<Token> lex(std::string_view value);

// RFC 5322 dot-atom text ("a.b"), which needs no quoting in a local part.
bool is_dot_atom_text(const std::string& s);
// A quoted-string for `s` (backslash before '"' and '\').
std::string quote(const std::string& s);
// Shaped like an RFC 2047 encoded-word (=?...?=).
bool looks_encoded(const std::string& s);
// Printable form of one byte for error texts (never echoes control bytes).
std::string show(unsigned char c);

}  // namespace mailgrant::policy::header
