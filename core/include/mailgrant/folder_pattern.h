// folder_pattern.h -- does a grant's mailGrantFolder pattern cover a folder?
//
// Dovecot's syntax: '*' matches any characters including the hierarchy separator '/',
// '%' matches any characters except '/'. "INBOX" is case-insensitive (RFC 3501), other
// names are case-sensitive. "Projects/*" covers folders below Projects, not Projects
// itself -- list both when both are meant.
#pragma once

#include <string_view>

namespace mailgrant {

constexpr char kFolderSeparator = '/';

bool folder_matches(std::string_view pattern, std::string_view folder);

// True when some folder below `parent` could match (used to decide whether a parent
// must be listed so that a granted child is reachable in a folder tree).
bool pattern_may_match_below(std::string_view pattern, std::string_view parent);

}  // namespace mailgrant
