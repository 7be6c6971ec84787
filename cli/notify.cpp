// notify.cpp -- see notify.h.
#include "notify.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>

#include "grant_spec.h"
#include "notice_mail.h"

#ifndef MAILGRANT_NOTICES_DIR
#define MAILGRANT_NOTICES_DIR "/usr/share/mailgrant/notices"
#endif
#ifndef MAILGRANT_NOTICES_SOURCE_DIR
#define MAILGRANT_NOTICES_SOURCE_DIR ""
#endif

namespace mailgrant::cli {
namespace {

// Folder patterns end in "*" or "/*" (everything below); the path a client shows is the
// part before it.
std::string folder_path(const std::string& owner, const std::string& folder) {
    std::string f = folder;
    if (!f.empty() && (f.back() == '*' || f.back() == '%')) f.pop_back();
    if (!f.empty() && f.back() == '/') f.pop_back();
    return "shared/" + owner + (f.empty() ? "" : "/" + f);
}

std::string url_encode(const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~')
            out += static_cast<char>(c);
        else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string webmail_link(const std::string& base, const std::string& query) {
    if (base.empty()) return "";
    return base + (base.find('?') == std::string::npos ? "?" : "&") + query;
}

bool is_dir(const std::string& path) {
    struct stat st {};
    return !path.empty() && stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::optional<std::string> read_template_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::string text(kMaxTemplateBytes + 1, '\0');
    in.read(&text[0], static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    return text;  // the parser refuses one over the limit, naming the file
}

// A language directory name as shipped: 2-8 lower-case letters.
bool language_name(const std::string& n) {
    if (n.size() < 2 || n.size() > 8) return false;
    for (char c : n)
        if (c < 'a' || c > 'z') return false;
    return true;
}

NoticeTemplate load(const std::string& site_dir, const std::string& lang, const std::string& file) {
    for (const auto& dir : {site_dir, shipped_templates_dir()}) {
        if (dir.empty()) continue;
        const std::string path = dir + "/" + lang + "/" + file;
        if (auto text = read_template_file(path))
            return NoticeTemplate::parse(*text, file.size() > 5 && file.substr(file.size() - 5) == ".html", path,
                                         notice_variable_names());
    }
    throw std::runtime_error("no notice template " + lang + "/" + file + " in " +
                             (site_dir.empty() ? std::string() : site_dir + " or ") + shipped_templates_dir());
}

bool has_template(const std::string& site_dir, const std::string& lang, const std::string& file) {
    for (const auto& dir : {site_dir, shipped_templates_dir()})
        if (!dir.empty() && access((dir + "/" + lang + "/" + file).c_str(), R_OK) == 0) return true;
    return false;
}

}  // namespace

const char* notice_kind_name(NoticeKind k) {
    switch (k) {
        case NoticeKind::Grant: return "grant";
        case NoticeKind::Invite: return "invite";
        case NoticeKind::Revoke: return "revoke";
        case NoticeKind::Expiring: return "expiring";
    }
    return "grant";
}

NoticeKind effective_kind(const Notice& n) {
    return n.kind == NoticeKind::Grant && n.invitation ? NoticeKind::Invite : n.kind;
}

TemplateVars notice_vars(const Notice& n) {
    const auto yes = [](bool b) { return b ? std::string("1") : std::string(); };
    const NoticeKind kind = effective_kind(n);
    TemplateVars v;
    v["kind_grant"] = yes(kind == NoticeKind::Grant);
    v["kind_invite"] = yes(kind == NoticeKind::Invite);
    v["kind_revoke"] = yes(kind == NoticeKind::Revoke);
    v["kind_expiring"] = yes(kind == NoticeKind::Expiring);
    v["recipient_name"] = n.to_name;
    v["recipient_address"] = n.to;
    v["actor_name"] = n.actor_name;
    v["actor_address"] = n.actor_address;
    v["owner_name"] = n.owner_name;
    v["owner_address"] = n.owner;
    v["mailbox_is_shared"] = yes(n.owner_is_shared);
    v["group"] = n.granted_by_group;
    std::string folders, paths, first_concrete;
    bool all = false;
    std::vector<std::string> seen;
    for (const auto& f : n.folders) {
        if (f == "*") all = true;
        else folders += (folders.empty() ? "" : ", ") + f;
        const std::string p = folder_path(n.owner, f);
        bool dup = false;
        for (const auto& s : seen) dup = dup || s == p;
        if (!dup) {
            seen.push_back(p);
            paths += (paths.empty() ? "" : ", ") + p;
        }
        if (first_concrete.empty() && f.find_first_of("*%") == std::string::npos) first_concrete = f;
    }
    v["folders"] = folders;
    v["folder_all"] = yes(all);
    v["has_folders"] = yes(!n.folders.empty());
    v["imap_path"] = seen.empty() ? "" : seen.front();
    v["imap_paths"] = paths;
    const bool rights = !n.folders.empty() && !n.rights.empty();
    v["access_full"] = yes(rights && n.role == "admin");
    v["access_modify"] = yes(rights && n.role == "editor");
    v["access_read"] = yes(rights && n.role == "reader");
    v["access_custom"] = yes(rights && n.role.empty());
    v["rights"] = n.rights;
    v["send_as"] = yes(n.send_as);
    v["send_on_behalf"] = yes(n.send_on_behalf && !n.send_as);
    v["can_send"] = yes(n.send_as || n.send_on_behalf);
    v["from_date"] = n.not_before ? format_time_human(*n.not_before) : "";
    v["until"] = n.not_after ? format_time_human(*n.not_after) : "";
    // calendar days (UTC), as notify-expiring --days counts them: ends the day after tomorrow = 2
    v["days_left"] = n.not_after && *n.not_after > n.date
                         ? std::to_string(*n.not_after / 86400 - n.date / 86400) : "";
    v["webmail_url"] = n.webmail_url;
    v["accept_url"] = webmail_link(n.webmail_url, "_task=settings&_action=plugin.mailgrant-shared");
    v["open_url"] = first_concrete.empty()
                        ? v["accept_url"]
                        : webmail_link(n.webmail_url, "_task=mail&_mbox=" + url_encode(folder_path(n.owner, first_concrete)));
    v["collaborator_login"] = n.owner + "*" + n.to;
    v["invitation_expires"] = n.invitation_expires ? format_time_human(*n.invitation_expires) : "";
    v["date"] = format_time_human(n.date);
    return v;
}

std::string shipped_templates_dir() {
    if (const char* env = getenv("MAILGRANT_NOTICES_DIR"); env && *env) return env;
    // An uninstalled build (tests, a developer's tree) has no /usr/share copy yet.
    if (!is_dir(MAILGRANT_NOTICES_DIR) && is_dir(MAILGRANT_NOTICES_SOURCE_DIR)) return MAILGRANT_NOTICES_SOURCE_DIR;
    return MAILGRANT_NOTICES_DIR;
}

std::set<std::string> notice_languages(const std::string& site_dir) {
    std::set<std::string> langs;
    for (const auto& dir : {site_dir, shipped_templates_dir()}) {
        if (dir.empty()) continue;
        DIR* d = opendir(dir.c_str());
        if (!d) continue;
        std::size_t entries = 0;
        while (dirent* e = readdir(d)) {
            if (++entries > 1000) break;  // a language directory, not an archive
            const std::string name = e->d_name;
            if (language_name(name) && is_dir(dir + "/" + name)) langs.insert(name);
        }
        closedir(d);
    }
    return langs;
}

RenderedNotice render_notice(const Notice& n) {
    const std::string kind = notice_kind_name(effective_kind(n));
    std::set<std::string> usable;
    for (const auto& l : notice_languages(n.templates_dir))
        if (has_template(n.templates_dir, l, kind + ".txt") && has_template(n.templates_dir, l, kind + ".html"))
            usable.insert(l);
    std::string lang = choose_language(n.preferred_language, usable, n.default_language);
    if (!usable.count(lang)) lang = "en";
    RenderedNotice r;
    r.language = lang;
    const TemplateVars vars = notice_vars(n);
    const std::string txt_name = lang + "/" + kind + ".txt";
    std::string text = load(n.templates_dir, lang, kind + ".txt").render(vars);
    if (text.rfind("Subject:", 0) != 0)
        throw TemplateError(txt_name + ":1: the first line must be 'Subject: ...'");
    const auto eol = text.find('\n');
    r.subject = text.substr(8, eol == std::string::npos ? std::string::npos : eol - 8);
    while (!r.subject.empty() && (r.subject.front() == ' ' || r.subject.front() == '\t')) r.subject.erase(0, 1);
    while (!r.subject.empty() && (r.subject.back() == ' ' || r.subject.back() == '\t')) r.subject.pop_back();
    if (r.subject.empty()) throw TemplateError(txt_name + ":1: the subject renders empty");
    r.text = eol == std::string::npos ? "" : text.substr(eol + 1);
    if (r.text.rfind('\n', 0) == 0) r.text.erase(0, 1);  // the blank line after the Subject
    r.html = load(n.templates_dir, lang, kind + ".html").render(vars);
    return r;
}

std::string notice_subject(const Notice& n) { return render_notice(n).subject; }

std::string compose_notice(const Notice& n) {
    const RenderedNotice r = render_notice(n);
    return serialize_mail(outgoing_mail(n, r));
}

}  // namespace mailgrant::cli
