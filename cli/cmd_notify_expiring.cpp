// cmd_notify_expiring.cpp -- `mailgrant notify-expiring --days N`, for cron or a systemd
// timer (examples/systemd/mailgrant-notify-expiring.*): every grant in force whose
// mailGrantNotAfter falls on the UTC calendar day N days from today mails each grantee
// (each member, for a group) the "expiring" notice in their language. The window is whole
// UTC days, so every run on the same day picks the same grants and consecutive daily runs
// cover every day once: a run repeated on one day sends the same notices again only if it
// is run twice, never because the clock moved, and no state is kept. --window W widens it
// to W days (a weekly timer: --window 7). --dry-run prints who would get what.
#include <algorithm>

#include "grant_spec.h"
#include "mailgrant/dn.h"
#include "notice_outbox.h"
#include "verbs.h"

namespace mailgrant::cli {

namespace {

constexpr long long kDay = 86400;
constexpr int kMaxDays = 366;

int day_count(const ParsedArgs& args, const char* option, int fallback, int min) {
    const auto v = args.value(option);
    if (!v) return fallback;
    if (v->empty() || v->size() > 3 || v->find_first_not_of("0123456789") != std::string::npos)
        throw UsageError(std::string(option) + " takes a number of days (" + std::to_string(min) + "-" +
                         std::to_string(kMaxDays) + "), got '" + *v + "'");
    const int n = std::stoi(*v);
    if (n < min || n > kMaxDays)
        throw UsageError(std::string(option) + " must be " + std::to_string(min) + "-" + std::to_string(kMaxDays));
    return n;
}

}  // namespace

int run_notify_expiring(Invocation& inv) {
    auto specs = notice_option_specs();
    specs.push_back({"--days", true, false, ""});
    specs.push_back({"--window", true, false, ""});
    specs.push_back({"--dry-run", false, false, ""});
    const auto args = parse_args(inv.args, specs);
    if (!args.positionals.empty()) throw UsageError("notify-expiring takes no arguments, only options");
    if (!args.has("--days")) throw UsageError("give --days N (notify N days before a grant ends)");
    const int days = day_count(args, "--days", 0, 0);
    const int window = day_count(args, "--window", 1, 1);
    const bool dry_run = args.has("--dry-run");

    Context& ctx = inv.ctx;
    const std::time_t now = ctx.now();
    const std::time_t today = static_cast<std::time_t>((now / kDay) * kDay);
    const std::time_t from = today + days * kDay, to = from + window * kDay;

    NoticeOutbox outbox(ctx, args, "");
    Json notices = Json::array();
    std::size_t count = 0;
    // Only the grants ending in the window are kept from the walk (a directory of a
    // million grants holds a few), then taken in owner and name order.
    std::vector<Grant> ending;
    ctx.walk().each_grant([&](Grant&& g) {
        if (!g.not_after || *g.not_after < from || *g.not_after >= to || *g.not_after <= now) return;
        if (g.state_at(now) != GrantState::Active) return;  // pending, invalid or not begun: nothing to lose yet
        ending.push_back(std::move(g));
    });
    std::sort(ending.begin(), ending.end(), [](const Grant& a, const Grant& b) {
        return std::make_pair(normalize_dn(a.owner_dn), ascii_lower(a.name)) <
               std::make_pair(normalize_dn(b.owner_dn), ascii_lower(b.name));
    });
    for (const auto& g : ending) {
        const Principal& owner = ctx.describe(g.owner_dn);
        if (owner.kind != Principal::Kind::Person) continue;
        const Account mailbox(owner.dn, owner.addresses, owner.shared_mailbox);
        for (const auto& r : outbox.recipients(g.grantees, mailbox)) {
            const bool ok = outbox.send(outbox.notice(NoticeKind::Expiring, g, mailbox, r), dry_run);
            ++count;
            const std::string lang = outbox.language_of(r.address);
            if (inv.json) {
                Json n = Json::object();
                n.set("mailbox", mailbox.primary_address());
                n.set("grant", g.name);
                n.set("to", r.address);
                n.set("language", lang);
                n.set("until", format_time_human(*g.not_after));
                n.set("sent", ok && !dry_run);
                notices.push(n);
            } else {
                inv.out << (dry_run ? "would notify " : ok ? "notified " : "not notified ") << r.address
                        << (lang.empty() ? "" : " (" + lang + ")") << ": grant '" << g.name << "' on "
                        << mailbox.primary_address() << " ends " << format_time_human(*g.not_after) << "\n";
            }
        }
    }
    if (inv.json) {
        Json j = Json::object();
        j.set("days", static_cast<long long>(days));
        j.set("window_start", format_time_human(from));
        j.set("window_end", format_time_human(to));
        j.set("dry_run", dry_run);
        j.set("notices", notices);
        j.set("notified", Json::strings(dry_run ? std::vector<std::string>{} : outbox.notified()));
        if (!outbox.errors().empty()) j.set("notify_error", outbox.errors());
        inv.out << j.dump();
    } else if (count == 0) {
        inv.out << "no grant ends between " << format_time_human(from) << " and " << format_time_human(to) << "\n";
    }
    if (!outbox.errors().empty()) {
        inv.err << "mailgrant: some notices could not be delivered: " << outbox.errors() << "\n";
        return kExitNotifyFailed;
    }
    return kExitOk;
}

}  // namespace mailgrant::cli
