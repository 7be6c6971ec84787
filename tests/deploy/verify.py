#!/usr/bin/env python3
"""verify.py -- run inside the deployment test's root after baseline-site.sh and the
README's Deploying steps: what a new admin would try first, with real clients against
the site as deployed (standard ports on the root's own loopback, Postfix's stock TLS).

  alice keeps Projects (baseline-site.sh); bob reads it as shared/alice@example.com/Projects (the plugin)
  bob (support-team, sendAs) sends From: support@ on submission   -> accepted (policy + milter)
  dan sends From: support@ (envelope)                             -> 5.7.1 from the policy check
  dan, own envelope, header From: support@                        -> 5.7.1 from the milter
  support@example.com*carol@example.com over IMAP                 -> opens support@'s INBOX
  the same login over SMTP                                         -> refused (535)
  alice shares Projects with carol by IMAP SETACL                 -> an LDAP grant; carol sees it
Each acceptance or refusal is matched with the deciding component's own log line.
Prints one line per check and "N passed, N failed"; exit 1 if any failed.
"""
import imaplib
import os
import re
import signal
import smtplib
import ssl
import subprocess
import sys
import time
import traceback
from email.message import EmailMessage

POLICYD_LOG = "/var/log/mailgrant-policyd.log"
DOVECOT_LOG = "/var/log/dovecot.log"
results = []


def check(ok, what, detail=""):
    results.append(bool(ok))
    print(("ok    " if ok else "FAIL  ") + what + ("" if ok or not detail else "\n      " + str(detail)[:2000]))


def logged(path, text, timeout_s=10):
    """True once `text` (a string, or a compiled pattern to search for) is in the log."""
    deadline = time.time() + timeout_s
    while True:
        try:
            with open(path, errors="replace") as f:
                content = f.read()
            if (text.search(content) if isinstance(text, re.Pattern) else text in content):
                return True
        except OSError:
            pass
        if time.time() > deadline:
            return False
        time.sleep(0.2)


def tail(path, n=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError as e:
        return str(e)


def imap(user, password):
    c = imaplib.IMAP4("127.0.0.1", 143, timeout=30)
    c.login(user, password)
    return c


def submit(login, password, envelope, header_from, subject):
    """(code, text) of the first refusal, or (250, "accepted")."""
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = header_from, "alice@example.com", subject
    m.set_content("mailgrant deployment test\n")
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # Debian's snakeoil certificate
    try:
        with smtplib.SMTP("127.0.0.1", 587, timeout=60) as s:
            s.starttls(context=context)
            s.login(login, password)
            s.send_message(m, from_addr=envelope, to_addrs=["alice@example.com"])
        return 250, "accepted"
    except smtplib.SMTPRecipientsRefused as e:
        code, text = list(e.recipients.values())[0]
        return code, text.decode(errors="replace")
    except (smtplib.SMTPDataError, smtplib.SMTPAuthenticationError, smtplib.SMTPSenderRefused) as e:
        return e.smtp_code, e.smtp_error.decode(errors="replace")


def wait_for_message(user, password, subject, folder="INBOX", timeout_s=30):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        with imap(user, password) as c:
            c.select(folder, readonly=True)
            typ, data = c.search(None, "SUBJECT", '"%s"' % subject)
            if typ == "OK" and data[0].split():
                return True
        time.sleep(0.5)
    return False


def team_mailbox_delivery():
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "customer@example.org", "support@example.com", "My order is late"
    m.set_content("Where is it?\n")
    with smtplib.SMTP("127.0.0.1", 25, timeout=30) as s:
        s.send_message(m)
    check(wait_for_message("support@example.com*carol@example.com", "carol-pw", "My order is late"),
          "mail to the team mailbox is delivered, and carol's per-collaborator IMAP login opens it",
          tail(DOVECOT_LOG))


def shared_folder():
    with imap("bob@example.com", "bob-pw") as b:
        names = [line.decode() for line in b.list('""', "*")[1]]
        check(any(n.endswith("shared/alice@example.com/Projects") for n in names),
              "bob's LIST shows shared/alice@example.com/Projects", names)
        ok = b.select('"shared/alice@example.com/Projects"', readonly=True)[0] == "OK"
        subject = b.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")[1][0][1] if ok else b""
        check(b"Roadmap 2027" in subject, "bob reads alice's shared Projects folder", tail(DOVECOT_LOG))


def send_as_allowed():
    code, text = submit("bob@example.com", "bob-pw", "support@example.com", "support@example.com", "bob as support")
    check(code == 250 and logged(POLICYD_LOG, "login=bob@example.com sender=<support@example.com> decision=allow")
          and logged(POLICYD_LOG, "login=bob@example.com from=\"support@example.com\" decision=accept"),
          "bob (support-team, sendAs) sends as support@: accepted by the policy check and the milter",
          "%s %s\n%s" % (code, text, tail(POLICYD_LOG)))


def envelope_refused():
    code, text = submit("dan@example.com", "dan-pw", "support@example.com", "support@example.com", "dan as support")
    check(code == 554 and "5.7.1" in text
          and logged(POLICYD_LOG, "login=dan@example.com sender=<support@example.com> decision=reject"),
          "dan (no grant) is refused 5.7.1 by the policy check", "%s %s\n%s" % (code, text, tail(POLICYD_LOG)))


def header_from_refused():
    code, text = submit("dan@example.com", "dan-pw", "dan@example.com", "support@example.com", "dan forges From")
    check(code == 550 and "5.7.1" in text
          and logged(POLICYD_LOG, "login=dan@example.com from=\"support@example.com\" decision=reject"),
          "dan's forged header From: support@ is refused 5.7.1 by the milter",
          "%s %s\n%s" % (code, text, tail(POLICYD_LOG)))


def own_address_allowed():
    code, text = submit("dan@example.com", "dan-pw", "dan@example.com", "dan@example.com", "dan as dan")
    check(code == 250 and logged(POLICYD_LOG, "login=dan@example.com sender=<dan@example.com> decision=allow"),
          "dan sends as himself", "%s %s" % (code, text))


def collaborator_login_not_for_smtp():
    code, text = submit("support@example.com*carol@example.com", "carol-pw", "support@example.com",
                        "support@example.com", "carol with the mailbox login")
    check(code == 535 and logged(DOVECOT_LOG, "for service 'smtp'"),
          "the per-collaborator login is refused for SMTP, with the reason in Dovecot's log",
          "%s %s\n%s" % (code, text, tail(DOVECOT_LOG)))


def share_by_setacl():
    # Sharing from the mail client (README "Sharing from a mail client"): alice shares
    # Projects with carol by IMAP SETACL; the plugin writes the grant with the service
    # account, which service-write-acl.ldif allows.
    with imap("alice@example.com", "alice-pw") as a:
        typ, data = a.setacl("Projects", "carol@example.com", "lrs")
    entry = subprocess.run(["ldapsearch", "-Q", "-LLL", "-Y", "EXTERNAL", "-H", "ldapi:///", "-b",
                            "uid=alice,ou=people,dc=example,dc=com",
                            "(&(objectClass=mailGrant)(mailGrantee=uid=carol,ou=people,dc=example,dc=com))",
                            "mailGrantFolder", "mailGrantRights"], capture_output=True, text=True, timeout=30).stdout
    with imap("carol@example.com", "carol-pw") as c:
        names = [line.decode() for line in c.list('""', "*")[1]]
    check(typ == "OK" and "mailGrantFolder: Projects" in entry and "mailGrantRights: reader" in entry
          and any(n.endswith("shared/alice@example.com/Projects") for n in names)
          and logged(DOVECOT_LOG, "mailgrant: SETACL by alice@example.com on Projects"),
          "alice shares Projects with carol from her mail client (SETACL): an LDAP grant, carol sees it",
          "%s %s\n%s\n%s\n%s" % (typ, data, entry, names, tail(DOVECOT_LOG)))


def shares_decided_by_the_service():
    # README "One cache per host": with service.listen set (the shipped mailgrant.yaml)
    # Dovecot's processes ask mailgrant-policyd instead of LDAP. Its counters (SIGUSR1
    # logs them) show the questions it answered for the IMAP checks above.
    pids = subprocess.run(["pgrep", "-x", "mailgrant-polic"], capture_output=True, text=True, timeout=10).stdout.split()
    if not pids:
        pids = subprocess.run(["pgrep", "-f", "sbin/mailgrant-policyd"], capture_output=True, text=True,
                              timeout=10).stdout.split()
    for pid in pids:
        os.kill(int(pid), signal.SIGUSR1)
    answered = bool(pids) and logged(POLICYD_LOG, re.compile(r"service_questions=[1-9]"))
    with open(POLICYD_LOG, errors="replace") as f:
        counts = re.findall(r"service_questions=(\d+)", f.read())
    check(answered, "the shares above were decided by mailgrant-policyd's decision service (service_questions=%s)"
          % (counts[-1] if counts else "?"), tail(POLICYD_LOG))


def main():
    # Every check runs even when one before it fails: an exception (a refused login, a
    # dropped connection) is that check's failure, so one run shows everything that works.
    for step in (team_mailbox_delivery, shared_folder, send_as_allowed, envelope_refused, header_from_refused,
                 own_address_allowed, collaborator_login_not_for_smtp, share_by_setacl,
                 shares_decided_by_the_service):
        try:
            step()
        except Exception as e:  # noqa: BLE001 -- reported as the check's failure
            check(False, step.__name__ + " (raised %s)" % type(e).__name__,
                  "%s\n%s" % (traceback.format_exc(limit=3), tail(DOVECOT_LOG, 10)))

    passed = sum(results)
    print("%d passed, %d failed" % (passed, len(results) - passed))
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
