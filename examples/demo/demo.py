#!/usr/bin/env python3
"""The mailgrant sandbox demo: the whole stack on 127.0.0.1, and the story of
README.md told with real clients (imaplib, smtplib) against a real slapd, Dovecot with
the plugin (through the shipped drop-in of the installed Dovecot: Debian 12's 2.3
examples/dovecot/90-mailgrant.conf, Debian 13's 2.4 examples/dovecot/2.4/90-mailgrant.conf;
the harness picks it, nothing else in the story differs) and Postfix with the policy
daemon (through examples/postfix/main.cf.snippet).

usage: demo.py start BUILD_DIR   run the story; leave the stack running; exit 1 if any
                                 outcome differs from the story
       demo.py stop              stop everything and remove the sandbox directory

Everything lives in $MAILGRANT_DEMO_DIR (default /tmp/mailgrant-demo).
"""
import imaplib
import json
import os
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
from mail_sandbox import MAIL_USER, MailStack, dovecot_version  # noqa: E402
import postfix_snippets  # noqa: E402
from mailgrant_setup import dovecot_conf_with_plugin, last_login_dict_path, write_config  # noqa: E402
from slapd_sandbox import Slapd  # noqa: E402

DIR = os.environ.get("MAILGRANT_DEMO_DIR", "/tmp/mailgrant-demo")
TTL = 5
GRANTS = os.path.join(ROOT, "examples", "ldap", "sample-grants.ldif")
failures = []


def say(text):
    print(text, flush=True)


def check(ok, text, detail=""):
    say(("  [ok]   " if ok else "  [FAIL] ") + text + (("  (" + detail + ")") if detail and not ok else ""))
    if not ok:
        failures.append(text)


def grant_ldif(cn):
    """One entry of the shipped sample-grants.ldif, by its cn."""
    with open(GRANTS) as f:
        blocks = re.split(r"\n\s*\n", f.read())
    for block in blocks:
        lines = [line for line in block.splitlines() if not line.startswith("#")]
        if any(line == "cn: " + cn for line in lines):
            return "\n".join(lines) + "\n"
    raise KeyError(cn)


class Demo:
    def __init__(self, build):
        self.build = os.path.abspath(build)
        self.cli = os.path.join(self.build, "cli", "mailgrant")
        self.policyd_bin = os.path.join(self.build, "postfix-policyd", "mailgrant-policyd")
        self.plugin = os.path.join(self.build, "dovecot-plugin", "lib20_mailgrant_plugin.so")

    # ---- set-up ----
    def start(self):
        if os.path.exists(DIR):
            stop()
        os.makedirs(DIR)
        os.chmod(DIR, 0o755)
        say("Starting the stack in %s (slapd, Dovecot %d.%d + mailgrant plugin, Postfix + mailgrant-policyd) ..."
            % ((DIR,) + dovecot_version()))
        # syncprov: mailgrant-policyd follows LDAP changes (RFC 4533) and empties its cache
        self.slapd = Slapd(os.path.join(DIR, "slapd"), syncprov=True).start(detach=True)
        self.slapd.load_ldif(os.path.join(HERE, "sample-org.ldif"))
        mail_dir = os.path.join(DIR, "mail")
        os.mkdir(mail_dir)
        os.chmod(mail_dir, 0o755)
        # Postfix as the shipped snippets configure it: the envelope check (main.cf.snippet's
        # restriction class) and the header From: milter (master.cf.snippet).
        self.stack = MailStack(mail_dir, self.slapd.uri, self.slapd.base,
                               postfix_main_extra=postfix_snippets.main_cf(),
                               submission_options=postfix_snippets.submission_options())
        policy_socket = postfix_snippets.policy_socket(self.stack.postfix_queue_dir)
        milter_socket = postfix_snippets.milter_socket(self.stack.postfix_queue_dir)
        etc = os.path.join(DIR, "etc")
        self.config = write_config(etc, self.slapd, TTL, 2,
                                   "policy:\n  listen: unix:%s\n  milter_listen: unix:%s\n  user: mail\n"
                                   "  request_timeout_ms: 3000\n"
                                   # the report's last-login column reads what the drop-in's
                                   # last_login plugin writes (pointed into DIR by the harness)
                                   "cli:\n  last_login_dict: file:%s\n"
                                   # mail sent as a team mailbox is filed in its Sent: the
                                   # milter adds a recipient in the domain the shipped
                                   # main.cf.snippet routes to the sent-copy pipe service
                                   "team_mailbox:\n  sent_copy_domain: %s\n"
                                   # one cache per host: Dovecot's processes ask the daemon
                                   "service:\n  listen: unix:%s\n"
                                   # people's DNs follow one pattern: a group member's login
                                   # and send check read the groups in the login search
                                   "users:\n  dn_template: \"uid=%%n,ou=people,dc=example,dc=com\"\n"
                                   % (policy_socket, milter_socket, last_login_dict_path(etc),
                                      postfix_snippets.sent_copy_domain(), self.service_socket()))
        self.stack.dovecot_extra_conf = dovecot_conf_with_plugin(
            etc, self.plugin, self.config, self.stack.dovecot_ldap_conf_path,
            os.path.join(self.build, "dovecot-plugin", "mailgrant-checkpassword"))
        # master.cf.snippet's sent-copy service, its dovecot-lda pointed at this Dovecot
        # and logging where the mail user may write
        lda_log = os.path.join(DIR, "dovecot-lda.log")
        open(lda_log, "a").close()
        shutil.chown(lda_log, MAIL_USER, MAIL_USER)
        self.stack.postfix_master_extra = postfix_snippets.sent_copy_service(
            self.stack.dovecot_conf_path, MAIL_USER, lda_log)
        self.stack.start()
        log = open(os.path.join(DIR, "policyd.log"), "a")
        proc = subprocess.Popen([self.policyd_bin, "-c", self.config], stdout=log, stderr=log,
                                start_new_session=True)  # keeps running after the demo exits
        with open(os.path.join(DIR, "policyd.pid"), "w") as f:
            f.write(str(proc.pid))
        deadline = time.time() + 10
        while not (os.path.exists(policy_socket) and os.path.exists(milter_socket)
                   and os.path.exists(self.service_socket())):
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("mailgrant-policyd did not start:\n" + open(log.name).read())
            time.sleep(0.1)
        # The story changes grants and expects every component to obey at once: that is
        # mailgrant-policyd following LDAP (RFC 4533). Its first refresh runs after start;
        # until it is up, changes are obeyed within cache.ttl_s only. Wait (bounded) and say
        # how long it took, so a late follower shows here and not as a puzzling step.
        started = time.time()
        if self.policyd_logged("change feed: following LDAP changes", timeout_s=30):
            say("mailgrant-policyd follows LDAP changes (up after %.1f s)" % (time.time() - started))
        else:
            say("mailgrant-policyd's change follower is not up after %.0f s: changes are obeyed "
                "within the cache TTL only (%s)" % (time.time() - started, log.name))
        with open(os.path.join(DIR, "state.json"), "w") as f:
            json.dump({"imap_port": self.stack.imap_port, "submission_port": self.stack.submission_port,
                       "smtp_port": self.stack.smtp_port, "ldap_uri": self.slapd.uri, "config": self.config}, f)

    @staticmethod
    def service_socket():
        """The per-host decision service's socket (service.listen), in a 0755 directory."""
        run = os.path.join(DIR, "run")
        os.makedirs(run, mode=0o755, exist_ok=True)
        return os.path.join(run, "service")

    # ---- clients ----
    def imap(self, user, password):
        c = imaplib.IMAP4("127.0.0.1", self.stack.imap_port, timeout=30)
        c.login(user, password)
        return c

    def submit(self, login, password, sender, to, subject, header_from=None):
        """Submits as a mail client would; returns (code, text) of the first refusal
        (AUTH, envelope or header check) or (250, "accepted")."""
        m = EmailMessage()
        m["From"], m["To"], m["Subject"] = header_from or sender, to, subject
        m.set_content("Sent in the mailgrant demo.\n")
        try:
            with smtplib.SMTP("127.0.0.1", self.stack.submission_port, timeout=30) as s:
                s.login(login, password)
                s.send_message(m, from_addr=sender, to_addrs=[to])
            return 250, "accepted"
        except smtplib.SMTPRecipientsRefused as e:
            code, text = list(e.recipients.values())[0]
            return code, text.decode()
        except (smtplib.SMTPDataError, smtplib.SMTPAuthenticationError) as e:
            return e.smtp_code, e.smtp_error.decode(errors="replace")

    def policyd_logged(self, text, timeout_s=10):
        """The daemon's own decision line (mail moving alone proves nothing)."""
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            with open(os.path.join(DIR, "policyd.log"), errors="replace") as f:
                if text in f.read():
                    return True
            time.sleep(0.1)
        return False

    def ldap(self, ldif, tool="ldapadd"):
        subprocess.run([tool, "-x", "-H", self.slapd.uri, "-D", self.slapd.rootdn, "-w", self.slapd.rootpw],
                       input=ldif.encode(), check=True, capture_output=True, timeout=20)

    def explain(self, *args):
        out = subprocess.run([self.cli, "-c", self.config, "explain"] + list(args), capture_output=True,
                             text=True, timeout=30)
        for line in out.stdout.strip().splitlines():
            say("         " + line)
        return out.returncode

    # ---- the story ----
    def story(self):
        say("\nSetting the scene: alice keeps a Projects folder; a customer writes to support@.")
        with self.imap("alice@example.com", "alice-demo") as a:
            a.create("Projects")
            a.append("Projects", None, None,
                     b"From: alice@example.com\r\nSubject: Roadmap 2027\r\n\r\nThe plan.\r\n")
        m = EmailMessage()
        m["From"], m["To"], m["Subject"] = "customer@example.org", "support@example.com", "My order is late"
        m.set_content("Where is my order?\n")
        with smtplib.SMTP("127.0.0.1", self.stack.smtp_port, timeout=30) as s:
            s.send_message(m)
        self.stack.wait_for_delivery("support@example.com", "My order is late")

        say("\n1. alice shares her Projects folder with bob, read-only (one LDAP entry: cn=projects-bob).")
        self.ldap(grant_ldif("projects-bob"))
        with self.imap("bob@example.com", "bob-demo") as b:
            names = [l.decode() for l in b.list('""', "*")[1]]
            check(any(n.endswith("shared/alice@example.com/Projects") for n in names),
                  "bob's mail client lists shared/alice@example.com/Projects")
            ok = b.select('"shared/alice@example.com/Projects"')[0] == "OK"
            subject = b.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")[1][0][1] if ok else b""
            check(b"Roadmap 2027" in subject, "bob reads alice's 'Roadmap 2027'")
            b.store("1", "+FLAGS", "(\\Deleted)")
            flags = b.fetch("1", "(FLAGS)")[1][0]
            check(b"\\Deleted" not in flags, "bob cannot delete it (reader: no 't' right, Dovecot drops the flag)")
            check(b.myrights('"shared/alice@example.com/Projects"')[1][0].endswith(b" lrs"),
                  "MYRIGHTS says lrs (lookup, read, seen)")

        say("\n2. The support team gets support@ as editors with send-as (cn=team, grantee: the group).")
        self.ldap(grant_ldif("team"))
        with self.imap("carol@example.com", "carol-demo") as c:
            ok = c.select('"shared/support@example.com"')[0] == "OK"
            check(ok, "carol (in support-team) opens the support mailbox")
            if ok:
                check(c.store("1", "+FLAGS", "(\\Flagged)")[0] == "OK" and b"\\Flagged" in c.fetch("1", "(FLAGS)")[1][0],
                      "carol flags the customer's message")
        code, text = self.submit("carol@example.com", "carol-demo", "support@example.com",
                                 "customer@example.com", "Re: My order is late")
        check(code == 250, "carol submits mail From: support@example.com: accepted", text)
        self.team_folders()

        say("\n3. dan is not in the team and tries the same.")
        code, text = self.submit("dan@example.com", "dan-demo", "support@example.com",
                                 "customer@example.com", "I am support, honest")
        check(code == 554 and "5.7.1" in text, "dan is rejected: %d %s" % (code, text.strip()))
        code, text = self.submit("dan@example.com", "dan-demo", "dan@example.com",
                                 "customer@example.com", "Only the header says support", header_from="support@example.com")
        check(code == 550 and "5.7.1" in text and self.policyd_logged("login=dan@example.com from=\"support@example.com\" decision=reject"),
              "with his own envelope but From: support@, the header check refuses him: %d %s" % (code, text.strip()[:80]))

        say("\n3b. carol's phone uses the per-collaborator login support@example.com*carol@example.com.")
        with self.imap("support@example.com*carol@example.com", "carol-demo") as c:
            check(c.select("INBOX")[0] == "OK", "over IMAP it opens the support mailbox with carol's password")
        code, text = self.submit("support@example.com*carol@example.com", "carol-demo", "support@example.com",
                                 "customer@example.com", "sent with the mailbox login")
        check(code == 535, "over SMTP that login is refused (%d): she sends with her own login, "
              "her own send-as grant decides" % code)
        code, text = self.submit("carol@example.com", "carol-demo", "support@example.com",
                                 "customer@example.com", "Re: My order is late (from the phone)")
        check(code == 250 and self.policyd_logged("login=carol@example.com sender=<support@example.com> decision=allow"),
              "with her own login From: support@ is accepted, and the log names carol", text)

        say("\n4. A vacation cover with an end date: carol covers alice's INBOX 2-16 August 2027.")
        self.ldap(grant_ldif("vacation-cover"))
        say("   mailgrant explain carol@example.com alice@example.com INBOX:")
        rc = self.explain("carol@example.com", "alice@example.com", "INBOX")
        check(rc == 1, "not yet: the cover starts in August 2027 (explain says 'not yet valid')")
        say("   mailgrant explain bob@example.com support@example.com --send:")
        check(self.explain("bob@example.com", "support@example.com", "--send") == 0,
              "bob may send as support@, through the group support-team")
        say("   mailgrant explain dan@example.com support@example.com --send:")
        check(self.explain("dan@example.com", "support@example.com", "--send") == 1, "dan may not")

        say("\n5. The team grant is revoked in LDAP; carol stays logged in.")
        c = self.imap("carol@example.com", "carol-demo")
        try:
            check(c.select('"shared/support@example.com"')[0] == "OK", "carol has the support mailbox open")
            self.ldap("dn: cn=team,uid=support,ou=people,dc=example,dc=com\nchangetype: delete\n", "ldapmodify")
            start = time.time()
            while time.time() - start < TTL + 10:
                c.close() if c.state == "SELECTED" else None
                if c.select('"shared/support@example.com"')[0] != "OK":
                    break
                time.sleep(0.1)
            waited = time.time() - start
            check(c.select('"shared/support@example.com"')[0] != "OK"
                  and self.policyd_logged("decision service on "),
                  "carol's access ended after %.1f s in her open session, no re-login (cache TTL %d s: "
                  "Dovecot asked mailgrant-policyd, which follows LDAP changes)" % (waited, TTL))
        finally:
            c.logout()
        code, text = self.submit("carol@example.com", "carol-demo", "support@example.com",
                                 "customer@example.com", "after revocation")
        check(code == 554, "and she can no longer send as support@ (%d)" % code, text)

    def team_folders(self):
        """Issue 17: the team's own folders, drafts and sent items inside support@."""
        say("\n2b. support@ works like a team mailbox: its own Drafts and Sent, folders the team creates.")
        box = '"shared/support@example.com/%s"'
        wanted = (("Drafts", "\\Drafts"), ("Sent", "\\Sent"), ("Trash", "\\Trash"), ("Junk", "\\Junk"))
        # The team grant was added a moment ago (step 2). The daemon drops its cached answers
        # when the change follower reports it; should that report come late, the cache TTL
        # bounds the wait. Bounded by it, and the wait is printed when there is one: once
        # (session 10, a CI run) bob saw nothing of support@ here for a moment.
        started = time.time()
        while True:
            with self.imap("bob@example.com", "bob-demo") as c:
                typ, lines = c.list('"shared/support@example.com/"', "*")
            flags = {}
            for line in lines or []:
                m = re.match(rb'\(([^)]*)\) "/" "?shared/support@example.com/([^"]*)"?$', line or b"")
                if m:
                    flags[m.group(2).decode()] = m.group(1).decode()
            listed = all(u in flags.get(n, "") for n, u in wanted)
            if listed or time.time() - started > TTL + 2:
                break
            time.sleep(0.2)
        waited = time.time() - started
        check(listed, "bob's LIST shows support@'s Drafts, Sent, Trash, Junk with their SPECIAL-USE flags" +
              (" (after %.1f s: the change reached the daemon's cache late)" % waited if waited > 0.5 else ""),
              repr(flags))
        with self.imap("bob@example.com", "bob-demo") as c:
            check(self.dovecot_logged("created special-use folders"),
                  "the plugin created them on first access (its log line)")
            check(c.create(box % "Leads")[0] == "OK", "bob (editor on *) creates the top-level folder Leads")
            draft = EmailMessage()
            draft["From"], draft["To"], draft["Subject"] = "support@example.com", "customer@example.com", "Draft: refund"
            draft.set_content("Half-written by bob.\n")
            ok = c.append(box % "Drafts", "(\\Draft)", None, draft.as_bytes())[0] == "OK"
            check(ok, "bob saves a draft reply in support@'s Drafts")
        with self.imap("carol@example.com", "carol-demo") as c:
            c.select(box % "Drafts", readonly=True)
            check(bool((c.search(None, "SUBJECT", '"Draft: refund"')[1] or [b""])[0]),
                  "carol sees bob's draft in support@'s Drafts")
        # carol's reply sent as support@ (step 2) was filed in support@'s Sent by the milter
        check(self.policyd_logged("login=carol@example.com sent_copy=added mailbox=<support@example.com>"),
              "the milter filed carol's reply sent as support@ in support@'s Sent (its log line)")
        found = 0
        deadline = time.time() + 20
        with self.imap("bob@example.com", "bob-demo") as c:
            while time.time() < deadline:
                c.select(box % "Sent", readonly=True)
                found = len((c.search(None, "SUBJECT", '"Re: My order is late"')[1] or [b""])[0].split())
                if found:
                    break
                time.sleep(0.5)
        check(found == 1, "bob finds that reply in support@'s Sent, exactly once (%d)" % found)

    def dovecot_logged(self, text):
        with open(self.stack.dovecot_log_path, errors="replace") as f:
            return text in f.read()

    def summary(self):
        # The admin CLI against this stack (issue 14: the exact line to try); doveadm for
        # the demo's Dovecot (on 2.4 a wrapper into its module namespace: mail_sandbox.py).
        cli = "%s -c %s" % (self.cli, self.config)
        doveadm = ' --doveadm "%s"' % " ".join(self.stack.doveadm_argv())
        say("""
Admin CLI for this stack (try list, explain, check, report):
  %s list
  %s report --columns address,owner,access,messages,last-login%s
""" % (cli, cli, doveadm))
        if os.environ.get("MAILGRANT_IN_ROOT"):  # scripts/in-root: everything dies with its namespace
            say("Inside scripts/in-root (%s): the stack stops when the command given to in-root ends."
                % os.environ["MAILGRANT_IN_ROOT"])
            return
        say("""
The stack is still running. Point any mail client at it:
  IMAP        127.0.0.1 port %d (plain, no TLS: loopback demo only)
  SMTP submit 127.0.0.1 port %d (AUTH PLAIN/LOGIN, no TLS)
  users       alice@example.com / alice-demo, bob@example.com / bob-demo,
              carol@example.com / carol-demo, dan@example.com / dan-demo
  per-collaborator login (IMAP/POP3 only): support@example.com*<member> with the member's password;
              to send, members log in as themselves (their send-as grant decides)
  LDAP        %s  (admin cn=admin,dc=example,dc=com, password in %s/slapd/rootpw)
Stop it and remove everything:  scripts/demo stop
""" % (self.stack.imap_port, self.stack.submission_port, self.slapd.uri, DIR))


def stop():
    pid_file = os.path.join(DIR, "policyd.pid")
    if os.path.exists(pid_file):
        try:
            os.kill(int(open(pid_file).read()), signal.SIGTERM)
        except (ProcessLookupError, ValueError):
            pass
    mail = os.path.join(DIR, "mail")
    if os.path.isdir(mail):
        subprocess.run([sys.executable, os.path.join(ROOT, "tests", "harness", "mail_sandbox.py"), "stop", "--dir", mail],
                       capture_output=True, timeout=120)
    if os.path.isdir(os.path.join(DIR, "slapd")):
        subprocess.run([sys.executable, os.path.join(ROOT, "tests", "harness", "slapd_sandbox.py"), "stop", "--dir",
                        os.path.join(DIR, "slapd")], capture_output=True, timeout=60)
    shutil.rmtree(DIR, ignore_errors=True)


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "stop":
        stop()
        print("mailgrant demo stopped; %s removed" % DIR)
        return 0
    if len(sys.argv) != 3 or sys.argv[1] != "start":
        print(__doc__)
        return 2
    demo = Demo(sys.argv[2])
    demo.start()
    demo.story()
    demo.summary()
    if failures:
        # What the daemon said meanwhile (decisions, the change follower): the first place
        # to look, and gone once `scripts/demo stop` has run.
        with open(os.path.join(DIR, "policyd.log"), errors="replace") as f:
            print("mailgrant-policyd's log (last 40 lines):\n" + "".join(f.readlines()[-40:]))
        print("%d step(s) did not go as the story says: %s" % (len(failures), "; ".join(failures)))
        return 1
    print("Every step went as the story says.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
