// notice_mail.cpp -- see notice_mail.h.
#include "notice_mail.h"

#include <curl/curl.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "mailgrant/config.h"
#include "mailgrant/gentime.h"
#include "subprocess.h"

namespace mailgrant::cli {
namespace {

// Values come from LDAP: never let a CR/LF (or any control character) start a new header.
std::string header_safe(const std::string& v) {
    std::string out = v;
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    return out;
}

bool plain_ascii(const std::string& s) {
    for (unsigned char c : s)
        if (c < 0x20 || c > 0x7e) return false;
    return true;
}

std::string base64(const std::string& in) {
    static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                           static_cast<unsigned char>(in[i + 2]);
        out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
    }
    if (i + 1 == in.size()) {
        const unsigned v = static_cast<unsigned char>(in[i]) << 16;
        out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
    } else if (i + 2 == in.size()) {
        const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
        out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
    }
    return out;
}

std::string with_crlf(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '\n') out += '\r';
        if (c != '\r') out += c;
    }
    return out;
}

void curl_init_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

OutgoingMail outgoing_mail(const Notice& n, const RenderedNotice& r) {
    static std::atomic<unsigned> counter{0};
    OutgoingMail m;
    m.from = n.from;
    m.from_name = n.from_name.empty() ? "mailgrant" : n.from_name;
    m.to = n.to;
    m.to_name = n.to_name;
    m.subject = r.subject;
    m.date = n.date;
    m.message_id = "<mailgrant." + std::to_string(n.date) + "." + std::to_string(getpid()) + "." +
                   std::to_string(counter++) + "@" + header_safe(n.message_id_host) + ">";
    m.text = r.text;
    m.html = r.html;
    return m;
}

std::string encode_header_text(const std::string& utf8) {
    const std::string v = header_safe(utf8);
    if (plain_ascii(v)) return v;
    // Encoded words of at most 45 bytes (60 base64 characters, 72 with the framing), cut
    // between UTF-8 characters (RFC 2047 5: a word holds whole characters).
    std::string out;
    std::size_t i = 0;
    while (i < v.size()) {
        std::size_t end = std::min(v.size(), i + 45);
        while (end < v.size() && end > i + 1 && (static_cast<unsigned char>(v[end]) & 0xC0) == 0x80) --end;
        out += (out.empty() ? "" : " ") + std::string("=?UTF-8?B?") + base64(v.substr(i, end - i)) + "?=";
        i = end;
    }
    return out;
}

std::string format_mailbox(const std::string& name, const std::string& address) {
    const std::string addr = "<" + header_safe(address) + ">";
    const std::string n = header_safe(name);
    if (n.empty()) return addr;
    if (!plain_ascii(n)) return encode_header_text(n) + " " + addr;
    std::string quoted = "\"";
    for (char c : n) {
        if (c == '"' || c == '\\') quoted += '\\';
        quoted += c;
    }
    return quoted + "\" " + addr;
}

std::string quoted_printable(const std::string& text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t eol = text.find('\n', start);
        const bool has_eol = eol != std::string::npos;
        if (!has_eol) eol = text.size();
        std::size_t col = 0;
        for (std::size_t i = start; i < eol; ++i) {
            const unsigned char c = static_cast<unsigned char>(text[i]);
            std::string token;
            const bool last = i + 1 == eol;
            if (c == '\r' && last) continue;
            if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last)) token = std::string(1, static_cast<char>(c));
            else token = {'=', hex[c >> 4], hex[c & 15]};
            if (col + token.size() > 75) {  // soft line break (RFC 2045: at most 76 with the '=')
                out += "=\n";
                col = 0;
            }
            out += token;
            col += token.size();
        }
        if (has_eol) out += '\n';
        start = eol + 1;
    }
    return out;
}

std::vector<std::string> mail_headers(const OutgoingMail& m) {
    return {"From: " + format_mailbox(m.from_name, m.from),
            "To: " + format_mailbox(m.to_name, m.to),
            "Subject: " + encode_header_text(m.subject),
            "Date: " + format_utc(m.date, "%a, %d %b %Y %H:%M:%S +0000"),
            "Message-ID: " + header_safe(m.message_id),
            "Auto-Submitted: auto-generated",
            "MIME-Version: 1.0"};
}

// The sendmail path. libcurl composes a curl_mime only while it runs a transfer over one
// of its protocols and cannot write it to a pipe or a buffer, so this path serializes the
// same structure itself: the same headers, a multipart/alternative of a text/plain and a
// text/html part, UTF-8, quoted-printable. A boundary beginning "=_" can never occur in
// quoted-printable text ('=' is always followed by two hex digits or a line end there).
std::string serialize_mail(const OutgoingMail& m, const std::string& boundary_given) {
    const std::string boundary =
        boundary_given.empty() ? "=_mailgrant_" + std::to_string(std::hash<std::string>{}(m.message_id + m.text)) : boundary_given;
    std::string out;
    for (const auto& h : mail_headers(m)) out += h + "\n";
    out += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\n\n";
    out += "This is a message in MIME format: a text and an HTML version.\n";
    const std::pair<const char*, const std::string*> parts[] = {{"text/plain", &m.text}, {"text/html", &m.html}};
    for (const auto& [type, body] : parts) {
        out += "\n--" + boundary + "\n";
        out += std::string("Content-Type: ") + type + "; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n";
        out += quoted_printable(*body);
        if (!out.empty() && out.back() != '\n') out += '\n';
    }
    out += "\n--" + boundary + "--\n";
    return out;
}

std::string smtp_url(const std::string& given) {
    if (given.rfind("smtp://", 0) == 0 || given.rfind("smtps://", 0) == 0) {
        if (given.find_first_of(" \t\r\n") != std::string::npos) throw std::runtime_error("bad SMTP URL '" + given + "'");
        return given;
    }
    const auto colon = given.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == given.size() ||
        given.find_first_of(" \t\r\n/") != std::string::npos)
        throw std::runtime_error("SMTP server must be HOST:PORT or an smtp:// or smtps:// URL, got '" + given + "'");
    return "smtp://" + given;
}

void send_with_smtp(const SmtpSettings& smtp, const OutgoingMail& m) {
    curl_init_once();
    std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) throw std::runtime_error("libcurl could not start a transfer");
    CURL* c = curl.get();
    std::unique_ptr<curl_mime, void (*)(curl_mime*)> mime(curl_mime_init(c), curl_mime_free);
    // CRLF line ends: libcurl's quoted-printable encoder keeps CRLF as line breaks
    const std::string text = with_crlf(m.text), html = with_crlf(m.html);
    for (const auto& [body, type] : {std::pair<const std::string*, const char*>{&text, "text/plain; charset=utf-8"},
                                     {&html, "text/html; charset=utf-8"}}) {
        curl_mimepart* part = curl_mime_addpart(mime.get());
        curl_mime_data(part, body->data(), body->size());
        curl_mime_type(part, type);
        curl_mime_encoder(part, "quoted-printable");
    }
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(nullptr, curl_slist_free_all);
    std::vector<std::string> lines = mail_headers(m);
    lines.push_back("Content-Type: multipart/alternative");  // libcurl adds the boundary
    for (const auto& h : lines) headers.reset(curl_slist_append(headers.release(), h.c_str()));
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> rcpt(curl_slist_append(nullptr, ("<" + m.to + ">").c_str()),
                                                              curl_slist_free_all);
    std::string password;
    if (!smtp.user.empty()) password = read_secret_file(smtp.password_file);
    const std::string from = "<" + m.from + ">";
    char error[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, smtp.url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, smtp.connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, smtp.timeout_ms);
    curl_easy_setopt(c, CURLOPT_USE_SSL, smtp.tls == SmtpTls::None       ? static_cast<long>(CURLUSESSL_NONE)
                                         : smtp.tls == SmtpTls::StartTls ? static_cast<long>(CURLUSESSL_TRY)
                                                                          : static_cast<long>(CURLUSESSL_ALL));
    if (!smtp.user.empty()) {
        curl_easy_setopt(c, CURLOPT_USERNAME, smtp.user.c_str());
        curl_easy_setopt(c, CURLOPT_PASSWORD, password.c_str());
    }
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_MIMEPOST, mime.get());
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    const CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        throw std::runtime_error("SMTP " + smtp.url + ": " + (error[0] ? error : curl_easy_strerror(rc)) +
                                 (code ? " (server said " + std::to_string(code) + ")" : ""));
    }
}

void send_with_sendmail(const std::string& command, const OutgoingMail& m, int timeout_ms) {
    const auto r = run_process(split_command(command), serialize_mail(m), timeout_ms);
    if (!r.started) throw std::runtime_error(r.errors);
    if (r.timed_out) throw std::runtime_error("'" + command + "' did not finish in time");
    if (r.exit_status != 0)
        throw std::runtime_error("'" + command + "' failed (exit " + std::to_string(r.exit_status) + "): " +
                                 r.errors.substr(0, 300));
}

}  // namespace mailgrant::cli
