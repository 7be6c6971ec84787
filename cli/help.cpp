// help.cpp -- the text of `mailgrant --help` and of every `mailgrant VERB --help`, and the
// verb table main.cpp dispatches on. Exit codes are documented here, once.
#include <algorithm>

#include "verbs.h"

namespace mailgrant::cli {

namespace {

const char* kExitCodes =
    "Exit codes:\n"
    "  0  ok (explain: allowed; check: no findings)\n"
    "  1  no (explain: denied; check: findings; revoke --grantee: nothing to revoke)\n"
    "  2  usage error (unknown verb or option, wrong arguments)\n"
    "  3  configuration or LDAP error (nothing was decided or changed)\n"
    "  4  refused: the request could never work (unknown mailbox or grantee, bad rights,\n"
    "     --until before --from, no such grant, ...); nothing was changed\n"
    "  5  grant written, but the --notify message could not be delivered (also revoke\n"
    "     --notify; notify-expiring: a notice could not be delivered)\n"
    "  6  report: message counts or last logins could not be read (shown as \"-\");\n"
    "     mailbox create: the entry was written, its folders could not be created\n";

const char* kWriteOptions =
    "Write options (grant, revoke, mailbox, accept, decline):\n"
    "  --ldif                      print the change as LDIF instead of applying it\n"
    "  --bind-dn DN                bind as DN for the write (default: ldap.bind_dn)\n"
    "  --bind-password-file FILE   its password, first line (default: ldap.bind_password_file)\n"
    "  --sasl-external             bind with SASL EXTERNAL (e.g. ldapi:// as root)\n"
    "  --ldap-uri URI              write to this server instead of ldap.uris (repeatable)\n";

std::string config_option() {
    return std::string("  -c, --config PATH   configuration (default: $MAILGRANT_CONFIG, else\n"
                       "                      ") + kDefaultConfigPath + ")\n";
}

}  // namespace

const std::vector<Verb>& verbs() {
    static const std::vector<Verb> table{
        {"grant", "share a mailbox's folders and/or sending with users or groups",
         "usage: mailgrant [-c CONFIG] grant MAILBOX GRANTEE [GRANTEE...] [options]\n"
         "\n"
         "Gives each GRANTEE access below MAILBOX. MAILBOX: address, alias, login or DN.\n"
         "GRANTEE: address, login, group name (cn) or DN of a person or group.\n"
         "One grant per grantee and mailbox: a grantee who already has a grant here with the\n"
         "same validity window gets it extended (folders, rights, send rights) -- folders join\n"
         "a grant whose rights are the ones asked for, or whose every folder is named again\n"
         "(then its rights change); otherwise a new grant is created and the output says why.\n"
         "--name always creates one new grant, naming every GRANTEE given.\n"
         "\n"
         "  -f, --folder F     folder or pattern: INBOX, Projects, 'Projects/*', '*' (repeatable)\n"
         "  --role ROLE        reader (lrs), editor (lrswipkxte) or admin (lrswipkxtea)\n"
         "  --rights LETTERS   RFC 4314 rights letters instead of a role, e.g. lrsw\n"
         "  --send-as          GRANTEE may send with MAILBOX's addresses as From\n"
         "  --send-on-behalf   GRANTEE may send on behalf of MAILBOX (Sender: GRANTEE)\n"
         "  --from TIME        valid from TIME; --until TIME  valid until TIME\n"
         "                     TIME: 2024-08-31 (from: 00:00:00Z, until: 23:59:59Z),\n"
         "                     2024-08-31T18:00Z or 20240831180000Z (UTC)\n"
         "  --name NAME        create a new grant with this cn (default: extend the grantee's\n"
         "                     grant, or create one named after the grantee, made unique)\n"
         "  --description TEXT (new grants only)\n"
         "  --notify           mail the grantee (every member, for a group) what was shared,\n"
         "                     who shared it, until when and how to open it, in their\n"
         "                     preferredLanguage (templates: notify.templates_dir, then\n"
         "                     /usr/share/mailgrant/notices; an invitation links to the accept\n"
         "                     page under notify.webmail_url)\n"
         "  --notify-from ADDR sender of the notice (default notify.from, else\n"
         "                     postmaster@<mailbox domain>); named as the one who shared when\n"
         "                     it is a person's address (else the --bind-dn person, else \"the\n"
         "                     mail administrator\")\n"
         "  --smtp SERVER      send the notice by SMTP: HOST:PORT, smtp://HOST:PORT or\n"
         "                     smtps://HOST:PORT (default: notify.smtp, else the command in\n"
         "                     cli.sendmail, /usr/sbin/sendmail -t -i)\n"
         "  --sendmail CMD     sendmail command to use\n"
         "  --invite           create the grant as an invitation (mailGrantPending: TRUE): it\n"
         "                     gives nothing until accepted (mailgrant accept) and can be\n"
         "                     accepted for invitations.expire_after (default 14d); always a\n"
         "                     new grant, never an extension\n"
         "\n"
         "Refused (exit 4) when the grant could never work: unknown mailbox or grantee,\n"
         "grantee is the mailbox itself or a shared mailbox, bad role or rights letters,\n"
         "rights without a folder or a folder without rights, nothing granted, --until\n"
         "before --from or in the past, a --name already taken. Nothing is written then.\n"
         "\n"
         "Examples:\n"
         "  mailgrant grant alice@example.com bob@example.com --folder Projects --folder 'Projects/*' --role reader\n"
         "  mailgrant grant alice@example.com bob@example.com --send-on-behalf      # joins bob's grant\n"
         "  mailgrant grant support@example.com bob carol --folder '*' --role editor --send-as\n"
         "  mailgrant grant alice@example.com carol --folder INBOX --rights lrsw --until 2030-08-31 --notify\n",
         run_grant},
        {"revoke", "remove a grant, or (part of) grantees' access to a mailbox",
         "usage: mailgrant [-c CONFIG] revoke MAILBOX NAME [options]\n"
         "       mailgrant [-c CONFIG] revoke MAILBOX --grantee GRANTEE [--grantee G2...]\n"
         "                 [--folders-only | --send-only | --folder F [--folder F2...]] [options]\n"
         "\n"
         "By NAME: deletes that grant entry. With --grantee: every grant of MAILBOX naming\n"
         "GRANTEE loses GRANTEE -- the entry is deleted, or, when it also names other grantees,\n"
         "only GRANTEE is taken out of it. Only a part of the access:\n"
         "  --folders-only     folder access (folders and rights); send rights stay\n"
         "  --send-only        send rights (sendAs, sendOnBehalf); folder access stays\n"
         "  -f, --folder F     exactly folder F as listed in the grant (repeatable)\n"
         "A grant left granting nothing is deleted. A part cannot be taken out of a grant\n"
         "shared with other grantees (it would go for them too): that is refused (exit 4).\n"
         "  --notify           mail each grantee who lost access (every member, for a group)\n"
         "                     what was taken away and by whom (exit 5 when it fails)\n"
         "  --notify-from ADDR, --smtp SERVER, --sendmail CMD   as for grant\n",
         run_revoke},
        {"notify-expiring", "mail grantees whose grant ends in N days (cron, systemd timer)",
         "usage: mailgrant [-c CONFIG] [--json] notify-expiring --days N [--window W] [--dry-run]\n"
         "                 [--notify-from ADDR] [--smtp SERVER | --sendmail CMD]\n"
         "\n"
         "Every grant in force whose mailGrantNotAfter falls on the UTC day N days from today\n"
         "(0-366; with --window W: on one of the W days from then) mails each grantee (every\n"
         "member, for a group) a warning in their preferredLanguage. The window is whole UTC\n"
         "days, so daily runs cover every end once and keep no state; run it once a day\n"
         "(examples/systemd/mailgrant-notify-expiring.timer), or weekly with --window 7.\n"
         "Pending invitations and grants already ended are skipped.\n"
         "  --dry-run          print who would get which notice (and in which language); send\n"
         "                     nothing\n"
         "Exit 0 (also when nothing ends then), 5 when a notice could not be delivered.\n"
         "\n"
         "Example:\n"
         "  mailgrant notify-expiring --days 7 --dry-run\n",
         run_notify_expiring},
        {"accept", "accept a pending invitation (grant --invite) for its grantee",
         "usage: mailgrant [-c CONFIG] accept OWNER GRANTEE [--grant NAME] [write options]\n"
         "\n"
         "Removes mailGrantPending from OWNER's pending grants naming GRANTEE (only the one\n"
         "named NAME with --grant): from then on they give what they say. Refused (exit 4),\n"
         "nothing changed, when no pending invitation matches (an accepted grant is never\n"
         "touched), when one is older than invitations.expire_after (counted from the grant\n"
         "entry's createTimestamp; decline it and invite again), or when one also names\n"
         "other grantees and --grant does not name it.\n",
         run_accept},
        {"decline", "decline (delete) a pending invitation for its grantee",
         "usage: mailgrant [-c CONFIG] decline OWNER GRANTEE [--grant NAME] [write options]\n"
         "\n"
         "Deletes OWNER's pending grants naming GRANTEE (only NAME with --grant); an\n"
         "invitation that also names other grantees loses only GRANTEE. Expired invitations\n"
         "can be declined. An accepted grant is never touched (that is revoke); refused\n"
         "(exit 4) when no pending invitation matches.\n",
         run_decline},
        {"mailbox", "create, delete, rename and list shared (team) mailboxes",
         "usage: mailgrant [-c CONFIG] mailbox create ADDRESS --name NAME [--alias ADDR]...\n"
         "                 [--grant WHO [--grant WHO2]... --rights ROLE [--send-as | --send-on-behalf]\n"
         "                  | --owner-group GROUP] [--sent-copy yes|no] [--doveadm CMD] [write options]\n"
         "       mailgrant [-c CONFIG] mailbox delete ADDRESS [--force] [--doveadm CMD] [write options]\n"
         "       mailgrant [-c CONFIG] mailbox set ADDRESS [--name NAME] [--sent-copy yes|no|default]\n"
         "                 [write options]\n"
         "       mailgrant [-c CONFIG] mailbox list\n"
         "\n"
         "create: a shared mailbox entry (objectClass mailSharedMailbox, uid = the local part,\n"
         "below team_mailbox.base or users.base; cn, sn and displayName = NAME; no password: it\n"
         "is reached through grants only). Refused (exit 4) when ADDRESS or an --alias is already\n"
         "a mailbox's address, alias or login, or the entry exists. Its special-use folders\n"
         "(team_mailbox.drafts/sent/trash/junk) are created with `CMD mailbox create -s -u ADDRESS\n"
         "...` when --doveadm CMD is given (exit 6 when that fails: the entry stays), else by the\n"
         "Dovecot plugin when the mailbox is first opened. --grant WHO (address, login, group\n"
         "name, $group or DN; repeatable) adds the first grant on every folder ('*') through\n"
         "`grant`, checked before anything is written. --owner-group GROUP is that first grant for\n"
         "the team that owns the mailbox: the admin role on every folder, and send as it.\n"
         "--sent-copy sets schema.sent_copy (default:\n"
         "team_mailbox.sent_copy).\n"
         "delete: refused while grants exist below the mailbox (they are listed) unless --force,\n"
         "which deletes them first; refused for anything but a shared mailbox (never a person).\n"
         "The mail store stays on disk; with --doveadm CMD its place (`CMD user -f home`) is shown.\n"
         "set: the display name and/or the sent-copy switch (default: the site's).\n"
         "list: every shared mailbox with its name, grant count and sent-copy switch.\n"
         "--ldif (create, delete, set) prints the changes instead of writing them.\n",
         run_mailbox},
        {"list", "grants and their state (active, not yet valid, expired)",
         "usage: mailgrant [-c CONFIG] list [MAILBOX | --grantee GRANTEE] [--expand]\n"
         "                 [--as-supervisor PERSON]\n"
         "\n"
         "Without arguments every grant in the directory; with MAILBOX the grants of that\n"
         "mailbox; with --grantee the grants that reach GRANTEE, directly or through its\n"
         "groups (VIA shows the group path). --expand adds the people behind group grantees.\n"
         "--as-supervisor P (or cli.supervisor): only grants on mailboxes whose owner has P\n"
         "as manager, transitively; another MAILBOX is refused (exit 4).\n",
         run_list},
        {"explain", "why may (or may not) LOGIN do something",
         "usage: mailgrant [-c CONFIG] explain LOGIN MAILBOX FOLDER [--as-supervisor PERSON]\n"
         "       mailgrant [-c CONFIG] explain LOGIN ADDRESS --send [--as-supervisor PERSON]\n"
         "\n"
         "Rights of LOGIN on FOLDER of MAILBOX, or whether LOGIN may send as ADDRESS, with\n"
         "the grant and group path that decided it and the grants that did not apply.\n"
         "Uses the same decision code as the Dovecot plugin and the policy daemon.\n"
         "--as-supervisor P (or cli.supervisor): only a MAILBOX whose owner has P as\n"
         "manager, transitively; another is refused (exit 4). Exit 0 allowed, 1 denied.\n",
         run_explain},
        {"check", "lint every grant (for cron and CI)",
         "usage: mailgrant [-c CONFIG] check [--doveadm CMD | --no-doveadm]\n"
         "\n"
         "Reports grantee DNs that do not exist, unknown roles and bad rights letters, bad\n"
         "send values or times, expired grants still present, grants below entries without\n"
         "a mail address, group membership cycles, and folder names or patterns matching none\n"
         "of the owner's folders nor anything below one ('Projects/*' is fine while Projects\n"
         "has no subfolder yet) (asked with `CMD mailbox list -u OWNER`; CMD defaults to\n"
         "`doveadm`; skipped where it does not run). Where CMD runs, also every entry of\n"
         "the mailboxes' local ACL files (shares made with `doveadm acl`), which work but\n"
         "live outside LDAP (kind outside-ldap; asked with `CMD -o mail_plugins=acl acl get`,\n"
         "so nothing mailgrant's plugin derives from LDAP is mixed in). Exit 1 when anything\n"
         "is found.\n",
         run_check},
        {"report", "one row per mailbox: owner, access, messages, unread, size, last login",
         "usage: mailgrant [-c CONFIG] report [--columns COLS] [--sort COLS] [--filter F]...\n"
         "                 [--format table|json|csv] [--as-supervisor PERSON]\n"
         "                 [--address GLOB] [--grantee WHO] [--type personal|shared] [--min-size SIZE]\n"
         "                 [--doveadm CMD | --no-doveadm] [--last-login-dict URI]\n"
         "\n"
         "Columns: address, name, type, owner, aliases, access, messages, unread, size,\n"
         "last-login, grants, expires. Default: address,type,aliases,access,messages,unread,size\n"
         "(JSON: all but last-login). OWNER: the person of a personal mailbox; the `manager`\n"
         "of a shared one. ACCESS lists every person with an active grant (groups expanded)\n"
         "with role or rights, sending right and group path. GRANTS: the grant entries below\n"
         "the mailbox; EXPIRES: the earliest end of one still in force or to come.\n"
         "\n"
         "  --columns COLS      e.g. address,name,owner,size,last-login\n"
         "  --sort COLS         e.g. -size,address ('-': descending; unknown values last)\n"
         "  --filter F          KEY=GLOB, KEY!=GLOB (case-insensitive; list columns: any entry;\n"
         "                      '-' for none), KEY>V, KEY<V, KEY>=V, KEY<=V for numbers, sizes\n"
         "                      (500K, 1M, 2G), dates (2026-01-01) and the number of entries of\n"
         "                      list columns; repeatable, all must match:\n"
         "                      --filter 'size>1M' --filter 'last-login<2026-01-01' --filter type=shared\n"
         "  --format FMT        table (default), json (as --json) or csv (RFC 4180, exact bytes)\n"
         "  --as-supervisor P   only mailboxes whose owner has P as manager (transitively,\n"
         "                      cli.manager_attribute, cli.manager_max_depth); cli.supervisor\n"
         "                      sets it for a delegated admin's configuration\n"
         "\n"
         "MESSAGES, UNREAD and SIZE come from `CMD -f flow mailbox status -u USER 'messages\n"
         "unseen vsize' '*'` (CMD defaults to `doveadm`, e.g. --doveadm \"doveadm -c\n"
         "/etc/dovecot/dovecot.conf\"); --no-doveadm leaves them out (\"-\"). LAST LOGIN comes\n"
         "from Dovecot's last_login plugin dictionary (cli.last_login_dict, file:/PATH or a\n"
         "dict URI read with `CMD dict iter`). Only metadata is read, never mail. When counts\n"
         "or last logins were asked for and could not be read, stderr says so and the exit\n"
         "code is 6.\n",
         run_report},
        {"audit", "who granted, changed and revoked which grant, and when",
         "usage: mailgrant [-c CONFIG] audit [--since WHEN] [--mailbox ADDRESS]\n"
         "                 [--format table|json|csv]\n"
         "\n"
         "One time-ordered list of grant writes, each row naming its source:\n"
         "  ldap       the grant entries' createTimestamp/creatorsName and\n"
         "             modifyTimestamp/modifiersName: the grants that exist now\n"
         "  accesslog  slapd's accesslog overlay below cli.accesslog_base (e.g. cn=accesslog),\n"
         "             read with the YAML's credentials: every add, modify and delete\n"
         "Without cli.accesslog_base revocations leave no trace, and a note says so.\n"
         "\n"
         "  --since WHEN        2026-11-01, 2026-11-01T08:00Z, or back from now: 90m, 12h, 7d, 2w\n"
         "  --mailbox ADDRESS   only grants of this mailbox (address, alias, login or DN)\n"
         "  --format FMT        table (default), json (as --json) or csv (RFC 4180)\n",
         run_audit},
    };
    return table;
}

std::string main_usage() {
    std::string out =
        "usage: mailgrant [-c CONFIG] [--json] VERB [ARGS...]\n"
        "       mailgrant VERB --help\n"
        "\n"
        "Verbs:\n";
    for (const auto& v : verbs()) {
        std::string name = v.name;
        name.resize(std::max<std::size_t>(9, name.size() + 1), ' ');  // notify-expiring is longer
        out += "  " + name + v.summary + "\n";
    }
    out += "\n" + config_option() +
           "  --json              machine-readable output (every verb)\n"
           "\n";
    out += kWriteOptions;
    out += "\n";
    out += kExitCodes;
    return out;
}

std::string verb_help(const Verb& verb) {
    std::string out = verb.help;
    out += "\n" + config_option() + "  --json              machine-readable output\n";
    const std::string name = verb.name;
    if (name == "grant" || name == "revoke" || name == "mailbox" || name == "accept" || name == "decline")
        out += std::string("\n") + kWriteOptions;
    out += std::string("\n") + kExitCodes;
    return out;
}

}  // namespace mailgrant::cli
