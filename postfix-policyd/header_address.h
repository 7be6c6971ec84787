// header_address.h -- RFC 5322 From:/Sender: header values -> the mailboxes they name.
//
// Used by the milter (milter.h) to decide who a message claims to be from. Recipients'
// mail clients show the header, not the envelope, so this parser is deliberately strict:
// it accepts what RFC 5322 (with RFC 6854 groups and RFC 6532 UTF-8) allows and clients
// agree on, and rejects -- with a one-line reason -- anything two clients could display
// differently: unquoted specials in display names (`eve@x <ceo@y>`), source routes,
// encoded-words inside addresses, comments or spaces inside an address, bare CR/LF,
// control characters, invalid UTF-8. Display names (quoted strings, encoded-words,
// obs-phrase dots) are kept but never judged: only the address is.
//
// Pure functions, no I/O, no allocation beyond the result; explicit limits below.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mailgrant::policy {

struct HeaderMailbox {
    std::string display_name;  // as written (quotes removed, encoded-words not decoded); may be empty
    std::string address;       // canonical addr-spec: local@domain; a quoted local part is unquoted
                               // when it is a plain dot-atom ("eve"@x -> eve@x), else kept quoted
    std::string group;         // name of the RFC 6854 group it was listed in, if any
};

struct HeaderParseResult {
    bool ok = false;
    std::string error;  // set when !ok: why the value was refused (one line, no CR/LF)
    std::vector<HeaderMailbox> mailboxes;
};

// Explicit limits: a header over them is refused, never truncated.
inline constexpr std::size_t kMaxHeaderValueBytes = 8192;  // one header, folded lines included
inline constexpr std::size_t kMaxHeaderMailboxes = 32;     // addresses in one header
inline constexpr int kMaxCommentDepth = 8;                 // nested (comments (like) this)

// From: an address-list (RFC 5322 mailbox-list, plus RFC 6854 groups). Succeeds only
// with at least one mailbox: an empty group names nobody a recipient could trust.
HeaderParseResult parse_from_header(std::string_view value);

// Sender: exactly one mailbox (a group, a list or an empty value is refused).
HeaderParseResult parse_sender_header(std::string_view value);

}  // namespace mailgrant::policy
