// folder_pattern.cpp -- the C++ face of folder_match.c, the one implementation of
// mailGrantFolder matching (shared with the Dovecot plugin's C client).
#include "mailgrant/folder_pattern.h"

#include "mailgrant/folder_match.h"

namespace mailgrant {

static_assert(kFolderSeparator == MAILGRANT_FOLDER_SEPARATOR, "one folder separator");

bool folder_matches(std::string_view pattern, std::string_view folder) {
    return mailgrant_folder_matches(pattern.data(), pattern.size(), folder.data(), folder.size()) != 0;
}

bool pattern_may_match_below(std::string_view pattern, std::string_view parent) {
    return mailgrant_pattern_may_match_below(pattern.data(), pattern.size(), parent.data(), parent.size()) != 0;
}

}  // namespace mailgrant
