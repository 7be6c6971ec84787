// last_login.cpp -- see last_login.h.
#include "last_login.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <vector>

namespace mailgrant::cli {
namespace {

// Dovecot's str_tabunescape: \001 followed by '1', 't', 'r', 'n' stands for \001, TAB, CR, LF.
std::string tab_unescape(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\001' || i + 1 >= s.size()) {
            out += s[i];
            continue;
        }
        const char c = s[++i];
        out += c == '1' ? '\001' : c == 't' ? '\t' : c == 'r' ? '\r' : c == 'n' ? '\n' : c;
    }
    return out;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::string line;
    std::istringstream in(text);
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(line);
    }
    return lines;
}

// Logins match case-insensitively (DESIGN.md, "Identity"): keys are kept lower-cased.
std::map<std::string, std::string> lower_keys(const std::map<std::string, std::string>& in) {
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : in) {
        std::string key = k;
        std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        out[key] = v;
    }
    return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) s.replace(pos, from.size(), to);
    return s;
}

}  // namespace

std::map<std::string, std::string> parse_file_dict(const std::string& text) {
    std::map<std::string, std::string> out;
    const auto lines = lines_of(text);
    for (std::size_t i = 0; i + 1 < lines.size(); i += 2) {
        if (lines[i].size() > kMaxLastLoginKeyBytes || lines[i + 1].size() > kMaxLastLoginKeyBytes) continue;
        out[tab_unescape(lines[i])] = tab_unescape(lines[i + 1]);
    }
    return out;
}

std::map<std::string, std::string> parse_dict_iter_tab(const std::string& text) {
    std::map<std::string, std::string> out;
    bool header = true;
    for (const auto& line : lines_of(text)) {
        if (header) {  // "key\tvalue"
            header = false;
            if (line == "key\tvalue") continue;
        }
        const auto tab = line.find('\t');
        if (tab == std::string::npos || line.size() > 2 * kMaxLastLoginKeyBytes) continue;
        out[tab_unescape(line.substr(0, tab))] = tab_unescape(line.substr(tab + 1));
    }
    return out;
}

std::optional<std::time_t> parse_last_login_value(const std::string& value) {
    if (value.empty() || value.size() > 20 || value.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    unsigned long long n = 0;
    try {
        n = std::stoull(value);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    // last_login_precision = s | ms | us | ns: tell them apart by size (s fits 11 digits until 5138)
    if (value.size() >= 18) n /= 1000000000ULL;
    else if (value.size() >= 15) n /= 1000000ULL;
    else if (value.size() >= 12) n /= 1000ULL;
    return static_cast<std::time_t>(n);
}

std::string last_login_dict_key(const std::string& key_template, const std::string& login) {
    return "shared/" + replace_all(replace_all(key_template, "%{user}", login), "%u", login);
}

LastLogins LastLogins::load(const std::string& dict_uri, const std::string& key_template, const Doveadm& doveadm,
                            std::string* error) {
    LastLogins l;
    l.key_template_ = key_template;
    if (dict_uri.empty()) {
        if (error) *error = "no last-login dictionary configured (cli.last_login_dict or --last-login-dict)";
        return l;
    }
    if (dict_uri.rfind("file:", 0) == 0) {
        const std::string path = dict_uri.substr(5);
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            // Dovecot's file dict is written at the first login: a missing file in an
            // existing directory is "nobody logged in yet", not an error
            struct stat st {};
            const auto slash = path.rfind('/');
            const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
            const bool missing = ::stat(path.c_str(), &st) != 0 && errno == ENOENT;
            if (missing && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
                l.loaded_ = true;
                return l;
            }
            if (error) *error = "cannot read " + path;
            return l;
        }
        std::string text(kMaxLastLoginDictBytes + 1, '\0');
        in.read(&text[0], static_cast<std::streamsize>(text.size()));
        text.resize(static_cast<std::size_t>(in.gcount()));
        if (text.size() > kMaxLastLoginDictBytes) {
            if (error) *error = path + " is larger than 64 MiB";
            return l;
        }
        l.values_ = lower_keys(parse_file_dict(text));
        l.loaded_ = true;
        return l;
    }
    // every key below the template's fixed part, in one doveadm run
    std::string prefix = last_login_dict_key(key_template, "\x01");
    prefix = prefix.substr(0, prefix.find('\x01'));
    std::string why;
    const auto out = doveadm.run({"-f", "tab", "dict", "iter", dict_uri, prefix}, &why);
    if (!out) {
        if (error) *error = "doveadm dict iter " + dict_uri + ": " + (why.empty() ? "failed" : why);
        return l;
    }
    if (out->size() > kMaxLastLoginDictBytes) {
        if (error) *error = "doveadm dict iter " + dict_uri + ": more than 64 MiB";
        return l;
    }
    l.values_ = lower_keys(parse_dict_iter_tab(*out));
    l.loaded_ = true;
    return l;
}

std::optional<std::time_t> LastLogins::of(const std::string& login) const {
    if (!loaded_ || login.empty()) return std::nullopt;
    const std::string key = lower_keys({{last_login_dict_key(key_template_, login), ""}}).begin()->first;
    auto found = values_.find(key);
    if (found == values_.end()) return std::nullopt;
    return parse_last_login_value(found->second);
}

}  // namespace mailgrant::cli
