#!/usr/bin/env python3
"""Issue 13: the notices, end to end. The real `mailgrant` against a private slapd and a
private Postfix + Dovecot on 127.0.0.1 (tests/harness/mail_sandbox.py): grant --notify,
grant --invite --notify, revoke --notify and notify-expiring mail a Polish and an Italian
grantee (preferredLanguage in this test's own people, below) through libcurl's SMTP; the
delivered message is parsed with Python's email package: multipart/alternative, UTF-8
text and HTML parts in the grantee's language, naming the actor, the end date and the
links. The CLI's own output (notified / --json notices with the language it chose) shows
the decision was the CLI's. Needs root."""
import datetime
import email
import email.policy
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TESTS, "harness"))
from slapd_sandbox import Slapd  # noqa: E402
from mail_sandbox import MailStack  # noqa: E402

CLI = os.environ.get("MAILGRANT_CLI", os.path.join(os.path.dirname(TESTS), "build", "cli", "mailgrant"))
WEBMAIL = "https://webmail.example.test/roundcube/"

PEOPLE = """
dn: uid=ewa,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: ewa
cn: Ewa Kowalska
sn: Kowalska
displayName: Ewa Kowalska
mail: ewa@example.com
preferredLanguage: pl-PL, en;q=0.5
userPassword: ewa-pw

dn: uid=giulia,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: giulia
cn: Giulia Rossi
sn: Rossi
mail: giulia@example.com
preferredLanguage: it
userPassword: giulia-pw
"""


def day(offset):
    return (datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=offset)).isoformat()


@unittest.skipUnless(os.geteuid() == 0, "the mail stack needs root")
class Notices(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="mailgrant-cli-notices-")
        os.chmod(cls.tmp.name, 0o755)
        cls.slapd = Slapd(os.path.join(cls.tmp.name, "ldap"))
        cls.slapd.start()
        try:
            cls.slapd.load_ldif(os.path.join(TESTS, "fixtures", "org.ldif"))
            people = os.path.join(cls.tmp.name, "people.ldif")
            with open(people, "w") as f:
                f.write(PEOPLE)
            cls.slapd.load_ldif(people)
            cls.stack = MailStack(os.path.join(cls.tmp.name, "mail"), cls.slapd.uri, cls.slapd.base)
            cls.stack.start()
        except Exception:
            cls.slapd.stop()
            raise
        cls.smtp = "127.0.0.1:%d" % cls.stack.smtp_port
        cls.config = cls.write_config("mailgrant.yaml", "none")
        cls.write = ["--bind-dn", cls.slapd.rootdn, "--bind-password-file", cls.slapd.rootpw_path]

    @classmethod
    def write_config(cls, name, tls):
        path = os.path.join(cls.tmp.name, name)
        with open(path, "w") as f:
            f.write("ldap:\n  uris: [%s]\n  base: %s\n"
                    "notify:\n  webmail_url: %s\n  smtp: smtp://%s\n  smtp_tls: %s\n  smtp_timeout: 20\n"
                    "  templates_dir: %s\n"
                    % (cls.slapd.uri, cls.slapd.base, WEBMAIL, cls.smtp, tls, os.path.join(cls.tmp.name, "site")))
        return path

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()
        cls.slapd.stop()
        cls.tmp.cleanup()

    def run_cli(self, *args, config=None):
        p = subprocess.run([CLI, "-c", config or self.config] + list(args), capture_output=True, text=True,
                           timeout=120)
        return p.returncode, p.stdout, p.stderr

    def received(self, to, subject):
        with open(self.stack.wait_for_delivery(to, subject), "rb") as f:
            return email.message_from_binary_file(f, policy=email.policy.default)

    def count(self, to, subject):
        n = 0
        for sub in ("new", "cur"):
            d = os.path.join(self.stack.maildir_of(to), sub)
            for name in os.listdir(d) if os.path.isdir(d) else []:
                with open(os.path.join(d, name), "rb") as f:
                    msg = email.message_from_binary_file(f, policy=email.policy.default)
                n += str(msg["Subject"]) == subject
        return n

    def parts(self, msg, lang):
        """The message is multipart/alternative: UTF-8 text then HTML, in `lang`."""
        self.assertEqual(msg.get_content_type(), "multipart/alternative")
        kinds = [p.get_content_type() for p in msg.iter_parts()]
        self.assertEqual(kinds, ["text/plain", "text/html"])
        for p in msg.iter_parts():
            self.assertEqual(p.get_content_charset(), "utf-8")
        text = msg.get_body(preferencelist=("plain",)).get_content()
        html = msg.get_body(preferencelist=("html",)).get_content()
        self.assertIn('<html lang="%s">' % lang, html)
        self.assertTrue(msg["Message-ID"].startswith("<mailgrant."), msg["Message-ID"])
        self.assertEqual(msg["Auto-Submitted"], "auto-generated")
        return text, html

    def test_grant_notice_in_polish_and_italian(self):
        rc, out, err = self.run_cli("--json", "grant", "alice@example.com", "ewa", "giulia", "--folder", "INBOX",
                                    "--role", "reader", "--until", "2099-06-30", "--notify",
                                    "--notify-from", "alice@example.com", "--smtp", self.smtp, *self.write)
        self.assertEqual(rc, 0, err)
        self.assertEqual(sorted(json.loads(out)["notified"]), ["ewa@example.com", "giulia@example.com"])
        msg = self.received("ewa@example.com", "alice@example.com udostępnia Ci INBOX")
        self.assertEqual(msg["To"].addresses[0].display_name, "Ewa Kowalska")
        self.assertEqual(msg["From"].addresses[0].display_name, "Alice Smith (mailgrant)")
        self.assertEqual(msg["From"].addresses[0].addr_spec, "alice@example.com")
        text, html = self.parts(msg, "pl")
        self.assertIn("Dzień dobry Ewa Kowalska,", text)
        self.assertIn("Udostępnione przez: Alice Smith <alice@example.com>", text)  # who
        self.assertIn("tylko odczyt", text)                                          # what, in words
        self.assertIn("2099-06-30 23:59:59Z", text)                                  # until when
        self.assertIn(WEBMAIL + "?_task=mail&_mbox=shared%2Falice%40example.com%2FINBOX", text)  # Roundcube
        self.assertIn("shared/alice@example.com/INBOX", text)                        # Thunderbird
        self.assertIn("alice@example.com*ewa@example.com", text)                     # phone
        self.assertIn('href="%s?_task=mail&amp;_mbox=shared%%2Falice%%40example.com%%2FINBOX"' % WEBMAIL, html)
        self.assertIn("Alice Smith", html)
        msg = self.received("giulia@example.com", "alice@example.com ha condiviso con te INBOX")
        text, html = self.parts(msg, "it")
        self.assertIn("Condiviso da: Alice Smith <alice@example.com>", text)
        self.assertIn("sola lettura", text)
        self.assertIn("2099-06-30 23:59:59Z", text)
        self.assertIn("alice@example.com*giulia@example.com", text)
        self.assertIn("Accesso:", html)
        # revoke --notify: ewa is told, in Polish, who took what away; giulia is not
        rc, out, err = self.run_cli("revoke", "alice@example.com", "--grantee", "ewa", "--notify", *self.write)
        self.assertEqual(rc, 0, err)
        self.assertIn("notified: ewa@example.com", out)
        msg = self.received("ewa@example.com", "Twój dostęp do alice@example.com został odebrany")
        text, _ = self.parts(msg, "pl")
        self.assertIn("Odebrane przez: administrator poczty", text)  # the rootdn is no person
        self.assertIn("Foldery:", text)
        self.assertEqual(self.count("giulia@example.com", "Il tuo accesso a alice@example.com è stato revocato"), 0)
        self.assertEqual(self.run_cli("revoke", "alice@example.com", "--grantee", "giulia", *self.write)[0], 0)

    def test_invitation_links_the_accept_page(self):
        rc, out, err = self.run_cli("grant", "support@example.com", "giulia", "--folder", "*", "--role", "editor",
                                    "--send-as", "--invite", "--name", "invite-giulia", "--notify", *self.write)
        self.assertEqual(rc, 0, err)  # notify.smtp from the configuration
        self.assertIn("notified: giulia@example.com", out)
        msg = self.received("giulia@example.com", "Invito: support@example.com vuole condividere con te")
        text, html = self.parts(msg, "it")
        self.assertIn(WEBMAIL + "?_task=settings&_action=plugin.mailgrant-shared", text)
        self.assertIn('href="%s?_task=settings&amp;_action=plugin.mailgrant-shared"' % WEBMAIL, html)
        self.assertIn("Invito da: l'amministratore della posta", text)
        self.assertIn("tutte le cartelle", text)
        self.assertIn("puoi inviare posta come support@example.com", text)
        self.assertIn("Accettalo entro il ", text)
        self.assertEqual(self.run_cli("decline", "support@example.com", "giulia", *self.write)[0], 0)

    def test_notify_expiring_mails_only_the_grant_ending_in_the_window(self):
        soon, later = day(3), day(30)
        for who, until, name in (("ewa", soon, "exp-soon"), ("giulia", later, "exp-later")):
            rc, _, err = self.run_cli("grant", "alice@example.com", who, "--folder", "Projects", "--role", "editor",
                                      "--until", until, "--name", name, *self.write)
            self.assertEqual(rc, 0, err)
        ewa_subject = "Twój dostęp do alice@example.com wygasa %s 23:59:59Z" % soon
        giulia_subject = "Il tuo accesso a alice@example.com scade il %s 23:59:59Z" % later
        # --dry-run: who would get what, in which language; nothing is sent
        rc, out, err = self.run_cli("--json", "notify-expiring", "--days", "3", "--dry-run")
        self.assertEqual(rc, 0, err)
        result = json.loads(out)
        mine = [n for n in result["notices"] if n["grant"] in ("exp-soon", "exp-later")]
        self.assertEqual(mine, [{"mailbox": "alice@example.com", "grant": "exp-soon", "to": "ewa@example.com",
                                 "language": "pl", "until": soon + " 23:59:59Z", "sent": False}])
        self.assertEqual(result["notified"], [])
        self.assertEqual(self.count("ewa@example.com", ewa_subject), 0)
        # the real run: only the grant ending in 3 days
        rc, out, err = self.run_cli("notify-expiring", "--days", "3")
        self.assertEqual(rc, 0, err)
        self.assertIn("notified ewa@example.com (pl): grant 'exp-soon' on alice@example.com", out)
        self.assertNotIn("giulia", out)
        msg = self.received("ewa@example.com", ewa_subject)
        text, _ = self.parts(msg, "pl")
        self.assertIn("dni do końca: 3", text)
        self.assertIn("odczyt i zmiany", text)
        self.assertEqual(self.count("giulia@example.com", giulia_subject), 0)
        rc, out, err = self.run_cli("notify-expiring", "--days", "30")
        self.assertEqual(rc, 0, err)
        self.assertIn("notified giulia@example.com (it)", out)
        self.received("giulia@example.com", giulia_subject)
        self.assertEqual(self.count("ewa@example.com", ewa_subject), 1)  # not again with --days 30
        # --days 0 never mails a grant that has already ended; bad numbers are usage errors
        self.assertEqual(self.run_cli("notify-expiring", "--days", "x")[0], 2)
        self.assertEqual(self.run_cli("notify-expiring")[0], 2)
        for name in ("exp-soon", "exp-later"):
            self.assertEqual(self.run_cli("revoke", "alice@example.com", name, *self.write)[0], 0)

    def test_site_template_and_required_tls(self):
        site = os.path.join(self.tmp.name, "site", "pl")
        os.makedirs(site, exist_ok=True)
        with open(os.path.join(site, "revoke.txt"), "w") as f:
            f.write("Subject: Koniec dostępu: {{owner_address}}\n\nLokalny tekst dla {{recipient_name}}.\n")
        rc, _, err = self.run_cli("grant", "bob@example.com", "ewa", "--send-on-behalf", "--name", "site-test",
                                  *self.write)
        self.assertEqual(rc, 0, err)
        rc, out, err = self.run_cli("revoke", "bob@example.com", "site-test", "--notify", *self.write)
        self.assertEqual(rc, 0, err)
        msg = self.received("ewa@example.com", "Koniec dostępu: bob@example.com")
        text, html = self.parts(msg, "pl")
        self.assertEqual(text.strip(), "Lokalny tekst dla Ewa Kowalska.")
        self.assertIn("Odebrane przez:", html)  # the shipped .html: overrides go file by file
        # smtp_tls: required against a server without STARTTLS: nothing sent, exit 5
        strict = self.write_config("strict.yaml", "required")
        self.assertEqual(self.run_cli("grant", "bob@example.com", "ewa", "--send-on-behalf", "--name", "tls-test",
                                      *self.write, config=strict)[0], 0)
        rc, out, err = self.run_cli("revoke", "bob@example.com", "tls-test", "--notify", *self.write, config=strict)
        self.assertEqual(rc, 5, err)
        self.assertIn("revoked, but the notification failed: ewa@example.com: SMTP smtp://", err)


if __name__ == "__main__":
    unittest.main()
