// doveadm.cpp -- see doveadm.h.
#include "doveadm.h"

#include <sstream>

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

}  // namespace

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
    if (!configured()) return std::nullopt;
    auto argv = argv_;
    for (const char* a : {"-f", "flow", "mailbox", "status", "-u"}) argv.emplace_back(a);
    argv.push_back(user);
    argv.emplace_back("messages unseen vsize");  // one argument: doveadm's field list
    argv.emplace_back("*");
    const auto r = run_process(argv, "", timeout_ms_);
    if (!r.started || r.timed_out) broken_ = true;
    if (!r.started || r.timed_out || r.exit_status != 0) {
        if (error) *error = r.timed_out ? "doveadm timed out" : r.errors.substr(0, 300);
        return std::nullopt;
    }
    auto s = parse_status_flow(r.out);
    if (!s) return MailboxStatus{};  // a user without any folder yet
    return s;
}

std::optional<std::vector<std::string>> Doveadm::folders(const std::string& user, std::string* error) const {
    if (!configured()) return std::nullopt;
    auto argv = argv_;
    for (const char* a : {"mailbox", "list", "-u"}) argv.emplace_back(a);
    argv.push_back(user);
    const auto r = run_process(argv, "", timeout_ms_);
    if (!r.started || r.timed_out) broken_ = true;
    if (!r.started || r.timed_out || r.exit_status != 0) {
        if (error) *error = r.timed_out ? "doveadm timed out" : r.errors.substr(0, 300);
        return std::nullopt;
    }
    return parse_mailbox_list(r.out);
}

std::optional<std::string> Doveadm::run(const std::vector<std::string>& args, std::string* error) const {
    if (!configured()) {
        if (error) *error = "no doveadm command";
        return std::nullopt;
    }
    auto argv = argv_;
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = run_process(argv, "", timeout_ms_);
    if (!r.started || r.timed_out) broken_ = true;
    if (!r.started || r.timed_out || r.exit_status != 0) {
        if (error) *error = r.timed_out ? "doveadm timed out" : r.errors.substr(0, 300);
        return std::nullopt;
    }
    return r.out;
}

}  // namespace mailgrant::cli
