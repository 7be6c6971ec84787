// Unit tests of the shared memory of failed LDAP servers (core/server_health.h): the
// state file's parser and its limits, the order an opener gets, the hold-down and the
// probe, with an injected clock. Each ServerHealth object stands for one process.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "mailgrant/server_health.h"
#include "mailgrant/warnings.h"

using namespace mailgrant;

namespace {

const std::vector<std::string> kUris{"ldap://one:389", "ldap://two:389", "ldap://three:389"};

class ServerHealthTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/mailgrant-health-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir = tmpl;
        path = dir + "/ldap-servers";
    }
    void TearDown() override { std::system(("rm -rf " + dir).c_str()); }

    std::string file_text() const {
        std::ifstream in(path);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }
    ServerHealth process(int holddown_s = 30) { return ServerHealth(path, holddown_s, clock); }

    std::string dir, path;
    ManualClock clock{1750000000};
};

TEST(ServerMarks, RoundTrip) {
    const std::vector<ServerMark> marks{{"ldap://a:389", 100}, {"ldaps://b.example.com", 200}};
    const auto parsed = parse_server_marks(format_server_marks(marks));
    ASSERT_EQ(parsed.size(), 2u);
    EXPECT_EQ(parsed[0].uri, "ldaps://b.example.com");  // newest first
    EXPECT_EQ(parsed[0].since, 200);
    EXPECT_EQ(parsed[1].uri, "ldap://a:389");
    EXPECT_EQ(parsed[1].since, 100);
}

TEST(ServerMarks, BadLinesAreSkippedAloneAndDuplicatesKeepTheLatest) {
    const std::string text = "# comment\n\n"
                             "12 ldap://good\n"
                             "x12 ldap://letter\n"
                             "1234567890123 ldap://thirteen-digits\n"
                             "12\n"
                             "12 \n"
                             " 12 ldap://leading-space\n"
                             "12 ldap://two words\n"
                             "12 ldap://tab\there\n"
                             "12 ldap://del\x7f\n"
                             "12 ldap://high\xc3\xa9\n"
                             "-5 ldap://negative\n"
                             "30 ldap://good\n"
                             "20 ldap://good\n"
                             "7 ldapi://%2Frun%2Fslapd%2Fldapi";  // no final newline: still read
    const auto marks = parse_server_marks(text);
    ASSERT_EQ(marks.size(), 2u);
    EXPECT_EQ(marks[0].uri, "ldap://good");
    EXPECT_EQ(marks[0].since, 30);
    EXPECT_EQ(marks[1].uri, "ldapi://%2Frun%2Fslapd%2Fldapi");
}

TEST(ServerMarks, Limits) {
    const std::string long_uri = "ldap://" + std::string(kServerStateMaxUriBytes, 'h');
    EXPECT_TRUE(parse_server_marks("1 " + long_uri + "\n").empty());
    EXPECT_EQ(parse_server_marks("1 " + long_uri.substr(0, kServerStateMaxUriBytes) + "\n").size(), 1u);

    std::string many;
    for (std::size_t i = 0; i < kServerStateMaxMarks + 10; ++i) many += "5 ldap://h" + std::to_string(i) + "\n";
    EXPECT_EQ(parse_server_marks(many).size(), kServerStateMaxMarks);

    // Past the size limit nothing is read, and the line cut by it is dropped whole (its
    // URI could be a prefix of another: ldap://h:3890 cut to ldap://h:389).
    std::string big(kServerStateMaxFileBytes - 10, '#');
    big += "\n1 ldap://h:3890\n2 ldap://after\n";
    EXPECT_TRUE(parse_server_marks(big).empty());

    std::vector<ServerMark> too_many;
    for (std::size_t i = 0; i < kServerStateMaxMarks + 5; ++i)
        too_many.push_back({"ldap://h" + std::to_string(i), static_cast<std::time_t>(i)});
    too_many.push_back({"ldap://bad uri", 1000});
    const auto kept = parse_server_marks(format_server_marks(too_many));
    ASSERT_EQ(kept.size(), kServerStateMaxMarks);
    EXPECT_EQ(kept.front().uri, "ldap://h" + std::to_string(kServerStateMaxMarks + 4));  // newest kept
}

TEST_F(ServerHealthTest, NoFileKeepsTheConfiguredOrder) {
    auto p = process();
    EXPECT_EQ(p.plan(kUris), kUris);
    EXPECT_EQ(p.held_down(), 0u);
    EXPECT_NE(access(path.c_str(), F_OK), 0) << "nothing failed: nothing written";
}

TEST_F(ServerHealthTest, FailedServerIsTriedLastByEveryProcessUntilTheHoldDownEnds) {
    std::vector<Warning> warnings;
    ScopedWarningSink sink([&warnings](const Warning& w) { warnings.push_back(w); });
    auto first = process();
    first.plan(kUris);
    first.failed("ldap://one:389");
    EXPECT_EQ(warnings.size(), 1u);
    EXPECT_NE(file_text().find("1750000000 ldap://one:389\n"), std::string::npos) << file_text();

    const std::vector<std::string> skipping{"ldap://two:389", "ldap://three:389", "ldap://one:389"};
    for (int i = 0; i < 5; ++i) {  // other processes, up to the last second of the hold-down
        auto other = process();
        EXPECT_EQ(other.plan(kUris), skipping) << "after " << i * 7 << " s";
        EXPECT_EQ(other.held_down(), 1u);
        EXPECT_EQ(other.probes(), 0u);
        other.answered("ldap://two:389");  // not marked: no write
        clock.advance(7);
    }
    clock.set_wall(1750000000 + 29);
    EXPECT_EQ(process().plan(kUris), skipping);
    EXPECT_EQ(warnings.size(), 1u) << "no warning per session";
}

TEST_F(ServerHealthTest, OneProbeAfterTheHoldDownThenAnAnswerClearsTheMark) {
    process().failed("ldap://one:389");
    clock.advance(30);
    auto prober = process();
    EXPECT_EQ(prober.plan(kUris), kUris) << "the probe tries it in its configured place";
    EXPECT_EQ(prober.probes(), 1u);
    // The probe is claimed: a process starting meanwhile still skips the server.
    auto meanwhile = process();
    EXPECT_EQ(meanwhile.plan(kUris).back(), "ldap://one:389");
    EXPECT_EQ(meanwhile.probes(), 0u);

    prober.answered("ldap://one:389");
    EXPECT_EQ(file_text().find("ldap://one"), std::string::npos) << file_text();
    auto after = process();
    EXPECT_EQ(after.plan(kUris), kUris);
    EXPECT_EQ(after.held_down(), 0u);
}

TEST_F(ServerHealthTest, FailedProbeStartsANewHoldDownAndSaysSo) {
    std::vector<Warning> warnings;
    ScopedWarningSink sink([&warnings](const Warning& w) { warnings.push_back(w); });
    process().failed("ldap://one:389");
    clock.advance(31);
    auto prober = process();
    prober.plan(kUris);
    ASSERT_EQ(prober.probes(), 1u);
    clock.advance(5);  // the probe timed out
    prober.failed("ldap://one:389");
    EXPECT_EQ(warnings.size(), 2u);
    clock.advance(29);
    EXPECT_EQ(process().plan(kUris).back(), "ldap://one:389") << "held down from the failed probe on";
    clock.advance(1);
    auto next = process();
    next.plan(kUris);
    EXPECT_EQ(next.probes(), 1u);
}

TEST_F(ServerHealthTest, AllServersDownAreStillAllTriedInOrder) {
    std::vector<Warning> warnings;
    ScopedWarningSink sink([&warnings](const Warning& w) { warnings.push_back(w); });
    for (const auto& uri : kUris) process().failed(uri);
    auto p = process();
    EXPECT_EQ(p.plan(kUris), kUris);
    EXPECT_EQ(p.held_down(), 3u);
    for (const auto& uri : kUris) p.failed(uri);  // still down
    EXPECT_EQ(warnings.size(), 3u) << "one per server, not one per session";
}

TEST_F(ServerHealthTest, MarksOfOtherUrisAreKeptAndOldOnesDropped) {
    std::ofstream(path) << "1750000000 ldap://elsewhere\n" << (1750000000 - kServerMarkMaxAge - 1) << " ldap://ancient\n";
    process().failed("ldap://two:389");
    const auto marks = parse_server_marks(file_text());
    ASSERT_EQ(marks.size(), 2u) << file_text();
    EXPECT_EQ(marks[0].uri, "ldap://elsewhere");
    EXPECT_EQ(marks[1].uri, "ldap://two:389");
}

TEST_F(ServerHealthTest, AMarkFromTheFutureIsProbed) {
    std::ofstream(path) << (1750000000 + 3600) << " ldap://one:389\n";  // the clock was set back an hour
    auto p = process();
    EXPECT_EQ(p.plan(kUris), kUris);
    EXPECT_EQ(p.probes(), 1u);
    EXPECT_NE(file_text().find("1750000000 ldap://one:389"), std::string::npos) << "claimed at the present time";
}

TEST_F(ServerHealthTest, FileIsGroupWritableAndReplacedAtomically) {
    process().failed("ldap://one:389");
    struct stat st {};
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0660u);
    const std::string listing = dir + ".listing";
    std::system(("ls -A " + dir + " > " + listing).c_str());
    std::ifstream in(listing);
    std::stringstream names;
    names << in.rdbuf();
    std::remove(listing.c_str());
    EXPECT_EQ(names.str(), "ldap-servers\n") << "no temporary file left behind";
}

TEST_F(ServerHealthTest, OffMeansNothingReadOrWritten) {
    std::ofstream(path) << "1750000000 ldap://one:389\n";
    auto off = process(0);
    EXPECT_EQ(off.plan(kUris), kUris);
    off.failed("ldap://two:389");
    EXPECT_EQ(file_text().find("two"), std::string::npos);
    ServerHealth no_path("", 30, clock);
    EXPECT_EQ(no_path.plan(kUris), kUris);
    no_path.failed("ldap://one:389");
}

TEST_F(ServerHealthTest, AFifoAtThePathDoesNotHang) {
    ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
    auto p = process();
    EXPECT_EQ(p.plan(kUris), kUris);
}

TEST_F(ServerHealthTest, ASymlinkAtThePathIsNotFollowed) {
    // The directory is writable by every mail process (group mailgrant); a root reader
    // such as the CLI must not open what a planted link points to.
    const std::string target = dir + "/elsewhere";
    {
        std::ofstream out(target);
        out << "1750000000 ldap://one:389\n";
    }
    ASSERT_EQ(symlink(target.c_str(), path.c_str()), 0);
    auto p = process();
    EXPECT_EQ(p.plan(kUris), kUris) << "the link's target was read";
    EXPECT_EQ(p.held_down(), 0u);
}

// Last: the "cannot write" warning is said once per process.
TEST_F(ServerHealthTest, UnwritableFileMeansNoMemoryAndOneWarning) {
    std::vector<Warning> warnings;
    ScopedWarningSink sink([&warnings](const Warning& w) { warnings.push_back(w); });
    ServerHealth p(dir + "/missing-dir/ldap-servers", 30, clock);
    EXPECT_EQ(p.plan(kUris), kUris);
    p.failed("ldap://one:389");
    p.failed("ldap://two:389");
    EXPECT_EQ(p.plan(kUris), kUris) << "no memory, same order";
    std::size_t unwritable = 0;
    for (const auto& w : warnings) unwritable += w.text.find("cannot write the LDAP server state file") != std::string::npos;
    EXPECT_EQ(unwritable, 1u);
    ASSERT_FALSE(warnings.empty());
    EXPECT_NE(warnings.front().text.find("missing-dir/ldap-servers (ldap.server_state_file): No such file"),
              std::string::npos)
        << warnings.front().text;
}

}  // namespace
