// notice_outbox.h -- what grant --notify, revoke --notify and notify-expiring share: the
// options (--notify-from, --smtp, --sendmail), who the actor is, who gets a notice for a
// grant (the grantee, or every member of a granted group), each recipient's name and
// preferredLanguage from LDAP, and the delivery (SMTP through libcurl or sendmail) with
// the addresses notified and the failures collected for the verb's output and exit code.
#pragma once

#include <string>
#include <vector>

#include "notify.h"
#include "verbs.h"

namespace mailgrant::cli {

std::vector<OptionSpec> notice_option_specs();  // --notify-from ADDR, --smtp SERVER, --sendmail CMD

struct NoticeRecipient {
    std::string dn;
    std::string address;
    std::string group;  // the granted group it is reached through, "" = named directly
};

class NoticeOutbox {
public:
    // `actor_dn`: the writer's bind DN ("" = none); the actor is --notify-from's person if
    // it names one, else that DN's person, else nobody ("the mail administrator").
    NoticeOutbox(Context& ctx, const ParsedArgs& args, const std::string& actor_dn);

    // People a notice about `grant` goes to (never the mailbox itself); at most
    // kMaxNoticeRecipients per grant, the rest reported as an error.
    std::vector<NoticeRecipient> recipients(const std::vector<std::string>& grantee_dns, const Account& mailbox);
    // A notice about `grant` on `mailbox` for `to`: everything but the delivery.
    Notice notice(NoticeKind kind, const Grant& grant, const Account& mailbox, const NoticeRecipient& to);
    // Renders and delivers; records the address in notified() or the failure in errors().
    // With dry_run nothing is sent and the address is recorded as notified.
    bool send(const Notice& n, bool dry_run = false);

    const std::vector<std::string>& notified() const { return notified_; }
    const std::string& errors() const { return errors_; }
    std::string language_of(const std::string& address) const;  // of the last send to it

private:
    struct Person {
        std::string name;
        std::string address;
        std::string language;
    };
    Person person(const std::string& dn);

    Context& ctx_;
    std::string notify_from_;  // --notify-from
    std::string smtp_;         // --smtp, as a URL
    std::string sendmail_;     // --sendmail
    Person actor_;
    std::vector<std::string> notified_;
    std::vector<std::pair<std::string, std::string>> languages_;
    std::string errors_;
};

constexpr std::size_t kMaxNoticeRecipients = 500;

}  // namespace mailgrant::cli
