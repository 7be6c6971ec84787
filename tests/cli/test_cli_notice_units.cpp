// test_cli_notice_units.cpp -- the notices (issue 13) without network: every case of
// tests/fixtures/notices/render-cases.json (the table the Roundcube plugin's PHP renderer
// runs too), the Accept-Language choice, every shipped template, site overrides, and the
// message structure (headers, RFC 2047 words, quoted-printable, multipart/alternative).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "grant_spec.h"
#include "notice_mail.h"
#include "notice_template.h"
#include "notify.h"

#ifndef NOTICE_FIXTURES
#error "NOTICE_FIXTURES must name tests/fixtures/notices"
#endif

namespace {

using namespace mailgrant::cli;

// ---- a minimal JSON reader for the case table (objects, arrays, strings, booleans) ----
struct JValue {
    enum class T { Null, Bool, Num, Str, Arr, Obj } t = T::Null;
    bool b = false;
    std::string s;
    std::vector<JValue> a;
    std::map<std::string, JValue> o;
    const JValue* get(const std::string& k) const {
        auto it = o.find(k);
        return it == o.end() ? nullptr : &it->second;
    }
};

struct JReader {
    const std::string& x;
    std::size_t i = 0;
    void ws() {
        while (i < x.size() && std::isspace(static_cast<unsigned char>(x[i]))) ++i;
    }
    static void utf8(std::string& out, unsigned cp) {
        if (cp < 0x80) out += static_cast<char>(cp);
        else if (cp < 0x800) out += {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 63))};
        else if (cp < 0x10000)
            out += {static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 63)),
                    static_cast<char>(0x80 | (cp & 63))};
        else
            out += {static_cast<char>(0xF0 | (cp >> 18)), static_cast<char>(0x80 | ((cp >> 12) & 63)),
                    static_cast<char>(0x80 | ((cp >> 6) & 63)), static_cast<char>(0x80 | (cp & 63))};
    }
    std::string str() {
        std::string out;
        ++i;  // "
        while (x.at(i) != '"') {
            if (x[i] != '\\') {
                out += x[i++];
                continue;
            }
            const char e = x.at(++i);
            ++i;
            switch (e) {
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'u': {
                    unsigned cp = std::stoul(x.substr(i, 4), nullptr, 16);
                    i += 4;
                    if (cp >= 0xD800 && cp < 0xDC00 && x.compare(i, 2, "\\u") == 0) {
                        const unsigned lo = std::stoul(x.substr(i + 2, 4), nullptr, 16);
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        i += 6;
                    }
                    utf8(out, cp);
                    break;
                }
                default: out += e;
            }
        }
        ++i;
        return out;
    }
    JValue value() {
        ws();
        JValue v;
        const char c = x.at(i);
        if (c == '{') {
            v.t = JValue::T::Obj;
            ++i;
            ws();
            while (x.at(i) != '}') {
                ws();
                const std::string k = str();
                ws();
                ++i;  // :
                v.o[k] = value();
                ws();
                if (x[i] == ',') ++i;
                ws();
            }
            ++i;
        } else if (c == '[') {
            v.t = JValue::T::Arr;
            ++i;
            ws();
            while (x.at(i) != ']') {
                v.a.push_back(value());
                ws();
                if (x[i] == ',') ++i;
                ws();
            }
            ++i;
        } else if (c == '"') {
            v.t = JValue::T::Str;
            v.s = str();
        } else if (x.compare(i, 4, "true") == 0) {
            v.t = JValue::T::Bool;
            v.b = true;
            i += 4;
        } else if (x.compare(i, 5, "false") == 0) {
            v.t = JValue::T::Bool;
            i += 5;
        } else if (x.compare(i, 4, "null") == 0) {
            i += 4;
        } else {
            v.t = JValue::T::Num;
            while (i < x.size() && (std::isdigit(static_cast<unsigned char>(x[i])) || x[i] == '-' || x[i] == '.')) v.s += x[i++];
        }
        return v;
    }
};

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST(NoticeRender, EveryCaseOfTheSharedTable) {
    const std::string text = slurp(std::string(NOTICE_FIXTURES) + "/render-cases.json");
    ASSERT_FALSE(text.empty());
    JReader r{text};
    const JValue cases = r.value();
    ASSERT_EQ(cases.t, JValue::T::Arr);
    EXPECT_GE(cases.a.size(), 40u);
    for (const auto& c : cases.a) {
        const std::string name = c.get("name")->s;
        TemplateVars vars;
        for (const auto& [k, v] : c.get("vars")->o) vars[k] = v.s;
        const bool html = c.get("html") && c.get("html")->b;
        std::string got, error;
        try {
            got = NoticeTemplate::parse(c.get("template")->s, html, "case", notice_variable_names()).render(vars);
        } catch (const TemplateError& e) {
            error = e.what();
        }
        if (const JValue* expect = c.get("expect")) {
            EXPECT_EQ(error, "") << name;
            EXPECT_EQ(got, expect->s) << name;
        } else {
            ASSERT_NE(c.get("error"), nullptr) << name;
            EXPECT_NE(error.find(c.get("error")->s), std::string::npos) << name << ": got '" << error << "'";
            EXPECT_EQ(error.find('\n'), std::string::npos) << name;
        }
    }
}

struct LanguageCase {
    const char* preferred;
    const char* expect;
};

class Language : public testing::TestWithParam<LanguageCase> {};

TEST_P(Language, ChoosesTheBestShippedLanguage) {
    const std::set<std::string> available{"en", "pl", "it", "de", "ru"};
    EXPECT_EQ(choose_language(GetParam().preferred, available, "en"), GetParam().expect) << GetParam().preferred;
}

INSTANTIATE_TEST_SUITE_P(
    Table, Language,
    testing::Values(LanguageCase{"pl", "pl"}, LanguageCase{"pl-PL", "pl"}, LanguageCase{"PL-pl", "pl"},
                    LanguageCase{"it-IT, en;q=0.8", "it"}, LanguageCase{"fr, de;q=0.5, en;q=0.4", "de"},
                    LanguageCase{"en;q=0.2, ru;q=0.9", "ru"}, LanguageCase{"fr", "en"}, LanguageCase{"", "en"},
                    LanguageCase{"*", "en"}, LanguageCase{"fr, *;q=0.5, pl;q=0.4", "en"},
                    LanguageCase{"pl;q=0, de", "de"}, LanguageCase{"de;q=0.5, it;q=0.5", "de"},
                    LanguageCase{"x-klingon, de", "de"}, LanguageCase{"123, it", "it"},
                    LanguageCase{"pl;q=2, it", "it"}, LanguageCase{"pl;q=abc, it;q=0.1", "it"},
                    LanguageCase{"de-CH-1996", "de"}, LanguageCase{"pl-toolongsubtag, ru", "ru"},
                    LanguageCase{" , ,pl", "pl"}, LanguageCase{"ru;q=1.000", "ru"}, LanguageCase{"ru;q=0.", "en"}));

TEST(Language, LimitsAndFallback) {
    const std::set<std::string> available{"en", "pl"};
    std::string many;
    for (int i = 0; i < 40; ++i) many += "fr, ";
    EXPECT_EQ(choose_language(many + "pl", available, "en"), "en");  // the 41st item is past the limit
    EXPECT_EQ(choose_language(std::string(2000, 'a') + ", pl", available, "en"), "en");
    EXPECT_EQ(choose_language("fr", available, "pl"), "pl");
}

Notice sample(NoticeKind kind, const std::string& lang) {
    Notice n;
    n.kind = kind;
    n.from = "postmaster@example.com";
    n.to = "ewa@example.com";
    n.to_name = "Ewa Kowalska";
    n.owner = "alice@example.com";
    n.owner_name = "Alice Example";
    n.actor_name = "Alice Example";
    n.actor_address = "alice@example.com";
    n.folders = {"INBOX", "Projects/*"};
    n.rights = "lrs";
    n.role = "reader";
    n.send_as = true;
    n.not_after = parse_time_argument("2030-08-31", true);
    n.date = 1700000000;
    n.preferred_language = lang;
    n.templates_dir = "";
    n.webmail_url = "https://mail.example.com/roundcube/";
    return n;
}

TEST(NoticeTemplates, EveryShippedTemplateLoadsAndRendersCompletely) {
    for (const char* lang : {"en", "pl", "it", "de", "ru"})
        for (auto kind : {NoticeKind::Grant, NoticeKind::Invite, NoticeKind::Revoke, NoticeKind::Expiring}) {
            Notice n = sample(kind, lang);
            if (kind == NoticeKind::Invite) n.invitation_expires = n.date + 14 * 86400;
            const RenderedNotice r = render_notice(n);
            const std::string what = std::string(lang) + "/" + notice_kind_name(kind);
            EXPECT_EQ(r.language, lang) << what;
            EXPECT_FALSE(r.subject.empty()) << what;
            EXPECT_EQ(r.subject.find('\n'), std::string::npos) << what;
            for (const std::string* body : {&r.text, &r.html}) {
                EXPECT_EQ(body->find("{{"), std::string::npos) << what;
                EXPECT_NE(body->find("alice@example.com"), std::string::npos) << what;  // who / what
                EXPECT_NE(body->find("Alice Example"), std::string::npos) << what;      // the actor
            }
            EXPECT_NE(r.html.find("<html lang=\"" + std::string(lang) + "\">"), std::string::npos) << what;
            if (kind != NoticeKind::Revoke) {
                EXPECT_NE(r.text.find("2030-08-31 23:59:59Z"), std::string::npos) << what;  // until when
                EXPECT_NE(r.text.find("shared/alice@example.com/INBOX"), std::string::npos) << what;  // Thunderbird
                EXPECT_NE(r.text.find("alice@example.com*ewa@example.com"), std::string::npos) << what;  // phone
            }
            if (kind == NoticeKind::Invite) {
                EXPECT_NE(r.text.find("https://mail.example.com/roundcube/?_task=settings&_action=plugin.mailgrant-shared"),
                          std::string::npos) << what;
                EXPECT_NE(r.html.find("?_task=settings&amp;_action=plugin.mailgrant-shared"), std::string::npos) << what;
            }
            if (kind == NoticeKind::Grant || kind == NoticeKind::Expiring) {
                EXPECT_NE(r.text.find("https://mail.example.com/roundcube/?_task=mail&_mbox=shared%2Falice%40example.com%2FINBOX"),
                          std::string::npos) << what;
            }
        }
}

TEST(NoticeTemplates, LanguageAndWords) {
    EXPECT_EQ(render_notice(sample(NoticeKind::Grant, "pl-PL, en;q=0.5")).subject,
              "alice@example.com udostępnia Ci INBOX, Projects/*");
    EXPECT_EQ(render_notice(sample(NoticeKind::Grant, "it")).subject,
              "alice@example.com ha condiviso con te INBOX, Projects/*");
    EXPECT_NE(render_notice(sample(NoticeKind::Grant, "it")).text.find("sola lettura"), std::string::npos);
    EXPECT_EQ(render_notice(sample(NoticeKind::Grant, "fr")).language, "en");
    Notice n = sample(NoticeKind::Grant, "fr");
    n.default_language = "de";
    EXPECT_EQ(render_notice(n).language, "de");
    n.actor_name = n.actor_address = "";  // nobody known: the mail administrator
    EXPECT_NE(render_notice(n).text.find("der Mail-Administrator"), std::string::npos);
    n = sample(NoticeKind::Expiring, "en");
    n.date = *n.not_after - 3 * 86400;  // 3 calendar days before its last day, whatever the hour
    EXPECT_NE(render_notice(n).text.find("(in 3 day(s))"), std::string::npos);
    n = sample(NoticeKind::Revoke, "en");
    EXPECT_EQ(render_notice(n).subject, "Your access to alice@example.com has been removed");
    EXPECT_NE(render_notice(n).text.find("Removed by: Alice Example <alice@example.com>"), std::string::npos);
}

TEST(NoticeTemplates, SiteDirectoryOverridesFileByFile) {
    char dir[] = "/tmp/mailgrant-notices-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    const std::string pl = std::string(dir) + "/pl";
    ASSERT_EQ(mkdir(pl.c_str(), 0755), 0);
    std::ofstream(pl + "/grant.txt") << "Subject: Lokalnie {{owner_address}}\n\nTreść {{recipient_name}}\n";
    Notice n = sample(NoticeKind::Grant, "pl");
    n.templates_dir = dir;
    RenderedNotice r = render_notice(n);
    EXPECT_EQ(r.subject, "Lokalnie alice@example.com");
    EXPECT_EQ(r.text, "Treść Ewa Kowalska\n");
    EXPECT_NE(r.html.find("<html lang=\"pl\">"), std::string::npos);  // the shipped .html
    std::ofstream(pl + "/grant.txt") << "Subject: x\n{{nope}}\n";
    try {
        render_notice(n);
        ADD_FAILURE() << "an unknown variable must be refused";
    } catch (const TemplateError& e) {
        EXPECT_NE(std::string(e.what()).find(pl + "/grant.txt:2: unknown variable 'nope'"), std::string::npos) << e.what();
    }
    std::ofstream(pl + "/grant.txt") << "Hello\n";
    EXPECT_THROW(render_notice(n), TemplateError);  // no Subject line
    unlink((pl + "/grant.txt").c_str());
    rmdir(pl.c_str());
    rmdir(dir);
}

std::string unbase64(const std::string& in) {
    static const std::string t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned v = 0;
    int bits = 0;
    for (char c : in) {
        if (c == '=') break;
        v = (v << 6) | static_cast<unsigned>(t.find(c));
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((v >> bits) & 0xFF);
        }
    }
    return out;
}

TEST(NoticeMail, EncodedWordsHoldWholeCharacters) {
    EXPECT_EQ(encode_header_text("plain ascii"), "plain ascii");
    const std::string subject = "Twój dostęp do alice@example.com wygasa 2030-08-31 23:59:59Z — ważne żółć";
    const std::string enc = encode_header_text(subject);
    std::string decoded;
    std::istringstream words(enc);
    std::string w;
    while (words >> w) {
        ASSERT_EQ(w.rfind("=?UTF-8?B?", 0), 0u) << w;
        ASSERT_LE(w.size(), 75u);
        const std::string part = unbase64(w.substr(10, w.size() - 12));
        EXPECT_NE(static_cast<unsigned char>(part.front()) & 0xC0, 0x80u) << "a word starts inside a character";
        decoded += part;
    }
    EXPECT_EQ(decoded, subject);
    EXPECT_EQ(format_mailbox("", "bob@example.com"), "<bob@example.com>");
    EXPECT_EQ(format_mailbox("Bob \"B\" Example", "bob@example.com"), "\"Bob \\\"B\\\" Example\" <bob@example.com>");
    EXPECT_EQ(format_mailbox("Łucja", "l@example.com"), "=?UTF-8?B?xYF1Y2ph?= <l@example.com>");
    EXPECT_EQ(format_mailbox("x\r\nBcc: y", "a@b\nc"), "\"x  Bcc: y\" <a@b c>");
}

TEST(NoticeMail, QuotedPrintable) {
    EXPECT_EQ(quoted_printable("a=b\n"), "a=3Db\n");
    EXPECT_EQ(quoted_printable("trailing \n"), "trailing=20\n");
    EXPECT_EQ(quoted_printable("ż\n"), "=C5=BC\n");
    const std::string qp = quoted_printable(std::string(200, 'x') + "\n" + std::string(100, 'a') + "ó\n");
    std::istringstream lines(qp);
    std::string line;
    while (std::getline(lines, line)) EXPECT_LE(line.size(), 76u) << line;
    std::string back;  // soft breaks removed, =XX decoded
    for (std::size_t i = 0; i < qp.size(); ++i) {
        if (qp[i] == '=' && qp[i + 1] == '\n') ++i;
        else if (qp[i] == '=') {
            back += static_cast<char>(std::stoi(qp.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else back += qp[i];
    }
    EXPECT_EQ(back, std::string(200, 'x') + "\n" + std::string(100, 'a') + "ó\n");
}

TEST(NoticeMail, MessageIsMultipartAlternative) {
    Notice n = sample(NoticeKind::Grant, "ru");
    const std::string m = compose_notice(n);
    const auto head_end = m.find("\n\n");
    const std::string head = m.substr(0, head_end + 1);
    EXPECT_NE(head.find("From: \"mailgrant\" <postmaster@example.com>\n"), std::string::npos) << head;
    EXPECT_NE(head.find("To: \"Ewa Kowalska\" <ewa@example.com>\n"), std::string::npos) << head;
    EXPECT_NE(head.find("Subject: =?UTF-8?B?"), std::string::npos) << head;
    EXPECT_NE(head.find("Date: Tue, 14 Nov 2023 22:13:20 +0000\n"), std::string::npos);
    EXPECT_NE(head.find("Message-ID: <mailgrant.1700000000."), std::string::npos);
    EXPECT_NE(head.find("MIME-Version: 1.0\n"), std::string::npos);
    const std::string key = "Content-Type: multipart/alternative; boundary=\"";
    const auto b = head.find(key);
    ASSERT_NE(b, std::string::npos);
    const std::string boundary = head.substr(b + key.size(), head.find('"', b + key.size()) - b - key.size());
    EXPECT_EQ(boundary.rfind("=_mailgrant_", 0), 0u);
    const auto plain = m.find("--" + boundary + "\nContent-Type: text/plain; charset=utf-8\n"
                              "Content-Transfer-Encoding: quoted-printable\n\n");
    const auto html = m.find("--" + boundary + "\nContent-Type: text/html; charset=utf-8\n"
                             "Content-Transfer-Encoding: quoted-printable\n\n");
    ASSERT_NE(plain, std::string::npos);
    ASSERT_NE(html, std::string::npos);
    EXPECT_LT(plain, html);
    EXPECT_EQ(m.substr(m.size() - boundary.size() - 5), "--" + boundary + "--\n");
    for (unsigned char c : m) EXPECT_LT(c, 0x80) << "the message is 7-bit";
}

TEST(NoticeMail, SmtpUrl) {
    EXPECT_EQ(smtp_url("127.0.0.1:25"), "smtp://127.0.0.1:25");
    EXPECT_EQ(smtp_url("[::1]:587"), "smtp://[::1]:587");
    EXPECT_EQ(smtp_url("smtps://mail.example.com:465"), "smtps://mail.example.com:465");
    EXPECT_THROW(smtp_url("localhost"), std::runtime_error);
    EXPECT_THROW(smtp_url(":25"), std::runtime_error);
    EXPECT_THROW(smtp_url("http://x:80/"), std::runtime_error);
}

}  // namespace
