// help.cpp -- the text of `mailgrant --help` and of every `mailgrant VERB --help`, and the
// verb table main.cpp dispatches on. Exit codes are documented here, once.
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
    "  5  grant written, but the --notify message could not be delivered\n";

const char* kWriteOptions =
    "Write options (grant, revoke):\n"
    "  --ldif                      print the change as LDIF instead of applying it\n"
    "  --bind-dn DN                bind as DN for the write (default: ldap.bind_dn)\n"
    "  --bind-password-file FILE   its password, first line (default: ldap.bind_password_file)\n"
    "  --sasl-external             bind with SASL EXTERNAL (e.g. ldapi:// as root)\n"
    "  --ldap-uri URI              write to this server instead of ldap.uris (repeatable)\n";

std::string config_option() {
    return std::string("  -c, --config PATH   configuration (default ") + kDefaultConfigPath + ")\n";
}

}  // namespace

const std::vector<Verb>& verbs() {
    static const std::vector<Verb> table{
        {"grant", "share a mailbox's folders and/or sending with a user or group",
         "usage: mailgrant [-c CONFIG] grant MAILBOX GRANTEE [options]\n"
         "\n"
         "Creates a grant entry below MAILBOX. MAILBOX: address, alias, login or DN.\n"
         "GRANTEE: address, login, group name (cn) or DN of a person or group.\n"
         "\n"
         "  -f, --folder F     folder or pattern: INBOX, Projects, 'Projects/*', '*' (repeatable)\n"
         "  --role ROLE        reader (lrs), editor (lrswipkxte) or admin (lrswipkxtea)\n"
         "  --rights LETTERS   RFC 4314 rights letters instead of a role, e.g. lrsw\n"
         "  --send-as          GRANTEE may send with MAILBOX's addresses as From\n"
         "  --send-on-behalf   GRANTEE may send on behalf of MAILBOX (Sender: GRANTEE)\n"
         "  --from TIME        valid from TIME; --until TIME  valid until TIME\n"
         "                     TIME: 2024-08-31 (from: 00:00:00Z, until: 23:59:59Z),\n"
         "                     2024-08-31T18:00Z or 20240831180000Z (UTC)\n"
         "  --name NAME        the grant's cn (default: grantee's name, made unique)\n"
         "  --description TEXT\n"
         "  --notify           mail the grantee (every member, for a group) what was shared\n"
         "  --notify-from ADDR sender of the notice (default postmaster@<mailbox domain>)\n"
         "  --smtp HOST:PORT   send the notice by SMTP (default: /usr/sbin/sendmail -t -i)\n"
         "  --sendmail CMD     sendmail command to use\n"
         "\n"
         "Refused (exit 4) when the grant could never work: unknown mailbox or grantee,\n"
         "grantee is the mailbox itself or a shared mailbox, bad role or rights letters,\n"
         "rights without a folder or a folder without rights, nothing granted, --until\n"
         "before --from or in the past, a --name already taken.\n"
         "\n"
         "Examples:\n"
         "  mailgrant grant alice@example.com bob@example.com --folder Projects --folder 'Projects/*' --role reader\n"
         "  mailgrant grant support@example.com support-team --folder '*' --role editor --send-as\n"
         "  mailgrant grant alice@example.com carol --folder INBOX --rights lrsw --until 2024-08-31 --notify\n",
         run_grant},
        {"revoke", "remove a grant, or a grantee from a mailbox's grants",
         "usage: mailgrant [-c CONFIG] revoke MAILBOX NAME [options]\n"
         "       mailgrant [-c CONFIG] revoke MAILBOX --grantee GRANTEE [--folder F] [options]\n"
         "\n"
         "By NAME: deletes that grant entry. With --grantee: every grant of MAILBOX naming\n"
         "GRANTEE is deleted, or, when it also names other grantees, GRANTEE is removed from it.\n"
         "With --folder F only grants listing F are touched, and only F is removed from a grant\n"
         "that lists other folders too.\n",
         run_revoke},
        {"list", "grants and their state (active, not yet valid, expired)",
         "usage: mailgrant [-c CONFIG] list [MAILBOX | --grantee GRANTEE] [--expand]\n"
         "\n"
         "Without arguments every grant in the directory; with MAILBOX the grants of that\n"
         "mailbox; with --grantee the grants that reach GRANTEE, directly or through its\n"
         "groups (VIA shows the group path). --expand adds the people behind group grantees.\n",
         run_list},
        {"explain", "why may (or may not) LOGIN do something",
         "usage: mailgrant [-c CONFIG] explain LOGIN MAILBOX FOLDER\n"
         "       mailgrant [-c CONFIG] explain LOGIN ADDRESS --send\n"
         "\n"
         "Rights of LOGIN on FOLDER of MAILBOX, or whether LOGIN may send as ADDRESS, with\n"
         "the grant and group path that decided it and the grants that did not apply.\n"
         "Uses the same decision code as the Dovecot plugin and the policy daemon.\n"
         "Exit 0 allowed, 1 denied.\n",
         run_explain},
        {"check", "lint every grant (for cron and CI)",
         "usage: mailgrant [-c CONFIG] check [--doveadm CMD | --no-doveadm]\n"
         "\n"
         "Reports grantee DNs that do not exist, unknown roles and bad rights letters, bad\n"
         "send values or times, expired grants still present, grants below entries without\n"
         "a mail address, group membership cycles, and folder patterns matching none of the\n"
         "owner's folders (asked with `CMD mailbox list -u OWNER`; CMD defaults to\n"
         "`doveadm`; skipped where it does not run). Exit 1 when anything is found.\n",
         run_check},
        {"report", "one row per mailbox: addresses, access, messages, unread, size",
         "usage: mailgrant [-c CONFIG] report [--address GLOB] [--grantee WHO]\n"
         "                 [--type personal|shared] [--min-size SIZE] [--doveadm CMD | --no-doveadm]\n"
         "\n"
         "ACCESS lists every person with an active grant (groups expanded) with role or\n"
         "rights, sending right and group path. MESSAGES, UNREAD and SIZE come from\n"
         "`CMD -f flow mailbox status -u USER 'messages unseen vsize' '*'` (CMD defaults to\n"
         "`doveadm`, e.g. --doveadm \"doveadm -c /etc/dovecot/dovecot.conf\"); \"-\" when it\n"
         "does not run. --min-size (500K, 10M, 2G) keeps only mailboxes known to be that big.\n",
         run_report},
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
        name.resize(9, ' ');
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
    if (std::string(verb.name) == "grant" || std::string(verb.name) == "revoke") out += std::string("\n") + kWriteOptions;
    out += std::string("\n") + kExitCodes;
    return out;
}

}  // namespace mailgrant::cli
