// notice_mail.h -- a rendered notice as an Internet message, and its delivery: SMTP
// through libcurl (smtp:// or smtps://, STARTTLS when offered or required, AUTH, bounded
// connect and transfer time; the body built with curl_mime as multipart/alternative
// text/plain + text/html, UTF-8, quoted-printable), or `sendmail -t`, which is given the
// same message serialized here (libcurl builds a curl_mime only during a transfer, and has
// no way to hand the bytes to a pipe; see serialize_mail). Headers are built once, here,
// for both: RFC 2047 encoded words for a non-ASCII Subject and display names, Date,
// Message-ID, Auto-Submitted.
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include "notify.h"

namespace mailgrant::cli {

struct OutgoingMail {
    std::string from;       // envelope sender and From address
    std::string from_name;  // UTF-8 display names; "" = address only
    std::string to;
    std::string to_name;
    std::string subject;    // UTF-8, one line
    std::time_t date = 0;
    std::string message_id;  // "<...@host>"
    std::string text;       // UTF-8, LF line ends
    std::string html;
};

OutgoingMail outgoing_mail(const Notice& n, const RenderedNotice& r);

// Header pieces (exposed for the unit tests).
std::string encode_header_text(const std::string& utf8);  // RFC 2047 "B" words when not ASCII
std::string format_mailbox(const std::string& name, const std::string& address);  // "Name" <a@b>
std::string quoted_printable(const std::string& text);    // RFC 2045 6.7, LF line ends
// The header lines both paths use (no trailing line end, no Content-Type).
std::vector<std::string> mail_headers(const OutgoingMail& m);
// The whole message, LF line ends, multipart/alternative with `boundary` ("" = derived).
std::string serialize_mail(const OutgoingMail& m, const std::string& boundary = "");

enum class SmtpTls { None, StartTls, Required };

struct SmtpSettings {
    std::string url;            // smtp://host:port or smtps://host:port
    SmtpTls tls = SmtpTls::StartTls;
    std::string user;           // "" = no AUTH
    std::string password_file;
    long connect_timeout_ms = 10000;
    long timeout_ms = 30000;    // the whole transfer
};

// "host:port", "[v6]:port", or an smtp:// / smtps:// URL -> a URL; throws runtime_error.
std::string smtp_url(const std::string& given);

// Both throw std::runtime_error with the MTA's answer on failure.
void send_with_smtp(const SmtpSettings& smtp, const OutgoingMail& m);
void send_with_sendmail(const std::string& command, const OutgoingMail& m, int timeout_ms);

}  // namespace mailgrant::cli
