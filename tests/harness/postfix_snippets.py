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


def policy_socket(queue_dir):
    """Where mailgrant-policyd must listen for main.cf.snippet's check_policy_service."""
    text = main_cf()
    marker = "check_policy_service { unix:"
    start = text.index(marker) + len(marker)
    path = text[start:].split(",", 1)[0].strip()
    return os.path.join(queue_dir, path)
