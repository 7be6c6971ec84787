"""The shipped Postfix snippets (examples/postfix/) as the test stacks and the demo use
them, so what a site copies is what the tests run: main.cf.snippet is appended to
main.cf as it is; from master.cf.snippet's submission entry the mailgrant-specific
"-o" options are taken (the sandbox builds the rest of its submission service itself,
on a free loopback port and without TLS)."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAIN_SNIPPET = os.path.join(ROOT, "examples", "postfix", "main.cf.snippet")
MASTER_SNIPPET = os.path.join(ROOT, "examples", "postfix", "master.cf.snippet")

# The submission options that are mailgrant's own; the others (TLS, SASL path, client
# and relay restrictions) the sandbox sets for its loopback listener.
MAILGRANT_OPTIONS = ("smtpd_sender_restrictions", "smtpd_milters", "milter_default_action",
                     "milter_macro_daemon_name")


def main_cf():
    with open(MAIN_SNIPPET) as f:
        return f.read()


def submission_options(names=MAILGRANT_OPTIONS):
    """The "-o name=value" options of the snippet's submission entry whose name is listed,
    in the snippet's order, e.g. ["smtpd_sender_restrictions=mailgrant_submission", ...]."""
    options, in_submission = [], False
    with open(MASTER_SNIPPET) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            if not line[0].isspace():
                in_submission = line.split()[0] == "submission"
                continue
            parts = line.split()
            if in_submission and len(parts) == 2 and parts[0] == "-o":
                name = parts[1].split("=", 1)[0]
                if name in names:
                    options.append(parts[1])
    return options


def milter_socket(queue_dir):
    """Where mailgrant-policyd must listen for the snippet's smtpd_milters value
    (unix:private/... is relative to Postfix's queue directory)."""
    for option in submission_options(("smtpd_milters",)):
        value = option.split("=", 1)[1]
        if value.startswith("unix:") and not value.startswith("unix:/"):
            return os.path.join(queue_dir, value[len("unix:"):])
        raise ValueError("master.cf.snippet: smtpd_milters is not a relative unix: socket: " + value)
    raise ValueError("master.cf.snippet: no smtpd_milters option on submission")


SENT_COPY_SERVICE = "mailgrant-sent-copy"
SITE_MAIL_OWNER = "user=vmail"          # the snippet's pipe user (a site's mail store owner)
DOVECOT_LDA = "/usr/lib/dovecot/dovecot-lda"


def service_entry(name, text=None):
    """The lines of master.cf.snippet's entry for service `name` (its first line and the
    indented lines below it), as they stand."""
    if text is None:
        with open(MASTER_SNIPPET) as f:
            text = f.read()
    lines, inside = [], False
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            inside = False  # a comment or blank line ends an entry
        elif not line[0].isspace():
            inside = line.split()[0] == name
        if inside:
            lines.append(line)
    if not lines:
        raise ValueError("master.cf.snippet: no %s service" % name)
    return lines


def sent_copy_service(dovecot_conf, mail_user, lda_log=None):
    """master.cf.snippet's sent-copy pipe service for a sandbox: the same entry, with the
    sandbox's mail user for the site's, and its dovecot-lda pointed at the sandbox's
    Dovecot configuration (-c) and, when given, a log file the mail user may write (the
    sandbox's Dovecot log is root's). Returns the master.cf lines."""
    out = []
    for line in service_entry(SENT_COPY_SERVICE):
        if DOVECOT_LDA in line:
            if SITE_MAIL_OWNER not in line:
                raise ValueError("master.cf.snippet: %s has no %s" % (SENT_COPY_SERVICE, SITE_MAIL_OWNER))
            line = line.replace(SITE_MAIL_OWNER, "user=" + mail_user)
            extra = " -c " + dovecot_conf + (" -o log_path=" + lda_log if lda_log else "")
            line = line.replace(DOVECOT_LDA, DOVECOT_LDA + extra, 1)
        out.append(line)
    return out


def sent_copy_domain():
    """The reserved domain main.cf.snippet's transport_maps routes to the sent-copy service
    (team_mailbox.sent_copy_domain must name the same)."""
    for line in main_cf().splitlines():
        if line.startswith("transport_maps") and SENT_COPY_SERVICE in line:
            return line.split("inline:{", 1)[1].split("=" + SENT_COPY_SERVICE, 1)[0].strip()
    raise ValueError("main.cf.snippet: no transport_maps entry for " + SENT_COPY_SERVICE)


def policy_socket(queue_dir):
    """Where mailgrant-policyd must listen for main.cf.snippet's check_policy_service."""
    text = main_cf()
    marker = "check_policy_service { unix:"
    start = text.index(marker) + len(marker)
    path = text[start:].split(",", 1)[0].strip()
    return os.path.join(queue_dir, path)
