// notice_outbox.cpp -- see notice_outbox.h.
#include "notice_outbox.h"

#include "mailgrant/dn.h"
#include "mailgrant/invitation.h"
#include "mailgrant/ldap_filter.h"
#include "notice_mail.h"

namespace mailgrant::cli {
namespace {

std::string domain_of(const std::string& address) {
    const auto at = address.find('@');
    return at == std::string::npos ? std::string("localhost") : address.substr(at + 1);
}

}  // namespace

std::vector<OptionSpec> notice_option_specs() {
    return {{"--notify-from", true, false, ""}, {"--smtp", true, false, ""}, {"--sendmail", true, false, ""}};
}

NoticeOutbox::NoticeOutbox(Context& ctx, const ParsedArgs& args, const std::string& actor_dn) : ctx_(ctx) {
    if (args.has("--smtp") && args.has("--sendmail")) throw UsageError("give either --smtp or --sendmail");
    notify_from_ = args.value("--notify-from").value_or("");
    if (auto smtp = args.value("--smtp")) {
        try {
            smtp_ = smtp_url(*smtp);
        } catch (const std::runtime_error& e) {
            throw UsageError(std::string("--smtp: ") + e.what());
        }
    }
    sendmail_ = args.value("--sendmail").value_or("");
    // The actor: the person --notify-from names, else the person the writer binds as.
    // A lookup that fails leaves "the mail administrator": a notice never fails for it.
    try {
        if (!notify_from_.empty()) {
            const Principal p = ctx_.resolve_grantee(notify_from_);
            if (p.kind == Principal::Kind::Person) actor_ = person(p.dn);
        }
    } catch (const std::exception&) {
    }
    try {
        if (actor_.address.empty() && !actor_dn.empty()) {
            const Principal& p = ctx_.describe(actor_dn);
            if (p.kind == Principal::Kind::Person) actor_ = person(p.dn);
        }
    } catch (const std::exception&) {
    }
}

NoticeOutbox::Person NoticeOutbox::person(const std::string& dn) {
    Person p;
    const auto& users = ctx_.config().users;
    auto entries = ctx_.ldap().search(
        SearchRequest{dn, SearchScope::Base, "(objectClass=*)", {"displayName", "cn", users.mail_attribute, users.language_attribute}});
    if (entries.empty()) return p;
    const LdapEntry& e = entries.front();
    p.name = e.first("displayName").empty() ? e.first("cn") : e.first("displayName");
    p.address = e.first(users.mail_attribute);
    p.language = e.first(users.language_attribute);
    return p;
}

std::vector<NoticeRecipient> NoticeOutbox::recipients(const std::vector<std::string>& grantee_dns, const Account& mailbox) {
    std::vector<NoticeRecipient> out;
    auto add = [&](const NoticeRecipient& r) {
        if (r.address.empty() || normalize_dn(r.dn) == normalize_dn(mailbox.dn)) return;
        for (const auto& o : out)
            if (normalize_dn(o.dn) == normalize_dn(r.dn)) return;
        if (out.size() >= kMaxNoticeRecipients) {
            errors_ += std::string(errors_.empty() ? "" : "; ") + "more than " + std::to_string(kMaxNoticeRecipients) +
                       " recipients for one grant of " + mailbox.primary_address() + "; the rest were not notified";
            return;
        }
        out.push_back(r);
    };
    for (const auto& dn : grantee_dns) {
        const Principal& p = ctx_.describe(dn);
        if (p.kind == Principal::Kind::Person) add({p.dn, p.display, ""});
        else if (p.kind == Principal::Kind::Group)
            for (const auto& m : ctx_.expand_group(p.dn)) add({m.dn, m.address, p.display});
    }
    return out;
}

Notice NoticeOutbox::notice(NoticeKind kind, const Grant& g, const Account& mailbox, const NoticeRecipient& to) {
    const auto& cfg = ctx_.config().notify;
    Notice n;
    n.kind = kind;
    const std::string owner = mailbox.primary_address();
    n.from = !notify_from_.empty() ? notify_from_ : !cfg.from.empty() ? cfg.from : "postmaster@" + domain_of(owner);
    n.from_name = actor_.name.empty() ? "" : actor_.name + " (mailgrant)";
    n.to = to.address;
    n.owner = owner;
    n.owner_is_shared = mailbox.shared_mailbox;
    n.actor_name = actor_.name;
    n.actor_address = actor_.address;
    n.granted_by_group = to.group;
    n.folders = g.folders;
    n.rights = g.rights ? g.rights->letters() : "";
    n.role = g.rights ? role_name(*g.rights) : "";
    n.send_as = g.send_as;
    n.send_on_behalf = g.send_on_behalf && !g.send_as;
    n.not_before = g.not_before;
    n.not_after = g.not_after;
    n.date = ctx_.now();
    n.invitation = g.pending;
    if (g.pending) n.invitation_expires = invitation_of(g, ctx_.now(), ctx_.config().invitations).expires;
    n.message_id_host = domain_of(owner);
    n.default_language = cfg.default_language;
    n.templates_dir = cfg.templates_dir;
    n.webmail_url = cfg.webmail_url;
    try {  // a name and language that cannot be read leave the address and the default language
        const Person recipient = person(to.dn);
        n.to_name = recipient.name;
        n.preferred_language = recipient.language;
        const Person own = person(mailbox.dn);
        n.owner_name = own.name;
    } catch (const std::exception&) {
    }
    return n;
}

bool NoticeOutbox::send(const Notice& n, bool dry_run) {
    try {
        const RenderedNotice r = render_notice(n);
        languages_.emplace_back(n.to, r.language);
        if (!dry_run) {
            const OutgoingMail m = outgoing_mail(n, r);
            const auto& cfg = ctx_.config().notify;
            if (!smtp_.empty() || (sendmail_.empty() && !cfg.smtp.empty())) {
                SmtpSettings s;
                s.url = !smtp_.empty() ? smtp_ : cfg.smtp;
                s.tls = cfg.smtp_tls == SmtpTlsMode::None       ? SmtpTls::None
                        : cfg.smtp_tls == SmtpTlsMode::Required ? SmtpTls::Required
                                                                : SmtpTls::StartTls;
                s.user = cfg.smtp_user;
                s.password_file = cfg.smtp_password_file;
                s.timeout_ms = cfg.smtp_timeout_s * 1000L;
                s.connect_timeout_ms = std::min(10000L, s.timeout_ms);
                send_with_smtp(s, m);
            } else {
                send_with_sendmail(sendmail_.empty() ? ctx_.config().cli.sendmail : sendmail_, m, 30000);
            }
        }
        notified_.push_back(n.to);
        return true;
    } catch (const std::exception& e) {
        errors_ += (errors_.empty() ? "" : "; ") + n.to + ": " + e.what();
        return false;
    }
}

std::string NoticeOutbox::language_of(const std::string& address) const {
    for (auto it = languages_.rbegin(); it != languages_.rend(); ++it)
        if (it->first == address) return it->second;
    return "";
}

}  // namespace mailgrant::cli
