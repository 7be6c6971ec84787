// test_wire.cpp -- the plugin's C client of the per-host service (dovecot-plugin/wire/):
// its reading of answers and namespaces against the C++ core's (the same text must give
// the same fields and rights), its configuration reader, and wire_core against a real
// unix socket: memo, breaker, messages, bad input.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "mailgrant-core.h"
#include "mailgrant/config.h"
#include "mailgrant/config_service.h"
#include "mailgrant/service_protocol.h"
#include "mailgrant/shared_namespace.h"
#include "wire_client.h"
#include "wire_config.h"
#include "wire_core.h"
#include "wire_namespace.h"

namespace {

using namespace mailgrant;

static_assert(MGW_MAX_REQUEST_BYTES == service_limits::kMaxRequestBytes, "one question limit");
static_assert(MGW_MAX_FIELDS == service_limits::kMaxFields, "one field limit");
static_assert(MGW_MAX_REPLY_LINE_BYTES == service_limits::kMaxReplyLineBytes, "one line limit");
static_assert(MGW_MAX_REPLY_ITEMS == service_limits::kMaxReplyItems, "one item limit");
static_assert(MGW_MAX_REPLY_BYTES == service_limits::kMaxReplyBytes, "one answer limit");

// The C++ reading of `text`, or nullopt-like (ok=false) on ProtocolError.
std::pair<bool, ServiceReply> cpp_read(const std::string& text) {
    ReplyReader reader;
    try {
        std::size_t start = 0;
        while (start < text.size()) {
            const auto lf = text.find('\n', start);
            if (lf == std::string::npos) return {false, {}};
            if (reader.add_line(text.substr(start, lf - start))) return {lf + 1 == text.size(), reader.take()};
            start = lf + 1;
        }
    } catch (const ProtocolError&) {
    }
    return {false, {}};
}

std::vector<std::string> fields(const mgw_line& line) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < line.count; ++i) out.emplace_back(line.f[i]);
    return out;
}

TEST(WireReply, ReadsWhatTheCoreReadsAndRefusesWhatItRefuses) {
    const std::vector<std::string> answers = {
        "ok\tlrs\n",
        "ok\n",
        "item\tINBOX\t\\\\Drafts\nitem\nok\t1\tteam\n",
        "item\t1\tsupport\tlr\nitem\t0\tbob@example.com\tlrswi\nok\n",
        "temp\tLDAP unavailable: Can't contact LDAP server\n",
        "bad\tbad input: an over-long name\n",
        "fail\tinternal error: boom\n",
        "ok\ta%09b%0Ac%25d\n",
        "ok\t1\t2\t3\t4\t5\t6\t7\t8\n",
        // refused by both
        "ok\t1\t2\t3\t4\t5\t6\t7\t8\t9\n",
        "nope\n",
        "item\tx\n",
        "item\tx\nok\nok\n",
        "temp\n",
        "temp\ta\tb\n",
        "ok\t%ZZ\n",
        "ok\t%4\n",
        "ok\ta\rb\n",
        "ok\tlrs",
        "",
        "ok\t" + std::string(20000, 'x') + "\n",
    };
    for (const auto& text : answers) {
        SCOPED_TRACE(text.substr(0, 60));
        const auto [cpp_ok, cpp] = cpp_read(text);
        mgw_reply reply;
        char error[256] = "";
        const bool c_ok = mgw_parse_reply(text.data(), text.size(), &reply, error, sizeof error) == 0;
        EXPECT_EQ(c_ok, cpp_ok) << error;
        if (!c_ok || !cpp_ok) continue;
        EXPECT_EQ(static_cast<int>(reply.status), static_cast<int>(cpp.status));
        ASSERT_EQ(reply.item_count, cpp.items.size());
        for (std::size_t i = 0; i < reply.item_count; ++i) EXPECT_EQ(fields(reply.items[i]), cpp.items[i]);
        if (cpp.status == ServiceReply::Status::Ok)
            EXPECT_EQ(fields(reply.values), cpp.values);
        else
            EXPECT_EQ(std::string(mgw_reply_message(&reply)), cpp.message);
        mgw_reply_free(&reply);
    }
}

TEST(WireReply, ANulInAFieldIsRefusedAsNoCStringCanHoldIt) {
    const std::string text = "ok\ta%00b\n";
    mgw_reply reply;
    char error[256] = "";
    EXPECT_EQ(mgw_parse_reply(text.data(), text.size(), &reply, error, sizeof error), -1);
    EXPECT_STREQ(error, "NUL in a field");
}

// mgw_put writes what snprintf("%s%s", prefix, text) would, the prefix left out when the
// text already starts with it, cut to the buffer with its NUL.
TEST(WirePut, CutsAsSnprintfWouldAndPrefixesOnce) {
    struct Case {
        std::size_t size;
        const char* prefix;
        const char* text;
        const char* want;
    };
    const Case cases[] = {
        {16, nullptr, "lrs", "lrs"},
        {16, nullptr, "", ""},
        {4, nullptr, "lrswi", "lrs"},
        {1, nullptr, "lrs", ""},
        {32, "bad input: ", "no such verb", "bad input: no such verb"},
        {32, "bad input: ", "bad input: no such verb", "bad input: no such verb"},
        {8, "bad input: ", "x", "bad inp"},
        {12, "bad input: ", "xyz", "bad input: "},
        {14, "bad input: ", "xyz", "bad input: xy"},
    };
    for (const Case& c : cases) {
        std::vector<char> out(c.size + 1, '#');
        mgw_put(out.data(), c.size, c.prefix, c.text);
        EXPECT_STREQ(out.data(), c.want) << c.size << " " << c.text;
        EXPECT_EQ(out[c.size], '#') << "wrote past the buffer: " << c.size << " " << c.text;
    }
    mgw_put(nullptr, 0, nullptr, "nothing to write to");
}

TEST(WireRequest, EscapesAsTheCoreDoesAndRefusesOverlongQuestions) {
    const char* f[] = {"al%ice\t", "a\nb", "INBOX/Ü"};
    char out[MGW_MAX_REQUEST_BYTES + 1];
    const std::size_t n = mgw_format_request("rights", f, 3, out, sizeof out);
    ASSERT_GT(n, 0u);
    EXPECT_EQ(std::string(out, n), format_request({ServiceVerb::Rights, {f[0], f[1], f[2]}}));
    const std::string long_name(MGW_MAX_REQUEST_BYTES, 'a');
    const char* g[] = {long_name.c_str()};
    EXPECT_EQ(mgw_format_request("namespace", g, 1, out, sizeof out), 0u);
}

// A namespace answer made by the core (add_namespace_items), read by C and by C++.
TEST(WireNamespace, FolderRightsAreTheCoresForEveryPatternAndFolder) {
    SharedMailbox a;
    a.address = "alice@example.com";
    a.patterns = {{"INBOX", *Rights::from_letters("lr")},
                  {"Projects/*", *Rights::from_letters("lrswi")},
                  {"%", *Rights::from_letters("s")},
                  {"inbox/Sub", *Rights::from_letters("t")}};
    a.root_rights = *Rights::from_letters("k");
    a.root_reason = "a grant covers every folder";
    SharedMailbox team;
    team.address = "support@example.com";
    team.team = true;
    team.team_reason = "team mailbox";
    team.team_folders = {{"Drafts", "\\Drafts"}, {"Sent", "\\Sent"}};
    team.patterns = {{"*", *Rights::from_letters("lrswipkxte")}};
    SharedMailbox other;
    other.address = "carol@example.com";
    other.answered = false;
    ServiceReply reply;
    reply.status = ServiceReply::Status::Ok;
    add_namespace_items({a, team, other}, reply);
    const std::string text = format_reply(reply);

    mgw_reply c_reply;
    ASSERT_EQ(mgw_parse_reply(text.data(), text.size(), &c_reply, nullptr, 0), 0);
    mgw_namespace ns;
    char error[256] = "";
    ASSERT_EQ(mgw_namespace_read(&c_reply, &ns, error, sizeof error), 0) << error;
    ASSERT_EQ(ns.count, 3u);
    EXPECT_STREQ(ns.mailboxes[2].address, "carol@example.com");
    EXPECT_EQ(mgw_namespace_find(&ns, "carol@example.com"), nullptr);  // unanswered: asked about
    const mgw_mailbox* ca = mgw_namespace_find(&ns, "alice@example.com");
    const mgw_mailbox* ct = mgw_namespace_find(&ns, "support@example.com");
    ASSERT_NE(ca, nullptr);
    ASSERT_NE(ct, nullptr);
    EXPECT_STREQ(ca->root_letters, "k");
    EXPECT_STREQ(ca->root_reason, "a grant covers every folder");
    EXPECT_TRUE(ct->team);
    ASSERT_EQ(ct->folder_count, 2u);
    EXPECT_STREQ(ns.folder_names[ct->folder_first + 1], "Sent");

    for (const char* folder : {"INBOX", "inbox", "Inbox/Sub", "INBOX/Sub", "Projects", "Projects/x", "Projects/x/y",
                               "Drafts", "Sent/2026", "", "INBOXES"}) {
        SCOPED_TRACE(folder);
        char out[sizeof(MAILGRANT_RIGHTS_LETTERS)];
        mgw_namespace_folder_letters(&ns, ca, folder, out);
        EXPECT_EQ(std::string(out), folder_letters(a, folder));
        mgw_namespace_folder_letters(&ns, ct, folder, out);
        EXPECT_EQ(std::string(out), folder_letters(team, folder));
    }
    mgw_namespace_free(&ns);
}

TEST(WireNamespace, RefusesWhatTheCoreRefuses) {
    const std::vector<std::string> bad = {
        "item\tpattern\tINBOX\tlr\nok\n",                           // before any mailbox
        "item\tmailbox\t\tk\tr\t0\tt\nok\n",                       // no address
        "item\tmailbox\ta@x\tk\tr\t2\tt\nok\n",                    // team neither 0 nor 1
        "item\tmailbox\ta@x\tZ\tr\t0\tt\nok\n",                    // not rights
        "item\tmailbox\ta@x\tk\tr\t0\tt\nitem\tpattern\tI\tq\nok\n",
        "item\tmailbox\ta@x\tk\tr\t0\tt\nitem\tfolder\tDrafts\t\\\\Drafts\nok\n",  // not a team
        "item\towner\ta@x\nitem\tpattern\tI\tl\nok\n",             // after an unanswered one
        "item\tsomething\nok\n",
        "item\towner\nok\n",
    };
    for (const auto& text : bad) {
        SCOPED_TRACE(text);
        bool cpp_refused = false;
        try {
            namespace_from(cpp_read(text).second);
        } catch (const ProtocolError&) {
            cpp_refused = true;
        }
        EXPECT_TRUE(cpp_refused);
        mgw_reply reply;
        ASSERT_EQ(mgw_parse_reply(text.data(), text.size(), &reply, nullptr, 0), 0);
        mgw_namespace ns;
        EXPECT_EQ(mgw_namespace_read(&reply, &ns, nullptr, 0), -1);
    }
}

struct ConfigCase {
    const char* yaml;
    int fast;  // 1: the C client; 0: the C++ core reads it
    const char* socket;
    int timeout_ms, memo_ms, ttl_s, negative_ttl_s;
};

TEST(WireConfig, TakesOnlyPlainServiceSettingsAndLeavesTheRestToTheCore) {
    const int T = MAILGRANT_SERVICE_TIMEOUT_MS_DEFAULT, M = MAILGRANT_SERVICE_MEMO_MS_DEFAULT,
              L = MAILGRANT_CACHE_TTL_S_DEFAULT, N = MAILGRANT_CACHE_NEGATIVE_TTL_S_DEFAULT;
    const std::vector<ConfigCase> cases = {
        {"ldap:\n  base: dc=x\nservice:\n  listen: unix:/run/mailgrant/service\n", 1, "/run/mailgrant/service", T, M, L, N},
        {"service:\n  listen: \"unix:/s\"\n  timeout_ms: 1000\n  memo_ms: 0\ncache:\n  ttl_s: 5\n  negative_ttl_s: 0\n", 1,
         "/s", 1000, 0, 5, 0},
        {"ldap:\n  base: dc=x\n", 0, "", 0, 0, 0, 0},                       // no service: local
        {"service:\n  listen: \"\"\n", 0, "", 0, 0, 0, 0},
        {"service:\n", 0, "", 0, 0, 0, 0},
        {"service:\n  listen: inet:127.0.0.1:1\n", 0, "", 0, 0, 0, 0},      // config.cpp says why
        {"service:\n  listen: unix:/s\n  timeout_ms: 10\n", 0, "", 0, 0, 0, 0},   // below the bound
        {"service:\n  listen: unix:/s\n  memo_ms: 5001\n", 0, "", 0, 0, 0, 0},
        {"service:\n  listen: unix:/s\n  memo_ms: \"5\"\n", 0, "", 0, 0, 0, 0},   // quoted
        {"service:\n  listen: unix:/s\n  memo_ms: 0x10\n", 0, "", 0, 0, 0, 0},
        {"service:\n  listen: unix:/s\n  memo_ms: 010\n", 0, "", 0, 0, 0, 0},
        {"service:\n  listen: unix:/s\n  listen: unix:/t\n", 0, "", 0, 0, 0, 0},   // twice
        {"service:\n  listen: unix:/s\nservice:\n  listen: unix:/t\n", 0, "", 0, 0, 0, 0},
        {"service: [1]\n", 0, "", 0, 0, 0, 0},
        {"cache: 5\nservice:\n  listen: unix:/s\n", 0, "", 0, 0, 0, 0},
        {"service:\n  listen: unix:/s\n  timeout_ms: [1]\n", 0, "", 0, 0, 0, 0},
        {"- a\n", 0, "", 0, 0, 0, 0},
        {"service: {listen: unix:/s\n", 0, "", 0, 0, 0, 0},                    // not YAML
        {"", 0, "", 0, 0, 0, 0},
        // every key config.cpp reads there is taken; any other is left to it, which names it
        {"service:\n  listen: unix:/s\n  socket_owner: root\n  socket_group: mail\n  socket_mode: \"0660\"\n"
         "  workers: 4\ncache:\n  max_entries: 10\n  follow_changes: false\n", 1, "/s", T, M, L, N},
        {"service:\n  listen: unix:/s\n  memo: 0\n", 0, "", 0, 0, 0, 0},
        {"service:\n  listen: unix:/s\ncache:\n  tll_s: 5\n", 0, "", 0, 0, 0, 0},
        {"service:\n  listen: unix:/s\n  [a]: 1\n", 0, "", 0, 0, 0, 0},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.yaml);
        mgw_config config;
        char why[256] = "";
        ASSERT_EQ(mgw_config_parse(c.yaml, std::strlen(c.yaml), &config, why, sizeof why), c.fast) << why;
        if (!c.fast) continue;
        EXPECT_STREQ(config.socket_path, c.socket);
        EXPECT_EQ(config.timeout_ms, c.timeout_ms);
        EXPECT_EQ(config.memo_ms, c.memo_ms);
        EXPECT_EQ(config.ttl_s, c.ttl_s);
        EXPECT_EQ(config.negative_ttl_s, c.negative_ttl_s);
    }
}

// mgw_config_read sizes its buffer by fstat and grows it when the file is longer than
// that said (a pipe says 0): every size up to the limit reads whole, past it is refused.
TEST(WireConfig, ReadsTheWholeFileWhateverFstatSaysUpToTheLimit) {
    char dir[] = "/tmp/mailgrant-wire-config-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    const std::string path = std::string(dir) + "/mailgrant.yaml";
    const std::string yaml = "service:\n  listen: unix:/run/mailgrant/service\n  memo_ms: 7\n";
    auto write_file = [&](const std::string& text) {
        FILE* f = std::fopen(path.c_str(), "w");
        ASSERT_NE(f, nullptr);
        ASSERT_EQ(std::fwrite(text.data(), 1, text.size(), f), text.size());
        std::fclose(f);
    };
    mgw_config config;
    char why[256] = "";
    struct Case {
        std::string padding;   // a YAML comment before the settings
        int want;
    };
    const std::vector<Case> cases = {
        {"", 1},
        {"#" + std::string(4096, 'x') + "\n", 1},
        {"#" + std::string(MGW_MAX_CONFIG_BYTES - yaml.size() - 2, 'x') + "\n", 1},   // exactly the limit
        {"#" + std::string(MGW_MAX_CONFIG_BYTES - yaml.size() - 1, 'x') + "\n", 0},   // one byte more
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.padding.size() + yaml.size());
        write_file(c.padding + yaml);
        ASSERT_EQ(mgw_config_read(path.c_str(), &config, why, sizeof why), c.want) << why;
        if (c.want == 1) {
            EXPECT_STREQ(config.socket_path, "/run/mailgrant/service");
            EXPECT_EQ(config.memo_ms, 7);
        } else {
            EXPECT_NE(std::string(why).find("larger than 1 MiB"), std::string::npos) << why;
        }
    }
    // A pipe: fstat says 0 bytes, the reader grows its buffer to what comes.
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const std::string piped = "#" + std::string(5000, 'p') + "\n" + yaml;
    ASSERT_EQ(write(fds[1], piped.data(), piped.size()), static_cast<ssize_t>(piped.size()));
    close(fds[1]);
    const std::string via = "/proc/self/fd/" + std::to_string(fds[0]);
    ASSERT_EQ(mgw_config_read(via.c_str(), &config, why, sizeof why), 1) << why;
    EXPECT_STREQ(config.socket_path, "/run/mailgrant/service");
    close(fds[0]);
    EXPECT_EQ(mgw_config_read((std::string(dir) + "/missing.yaml").c_str(), &config, why, sizeof why), 0);
    EXPECT_NE(std::string(why).find("cannot open"), std::string::npos) << why;
    unlink(path.c_str());
    rmdir(dir);
}

// The keys the C reader takes in service: and cache: are keys config.cpp reads (an
// example value each), and a key outside the lists is one config.cpp refuses by name.
TEST(WireConfig, ItsKeyListsAreTheCoresKeys) {
    const std::vector<std::pair<std::string, std::string>> examples = {
        {"listen", "unix:/s"}, {"socket_owner", "root"}, {"socket_group", "mail"}, {"socket_mode", "\"0660\""},
        {"workers", "2"},      {"timeout_ms", "100"},    {"memo_ms", "0"},         {"ttl_s", "5"},
        {"negative_ttl_s", "1"}, {"follow_ttl_s", "600"}, {"max_entries", "10"}, {"follow_changes", "true"}};
    const auto example = [&](const std::string& key) {
        for (const auto& e : examples)
            if (e.first == key) return e.second;
        ADD_FAILURE() << "no example value for " << key;
        return std::string("1");
    };
    const char* const service_keys[] = {MAILGRANT_SERVICE_KEYS};
    const char* const cache_keys[] = {MAILGRANT_CACHE_KEYS};
    for (const auto& [section, keys] :
         {std::pair<std::string, std::vector<std::string>>{"service", {std::begin(service_keys), std::end(service_keys)}},
          {"cache", {std::begin(cache_keys), std::end(cache_keys)}}}) {
        for (const auto& key : keys) {
            SCOPED_TRACE(section + "." + key);
            try {
                parse_config("ldap:\n  base: dc=x\n" + section + ":\n  " + key + ": " + example(key) + "\n");
            } catch (const ConfigError& e) {
                ADD_FAILURE() << e.what();
            }
        }
        try {
            parse_config("ldap:\n  base: dc=x\n" + section + ":\n  no_such_key: 1\n", "t.yaml");
            ADD_FAILURE() << section << ": an unknown key was taken";
        } catch (const ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find("t.yaml:4: " + section + ".no_such_key: unknown key"),
                      std::string::npos) << e.what();
        }
    }
}

TEST(WireConfig, DefaultsAreTheCoresOwn) {
    const Config defaults;
    EXPECT_EQ(defaults.service.timeout_ms, MAILGRANT_SERVICE_TIMEOUT_MS_DEFAULT);
    EXPECT_EQ(defaults.service.memo_ms, MAILGRANT_SERVICE_MEMO_MS_DEFAULT);
    EXPECT_EQ(defaults.cache.ttl_s, MAILGRANT_CACHE_TTL_S_DEFAULT);
    EXPECT_EQ(defaults.cache.negative_ttl_s, MAILGRANT_CACHE_NEGATIVE_TTL_S_DEFAULT);
}

// A one-thread unix socket server: answers each connection with answer(question).
class FakeService {
public:
    explicit FakeService(std::string (*answer)(const std::string&)) : answer_(answer) {
        char dir[] = "/tmp/mgw-test-XXXXXX";
        dir_ = mkdtemp(dir);
        path_ = dir_ + "/service";
        fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
        EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        EXPECT_EQ(listen(fd_, 16), 0);
        thread_ = std::thread([this] { serve(); });
    }
    ~FakeService() {
        stop_ = true;
        shutdown(fd_, SHUT_RDWR);
        close(fd_);
        thread_.join();
        unlink(path_.c_str());
        rmdir(dir_.c_str());
    }
    const std::string& path() const { return path_; }
    int questions() const { return questions_; }

private:
    void serve() {
        for (int round = 0; round < 1000 && !stop_; ++round) {
            const int c = accept(fd_, nullptr, nullptr);
            if (c < 0) return;
            std::string question;
            char buf[4096];
            while (question.find('\n') == std::string::npos) {
                const ssize_t n = read(c, buf, sizeof buf);
                if (n <= 0) break;
                question.append(buf, static_cast<std::size_t>(n));
            }
            ++questions_;
            const std::string reply = answer_(question);
            if (reply != "hang") (void)!write(c, reply.data(), reply.size());
            else std::this_thread::sleep_for(std::chrono::milliseconds(300));
            close(c);
        }
    }
    std::string (*answer_)(const std::string&);
    std::string dir_, path_;
    int fd_ = -1;
    std::atomic<bool> stop_{false};
    std::atomic<int> questions_{0};
    std::thread thread_;
};

mgw_config config_for(const std::string& path, int timeout_ms, int memo_ms) {
    mgw_config c{};
    std::snprintf(c.socket_path, sizeof c.socket_path, "%s", path.c_str());
    c.timeout_ms = timeout_ms;
    c.memo_ms = memo_ms;
    c.ttl_s = 30;
    c.negative_ttl_s = 5;
    return c;
}

std::string rights_service(const std::string& q) {
    if (q.rfind("rights\t", 0) == 0) return "ok\tlr\n";
    if (q.rfind("namespace\t", 0) == 0)
        return "item\tmailbox\talice@example.com\t\t\t0\t\nitem\tpattern\tINBOX\tlrs\nitem\towner\tcarol@example.com\nok\n";
    if (q.rfind("root\t", 0) == 0) return "ok\t\tno grant covers every folder\n";
    if (q.rfind("grantees\t", 0) == 0) return "item\t1\tsupport\tlr\nok\n";
    if (q.rfind("may_open\t", 0) == 0) return "bad\tbad input: an over-long name\n";
    return "fail\tinternal error: unexpected\n";
}

TEST(WireCore, AsksOnceWithinMemoAndAnswersFromTheNamespace) {
    FakeService service(rights_service);
    const auto config = config_for(service.path(), 1000, 5000);
    mgw_core* core = mgw_core_new(&config);
    char letters[32], error[256];
    ASSERT_EQ(mgw_core_folder_rights(core, "bob", "dave@example.com", "INBOX", letters, sizeof letters, error, sizeof error), 0);
    EXPECT_STREQ(letters, "lr");
    ASSERT_EQ(mgw_core_folder_rights(core, "bob", "dave@example.com", "INBOX", letters, sizeof letters, error, sizeof error), 0);
    EXPECT_EQ(service.questions(), 1);  // the second from the memo
    std::vector<std::string> owners;
    ASSERT_EQ(mgw_core_sharing_owners(core, "bob", [](void* ctx, const char* o) {
        static_cast<std::vector<std::string>*>(ctx)->push_back(o); }, &owners, error, sizeof error), 0);
    EXPECT_EQ(owners, (std::vector<std::string>{"alice@example.com", "carol@example.com"}));
    EXPECT_EQ(service.questions(), 2);
    ASSERT_EQ(mgw_core_folder_rights(core, "bob", "alice@example.com", "inbox", letters, sizeof letters, error, sizeof error), 0);
    EXPECT_STREQ(letters, "lrs");  // from the namespace: no question
    char message[256];
    ASSERT_EQ(mgw_core_root_rights(core, "bob", "alice@example.com", letters, sizeof letters, message, sizeof message), 0);
    EXPECT_EQ(service.questions(), 2);
    // carol is listed unanswered: her questions go to the service
    ASSERT_EQ(mgw_core_root_rights(core, "bob", "carol@example.com", letters, sizeof letters, message, sizeof message), 0);
    EXPECT_STREQ(message, "no grant covers every folder");
    EXPECT_EQ(service.questions(), 3);
    EXPECT_EQ(mgw_core_questions_sent(core), 3u);
    mgw_core_forget(core);  // after a SETACL
    ASSERT_EQ(mgw_core_folder_rights(core, "bob", "alice@example.com", "INBOX", letters, sizeof letters, error, sizeof error), 0);
    EXPECT_STREQ(letters, "lr");  // asked again
    EXPECT_EQ(service.questions(), 4);
    mgw_core_free(core);
}

TEST(WireCore, APinnedNamespaceAnswersPastMemoUntilTheCommandEnds) {
    FakeService service(rights_service);
    const auto config = config_for(service.path(), 1000, 1);  // memo_ms 1: stale at once
    char letters[32], error[256];
    const auto owners_then_rights = [&](mgw_core* core) {
        std::vector<std::string> owners;
        EXPECT_EQ(mgw_core_sharing_owners(core, "bob", [](void*, const char*) {}, &owners, error, sizeof error), 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a long LIST
        EXPECT_EQ(mgw_core_folder_rights(core, "bob", "alice@example.com", "INBOX", letters, sizeof letters, error,
                                         sizeof error), 0);
        EXPECT_STREQ(letters, "lrs");
    };
    mgw_core* plain = mgw_core_new(&config);
    owners_then_rights(plain);
    EXPECT_EQ(service.questions(), 2);  // stale after 1 ms: the namespace fetched again
    mgw_core_free(plain);

    mgw_core* pinned = mgw_core_new(&config);
    mgw_core_pin_per_command(pinned, 1);
    owners_then_rights(pinned);
    EXPECT_EQ(service.questions(), 3);  // one namespace for the whole command
    mgw_core_command_done(pinned);      // the next command asks again
    ASSERT_EQ(mgw_core_folder_rights(pinned, "bob", "alice@example.com", "INBOX", letters, sizeof letters, error,
                                     sizeof error), 0);
    EXPECT_EQ(service.questions(), 4);
    mgw_core_free(pinned);
}

TEST(WireNamespace, APinLastsUntilUnpinnedAndAtMostPinMax) {
    // the memo alone, on a clock of our own; find()'s *ns_r says whether the entry is
    // fresh (the namespace here is empty, so no mailbox is found either way)
    mgw_namespace_memo* memo = mgw_namespace_memo_new(100);  // keep_ms 100
    mgw_namespace ns{};
    const timespec at{1000, 0};
    const timespec later{1000 + MGW_PIN_MAX_MS / 1000 - 1, 0}, past{1000 + MGW_PIN_MAX_MS / 1000, 0};
    const auto fresh = [&](const timespec& now) {
        const mgw_namespace* got = nullptr;
        (void)mgw_namespace_memo_find(memo, "bob", "alice@example.com", &now, &got);
        return got != nullptr;
    };
    mgw_namespace_memo_put(memo, "bob", &ns, &at, 1);
    EXPECT_TRUE(fresh(later));   // past keep_ms: pinned
    EXPECT_FALSE(fresh(past));   // never past MGW_PIN_MAX_MS
    mgw_namespace_memo_unpin(memo);
    EXPECT_FALSE(fresh(later));  // unpinned: keep_ms again
    EXPECT_TRUE(fresh(timespec{1000, 50 * 1000000}));
    mgw_namespace_memo_free(memo);
}

TEST(WireCore, BadInputFailsOneCallAndTroubleOpensTheBreaker) {
    FakeService service(rights_service);
    auto config = config_for(service.path(), 1000, 0);
    mgw_core* core = mgw_core_new(&config);
    char error[256];
    EXPECT_EQ(mgw_core_may_open_mailbox(core, "bob", "x", error, sizeof error), MAILGRANT_CORE_BAD_INPUT);
    EXPECT_STREQ(error, "bad input: an over-long name");
    char message[256], letters[32];
    EXPECT_EQ(mgw_core_team_folders(core, "bob", "x", [](void*, const char*, const char*) {}, nullptr, message,
                                    sizeof message), -1);
    EXPECT_STREQ(message, "internal error: unexpected");
    EXPECT_EQ(mgw_core_root_rights(core, nullptr, "x", letters, sizeof letters, message, sizeof message),
              MAILGRANT_CORE_BAD_INPUT);
    EXPECT_EQ(service.questions(), 2);  // neither bad input nor a failure opened the breaker
    mgw_core_free(core);

    // No service at that path: a temp answer naming the socket; then the breaker answers.
    config = config_for(service.path() + ".missing", 1000, 0);
    core = mgw_core_new(&config);
    EXPECT_EQ(mgw_core_folder_rights(core, "bob", "x", "INBOX", letters, sizeof letters, error, sizeof error), -1);
    EXPECT_NE(std::string(error).find("mailgrant service unix:" + service.path() + ".missing: connect: "),
              std::string::npos) << error;
    EXPECT_EQ(mgw_core_questions_sent(core), 1u);
    EXPECT_EQ(mgw_core_folder_rights(core, "bob", "x", "INBOX", letters, sizeof letters, error, sizeof error), -1);
    EXPECT_EQ(mgw_core_questions_sent(core), 1u);  // the breaker answered
    EXPECT_STREQ(letters, "");
    mgw_core_free(core);
}

// Asking ahead (LIST's pre-hook): the service has the question before mgw_ask, which
// reads that answer instead of asking again; any other question or the command's end
// closes it unread.
TEST(WireClient, AQuestionAskedAheadIsReadByTheSameQuestionOnly) {
    std::signal(SIGPIPE, SIG_IGN);  // the fake service may answer a connection closed unread
    FakeService service(rights_service);
    mgw_client* client = mgw_client_new(service.path().c_str(), 1000, 0);
    const char* bob[] = {"bob"};
    const char* carol[] = {"carol"};
    unsigned long used = 0, dropped = 0;
    const auto answered_ahead = [&] {
        for (int i = 0; i < 400 && service.questions() == 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return service.questions();
    };
    ASSERT_EQ(mgw_ask_ahead(client, "namespace", bob, 1), 0);
    ASSERT_EQ(mgw_ask_ahead(client, "namespace", bob, 1), 0);  // already ahead: not sent twice
    EXPECT_EQ(answered_ahead(), 1);  // the service answered before anyone asked
    mgw_reply reply;
    mgw_ask(client, "namespace", bob, 1, &reply);
    ASSERT_EQ(reply.status, MGW_OK) << mgw_reply_message(&reply);
    EXPECT_EQ(reply.item_count, 3u);
    mgw_reply_free(&reply);
    EXPECT_EQ(service.questions(), 1);
    EXPECT_EQ(mgw_client_questions_sent(client), 1u);
    mgw_client_ahead_counts(client, &used, &dropped);
    EXPECT_EQ(used, 1u);
    EXPECT_EQ(dropped, 0u);

    mgw_ask(client, "namespace", bob, 1, &reply);  // read once: asked again
    mgw_reply_free(&reply);
    EXPECT_EQ(service.questions(), 2);

    ASSERT_EQ(mgw_ask_ahead(client, "namespace", bob, 1), 0);
    mgw_ask(client, "namespace", carol, 1, &reply);  // not bob's answer: closed unread
    EXPECT_EQ(reply.status, MGW_OK);
    mgw_reply_free(&reply);
    ASSERT_EQ(mgw_ask_ahead(client, "namespace", bob, 1), 0);
    mgw_client_drop_ahead(client);                  // the command ended
    mgw_ask(client, "namespace", bob, 1, &reply);
    mgw_reply_free(&reply);
    mgw_client_ahead_counts(client, &used, &dropped);
    EXPECT_EQ(used, 1u);
    EXPECT_EQ(dropped, 2u);
    EXPECT_EQ(mgw_client_questions_sent(client), 6u);
    mgw_client_free(client);

    // The process worked longer than service.timeout_ms before it needed the answer
    // (a large private folder tree): the answer asked ahead is still read, not "timed out"
    client = mgw_client_new(service.path().c_str(), 50, 0);
    ASSERT_EQ(mgw_ask_ahead(client, "namespace", bob, 1), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(120));
    mgw_ask(client, "namespace", bob, 1, &reply);
    EXPECT_EQ(reply.status, MGW_OK) << mgw_reply_message(&reply);
    mgw_reply_free(&reply);
    mgw_client_ahead_counts(client, &used, &dropped);
    EXPECT_EQ(used, 1u);
    mgw_client_free(client);

    // No service: nothing is ahead, and the ask that follows says why
    client = mgw_client_new((service.path() + ".missing").c_str(), 1000, 0);
    EXPECT_EQ(mgw_ask_ahead(client, "namespace", bob, 1), -1);
    mgw_ask(client, "namespace", bob, 1, &reply);
    EXPECT_EQ(reply.status, MGW_TEMP);
    EXPECT_NE(std::string(mgw_reply_message(&reply)).find("connect: "), std::string::npos);
    mgw_reply_free(&reply);
    mgw_client_free(client);
}

TEST(WireCore, TheNamespaceIsAskedAheadOnlyWhenTheListWillAskForIt) {
    std::signal(SIGPIPE, SIG_IGN);
    FakeService service(rights_service);
    const auto config = config_for(service.path(), 1000, 1);  // memo_ms 1: stale at once
    mgw_core* core = mgw_core_new(&config);
    mgw_core_pin_per_command(core, 1);
    char letters[32], error[256];
    unsigned long used = 0, dropped = 0;
    std::vector<std::string> owners;
    const auto add = [](void* ctx, const char* o) { static_cast<std::vector<std::string>*>(ctx)->push_back(o); };
    // the session's first LIST: its sharing dict asks
    mgw_core_namespace_ahead(core, "bob");
    ASSERT_EQ(mgw_core_sharing_owners(core, "bob", add, &owners, error, sizeof error), 0);
    EXPECT_EQ(owners, (std::vector<std::string>{"alice@example.com", "carol@example.com"}));
    EXPECT_EQ(service.questions(), 1);
    mgw_core_ahead_counts(core, &used, &dropped);
    EXPECT_EQ(used, 1u);
    mgw_core_namespace_ahead(core, "bob");  // pinned, fresh: nothing in this command would ask
    EXPECT_EQ(mgw_core_questions_sent(core), 1u);
    mgw_core_command_done(core);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    // a later LIST: the namespace is stale and lists alice, whose rights check fetches it
    mgw_core_namespace_ahead(core, "bob");
    ASSERT_EQ(mgw_core_folder_rights(core, "bob", "alice@example.com", "INBOX", letters, sizeof letters, error,
                                     sizeof error), 0);
    EXPECT_STREQ(letters, "lrs");
    EXPECT_EQ(mgw_core_questions_sent(core), 2u);
    mgw_core_ahead_counts(core, &used, &dropped);
    EXPECT_EQ(used, 2u);
    mgw_core_command_done(core);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    mgw_core_namespace_ahead(core, "bob");
    mgw_core_command_done(core);  // a LIST that never reached a shared folder: closed unread
    mgw_core_ahead_counts(core, &used, &dropped);
    EXPECT_EQ(dropped, 1u);
    EXPECT_EQ(mgw_core_questions_sent(core), 3u);
    mgw_core_namespace_ahead(core, "");  // no login: nothing asked
    mgw_core_namespace_ahead(core, nullptr);
    EXPECT_EQ(mgw_core_questions_sent(core), 3u);
    mgw_core_free(core);

    // nobody shares with bob: once the namespace is known, later LISTs ask nothing
    FakeService nobody([](const std::string&) { return std::string("ok\n"); });
    const auto empty = config_for(nobody.path(), 1000, 1);
    core = mgw_core_new(&empty);
    mgw_core_namespace_ahead(core, "bob");
    ASSERT_EQ(mgw_core_sharing_owners(core, "bob", add, &owners, error, sizeof error), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    mgw_core_namespace_ahead(core, "bob");
    EXPECT_EQ(mgw_core_questions_sent(core), 1u);
    mgw_core_free(core);

    // service.memo_ms 0 keeps nothing: once the session's sharing dict was asked, no
    // LIST reads a namespace, and none is asked ahead
    const auto unkept = config_for(service.path(), 1000, 0);
    core = mgw_core_new(&unkept);
    mgw_core_namespace_ahead(core, "bob");
    ASSERT_EQ(mgw_core_sharing_owners(core, "bob", add, &owners, error, sizeof error), 0);
    mgw_core_command_done(core);
    mgw_core_namespace_ahead(core, "bob");
    mgw_core_command_done(core);
    EXPECT_EQ(mgw_core_questions_sent(core), 1u);
    mgw_core_free(core);

    // what is kept from an answer asked ahead is as old as the question, not the read:
    // asked 150 ms before it was read, with memo_ms 100 it is stale at once
    const auto short_memo = config_for(service.path(), 1000, 100);
    core = mgw_core_new(&short_memo);
    mgw_core_namespace_ahead(core, "bob");
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    ASSERT_EQ(mgw_core_sharing_owners(core, "bob", add, &owners, error, sizeof error), 0);
    ASSERT_EQ(mgw_core_folder_rights(core, "bob", "alice@example.com", "INBOX", letters, sizeof letters, error,
                                     sizeof error), 0);
    EXPECT_EQ(mgw_core_questions_sent(core), 2u);  // fetched again
    mgw_core_free(core);

    // the breaker open (the service missing): nothing is sent ahead
    const auto missing = config_for(service.path() + ".missing", 1000, 0);
    core = mgw_core_new(&missing);
    EXPECT_EQ(mgw_core_sharing_owners(core, "bob", add, &owners, error, sizeof error), -1);
    mgw_core_namespace_ahead(core, "bob");
    EXPECT_EQ(mgw_core_questions_sent(core), 1u);
    mgw_core_free(core);
}

TEST(WireClient, ASlowOrGarbledServiceIsTemporary) {
    FakeService slow([](const std::string&) { return std::string("hang"); });
    mgw_client* client = mgw_client_new(slow.path().c_str(), 100, 0);
    mgw_reply reply;
    const char* f[] = {"bob", "x", "INBOX"};
    mgw_ask(client, "rights", f, 3, &reply);
    EXPECT_EQ(reply.status, MGW_TEMP);
    EXPECT_NE(std::string(mgw_reply_message(&reply)).find("no answer within service.timeout_ms"), std::string::npos);
    mgw_reply_free(&reply);
    mgw_client_free(client);

    FakeService garbled([](const std::string&) { return std::string("ok\t%G1\n"); });
    client = mgw_client_new(garbled.path().c_str(), 1000, 1000);
    mgw_ask(client, "rights", f, 3, &reply);
    EXPECT_EQ(reply.status, MGW_TEMP);
    EXPECT_NE(std::string(mgw_reply_message(&reply)).find("bad %XX escape"), std::string::npos);
    mgw_reply_free(&reply);
    mgw_client_free(client);
}

}  // namespace
