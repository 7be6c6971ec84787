// rights.h -- RFC 4314 access rights and mailgrant's roles.
//
// A grant's mailGrantRights holds either a role name (reader, editor, admin) or rights
// letters. Both become a Rights set here; anything else is rejected with a message, and a
// grant whose rights do not parse grants nothing (fail safe).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mailgrant/folder_match.h"

namespace mailgrant {

class Rights {
public:
    // The RFC 4314 letters Dovecot implements, in canonical output order.
    static constexpr std::string_view kLetters = MAILGRANT_RIGHTS_LETTERS;  // folder_match.h

    Rights() = default;
    static Rights none() { return Rights(); }
    static Rights all();

    bool has(char letter) const;
    bool empty() const { return bits_ == 0; }
    bool contains(const Rights& other) const { return (bits_ & other.bits_) == other.bits_; }
    Rights operator|(const Rights& o) const { return Rights(bits_ | o.bits_); }
    Rights& operator|=(const Rights& o) { bits_ |= o.bits_; return *this; }
    bool operator==(const Rights& o) const { return bits_ == o.bits_; }
    bool operator!=(const Rights& o) const { return bits_ != o.bits_; }

    std::string letters() const;  // canonical order, e.g. "lrs"

    // Parses only letters; nullopt + message on an unknown letter or empty text.
    static std::optional<Rights> from_letters(std::string_view text, std::string* error = nullptr);

private:
    explicit Rights(std::uint32_t bits) : bits_(bits) {}
    std::uint32_t bits_ = 0;
};

// "reader" -> lrs, "editor" -> lrswipkxte, "admin" -> lrswipkxtea; otherwise letters.
// Case-insensitive, surrounding blanks ignored. nullopt + message when neither.
std::optional<Rights> parse_rights(std::string_view text, std::string* error = nullptr);

// The role whose rights equal these, or "" when none does (for display).
std::string role_name(const Rights& rights);

}  // namespace mailgrant
