// rights.cpp -- roles and RFC 4314 letters.
#include "mailgrant/rights.h"

#include <array>
#include <cctype>

namespace mailgrant {
namespace {

struct Role {
    std::string_view name;
    std::string_view letters;
};
// DESIGN.md fixes these three roles.
constexpr std::array<Role, 3> kRoles{{
    {"reader", "lrs"},
    {"editor", "lrswipkxte"},
    {"admin", "lrswipkxtea"},
}};

constexpr std::size_t kMaxRightsText = 64;  // matches the schema's upper bound

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

}  // namespace

Rights Rights::all() { return *from_letters(kLetters); }

bool Rights::has(char letter) const {
    const auto pos = kLetters.find(letter);
    return pos != std::string_view::npos && (bits_ & (1u << pos));
}

std::string Rights::letters() const {
    std::string out;
    for (std::size_t i = 0; i < kLetters.size(); ++i)
        if (bits_ & (1u << i)) out += kLetters[i];
    return out;
}

std::optional<Rights> Rights::from_letters(std::string_view text, std::string* error) {
    if (text.empty()) {
        if (error) *error = "no rights letters given";
        return std::nullopt;
    }
    std::uint32_t bits = 0;
    for (char c : text) {
        const auto pos = kLetters.find(c);
        if (pos == std::string_view::npos) {
            if (error) {
                const bool printable = std::isprint(static_cast<unsigned char>(c));
                *error = std::string("unknown rights letter ") +
                         (printable ? std::string("'") + c + "'" : std::string("(non-printable)")) +
                         "; use a role (reader, editor, admin) or letters from \"" + std::string(kLetters) + "\"";
            }
            return std::nullopt;
        }
        bits |= 1u << pos;
    }
    return Rights(bits);
}

std::optional<Rights> parse_rights(std::string_view text, std::string* error) {
    if (text.size() > kMaxRightsText) {
        if (error) *error = "rights text longer than 64 characters";
        return std::nullopt;
    }
    const std::string_view trimmed = trim(text);
    std::string lower;
    for (char c : trimmed) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const auto& role : kRoles)
        if (lower == role.name) return Rights::from_letters(role.letters);
    return Rights::from_letters(lower, error);
}

std::string role_name(const Rights& rights) {
    for (const auto& role : kRoles)
        if (*Rights::from_letters(role.letters) == rights) return std::string(role.name);
    return {};
}

}  // namespace mailgrant
