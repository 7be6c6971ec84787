// Unit tests for folder_pattern.h: Dovecot's '*' and '%' and case-insensitive INBOX.
#include "mailgrant/folder_pattern.h"

#include <gtest/gtest.h>

#include <string>

using namespace mailgrant;

namespace {

struct MatchCase {
    const char* pattern;
    const char* folder;
    bool matches;
};

class FolderMatch : public ::testing::TestWithParam<MatchCase> {};

TEST_P(FolderMatch, DovecotSemantics) {
    const auto& c = GetParam();
    EXPECT_EQ(folder_matches(c.pattern, c.folder), c.matches) << c.pattern << " vs " << c.folder;
}

INSTANTIATE_TEST_SUITE_P(
    Table, FolderMatch,
    ::testing::Values(MatchCase{"*", "INBOX", true}, MatchCase{"*", "Projects/2024/Q1", true},
                      MatchCase{"INBOX", "INBOX", true}, MatchCase{"INBOX", "inbox", true},
                      MatchCase{"inbox", "INBOX", true}, MatchCase{"INBOX", "INBOX/Sub", false},
                      MatchCase{"INBOX/*", "inbox/Sub", true}, MatchCase{"Inboxes", "INBOXES", false},
                      MatchCase{"Projects", "Projects", true}, MatchCase{"Projects", "projects", false},
                      MatchCase{"Projects/*", "Projects", false}, MatchCase{"Projects/*", "Projects/a", true},
                      MatchCase{"Projects/*", "Projects/a/b", true}, MatchCase{"Projects/%", "Projects/a", true},
                      MatchCase{"Projects/%", "Projects/a/b", false}, MatchCase{"Projects*", "ProjectsOld", true},
                      MatchCase{"%", "Sent", true}, MatchCase{"%", "Sent/2020", false},
                      MatchCase{"%/%", "Sent/2020", true}, MatchCase{"*/2020", "Archive/Sent/2020", true},
                      MatchCase{"Sent", "Sent Items", false}, MatchCase{"", "", true}, MatchCase{"", "x", false},
                      MatchCase{"a*b*c", "aXbYc", true}, MatchCase{"a*b*c", "aXbY", false}),
    [](const auto& info) { return "case" + std::to_string(info.index); });

TEST(FolderMatch, HostilePatternStaysFast) {
    // Backtracking matchers take exponential time here; the automaton is linear per char.
    const std::string pattern = std::string(200, '*') + "x";
    const std::string folder(1000, 'a');
    EXPECT_FALSE(folder_matches(pattern, folder));
}

TEST(FolderMatch, MayMatchBelow) {
    EXPECT_TRUE(pattern_may_match_below("Projects/*", "Projects"));
    EXPECT_TRUE(pattern_may_match_below("Projects/a/b", "Projects"));
    EXPECT_TRUE(pattern_may_match_below("*", "Anything"));
    EXPECT_TRUE(pattern_may_match_below("%/x", "Top"));
    EXPECT_FALSE(pattern_may_match_below("Projects", "Projects"));
    EXPECT_FALSE(pattern_may_match_below("Other/*", "Projects"));
    EXPECT_FALSE(pattern_may_match_below("%", "Top"));
}

}  // namespace
