// doveadm.cpp -- see doveadm.h.
#include "doveadm.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "mailgrant/dn.h"
#include "mailgrant/rights.h"
#include "subprocess.h"

namespace mailgrant::cli {
namespace {

std::optional<unsigned long long> field(const std::string& line, const std::string& key) {
    // keys come after the (possibly spaced) mailbox name: search from the right
    const std::string needle = " " + key + "=";
    auto pos = line.rfind(needle);
    std::size_t start;
    if (pos != std::string::npos) start = pos + needle.size();
    else if (line.rfind(key + "=", 0) == 0) start = key.size() + 1;
    else return std::nullopt;
    std::size_t end = start;
    while (end < line.size() && line[end] >= '0' && line[end] <= '9') ++end;
    if (end == start) return std::nullopt;
    try {
        return std::stoull(line.substr(start, end - start));
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        const auto end = text.find(sep, start);
        out.push_back(text.substr(start, end - start));
        if (end == std::string::npos) return out;
        start = end + 1;
    }
}

// Dovecot's names of the RFC 4314 rights (acl-api.h), as `acl get` prints them.
const std::map<std::string, char>& right_letters() {
    static const std::map<std::string, char> names{
        {"lookup", 'l'}, {"read", 'r'},          {"write", 'w'},  {"write-seen", 's'},
        {"write-deleted", 't'}, {"insert", 'i'}, {"post", 'p'},   {"expunge", 'e'},
        {"create", 'k'}, {"delete", 'x'},        {"admin", 'a'},
    };
    return names;
}

}  // namespace

std::vector<LocalAclEntry> parse_acl_get_tab(const std::string& output) {
    std::vector<LocalAclEntry> out;
    std::istringstream in(output);
    std::string line;
    bool header = true;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (header) {  // "ID\tGlobal\tRights"
            header = false;
            if (ascii_lower(line).rfind("id\t", 0) == 0) continue;
        }
        const auto cols = split(line, '\t');
        if (cols.size() != 3 || cols[0].empty()) continue;
        LocalAclEntry e;
        e.identifier = cols[0];
        e.global = !cols[1].empty();
        std::string letters, unknown;
        std::istringstream names(cols[2]);
        std::string name;
        while (names >> name) {
            const auto it = right_letters().find(ascii_lower(name));
            if (it != right_letters().end()) letters += it->second;
            else unknown += " " + name;
        }
        const auto rights = letters.empty() ? std::nullopt : Rights::from_letters(letters);
        e.rights = (rights ? rights->letters() : std::string()) + unknown;
        if (!e.rights.empty() && e.rights[0] == ' ') e.rights.erase(0, 1);
        out.push_back(std::move(e));
    }
    return out;
}

std::vector<std::string> own_folders(const std::vector<std::string>& listed,
                                     const std::function<bool(const std::string&)>& is_mailbox) {
    std::vector<std::string> shared_roots;  // "shared": the first segment of a shared path
    for (const auto& f : listed) {
        const auto segs = split(f, '/');
        if (segs.size() >= 2 && is_mailbox(segs[1])) shared_roots.push_back(segs[0]);
    }
    std::vector<std::string> out;
    for (const auto& f : listed) {
        const auto segs = split(f, '/');
        if (segs.size() >= 2 && is_mailbox(segs[1])) continue;
        if (segs.size() == 1 && std::find(shared_roots.begin(), shared_roots.end(), f) != shared_roots.end()) continue;
        out.push_back(f);
    }
    return out;
}

std::optional<MailboxStatus> parse_status_flow(const std::string& output) {
    MailboxStatus total;
    bool any = false;
    std::istringstream in(output);
    std::string line;
    while (std::getline(in, line)) {
        const auto m = field(line, "messages"), u = field(line, "unseen"), v = field(line, "vsize");
        if (!m || !u || !v) continue;
        total.messages += *m;
        total.unseen += *u;
        total.vsize += *v;
        any = true;
    }
    if (!any) return std::nullopt;
    return total;
}

std::vector<std::string> parse_mailbox_list(const std::string& output) {
    std::vector<std::string> out;
    std::istringstream in(output);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty()) out.push_back(line);
    }
    return out;
}

Doveadm::Doveadm(std::string command, int timeout_ms) : timeout_ms_(timeout_ms) {
    if (!command.empty()) argv_ = split_command(command);
}

std::optional<MailboxStatus> Doveadm::status(const std::string& user, std::string* error) const {
    const auto out = run({"-f", "flow", "mailbox", "status", "-u", user,
                          "messages unseen vsize",  // one argument: doveadm's field list
                          "*"},
                         error);
    if (!out) return std::nullopt;
    auto s = parse_status_flow(*out);
    if (!s) return MailboxStatus{};  // a user without any folder yet
    return s;
}

std::optional<std::vector<std::string>> Doveadm::folders(const std::string& user, std::string* error) const {
    const auto out = run({"mailbox", "list", "-u", user}, error);
    if (!out) return std::nullopt;
    return parse_mailbox_list(*out);
}

std::optional<std::vector<LocalAclEntry>> Doveadm::local_acl(const std::string& user, const std::string& folder,
                                                             std::string* error) const {
    // Only the acl plugin (mailgrant's would mix LDAP's rights in) and no sharing map
    // (on 2.4 the acl plugin opens "dict mailgrant" and fails without mailgrant's plugin;
    // 2.3 ignores the key and only logs that its acl_shared_dict driver is missing).
    const auto out = run({"-o", "mail_plugins=acl", "-o", "acl_sharing_map/dict=", "-f", "tab", "acl", "get", "-u",
                          user, folder},
                         error);
    if (!out) return std::nullopt;
    return parse_acl_get_tab(*out);
}

std::optional<std::string> Doveadm::run(const std::vector<std::string>& args, std::string* error) const {
    if (!configured()) {
        if (error) *error = "no doveadm command";
        return std::nullopt;
    }
    auto argv = argv_;
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = run_process(argv, "", timeout_ms_);
    if (!r.started || r.timed_out) broken_ = true;  // the next ones would hang or fail alike
    if (r.started && !r.timed_out && r.exit_status == 0 && !r.truncated) return r.out;
    if (error) {
        if (r.timed_out)
            *error = "doveadm timed out";
        else if (r.truncated && r.exit_status == 0)
            // A cut list would read as a complete one (folders "missing"): no answer instead.
            *error = "doveadm wrote more than " + std::to_string(kMaxProcessOutputBytes >> 20) + " MiB";
        else if (!r.errors.empty())
            *error = r.errors.substr(0, 300);
        else
            *error = "doveadm exited with status " + std::to_string(r.exit_status);
    }
    return std::nullopt;
}

}  // namespace mailgrant::cli
