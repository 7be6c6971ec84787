#!/usr/bin/env python3
"""Issue 14: every `mailgrant` command line in README.md's code blocks runs as written.

The lines are taken from README.md itself (``` blocks; a trailing backslash continues a
line) and run in README order with `sh -c`, exactly as written, against a private slapd
holding the demo's data: examples/demo/sample-org.ldif and the grants examples/demo/demo.py
loads from examples/ldap/sample-grants.ldif. The configuration is the one the demo writes
(tests/harness/mailgrant_setup.write_config), given the way the README tells an admin to
give it without `-c`: $MAILGRANT_CONFIG. The test's stand-ins, found on PATH or named in
that configuration, are the only other difference from a real host:
  - `mailgrant` on PATH is the binary under test ($MAILGRANT_CLI);
  - `doveadm` on PATH is tests/fixtures/cli/fake_doveadm.py (known counts, no Dovecot);
  - cli.last_login_dict is tests/fixtures/cli/last-login.db (Dovecot's file dict);
  - cli.sendmail is a script that keeps the message, so `--notify` never reaches the
    host's /usr/sbin/sendmail (and the test sees what it would have sent).
Each line must exit 0, or 1 where its own comment documents "exit 1" (check's findings).
The lines of "Deploying (Debian 12/13)" are left to tests/deploy/test_deploy.py and those of
"Install from the packages" to tests/deploy/test_packages.py, which run those sections' sh
blocks literally on fresh Debian roots (they use the host's ldapi:///)."""
import os
import re
import shlex
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
REPO = os.path.dirname(TESTS)
sys.path.insert(0, os.path.join(TESTS, "harness"))
from mailgrant_setup import write_config  # noqa: E402
from slapd_sandbox import Slapd  # noqa: E402

README = os.environ.get("MAILGRANT_README", os.path.join(REPO, "README.md"))
CLI = os.environ.get("MAILGRANT_CLI", os.path.join(REPO, "build", "cli", "mailgrant"))
FIXTURES = os.path.join(TESTS, "fixtures")
DEMO = os.path.join(REPO, "examples", "demo")
SAMPLE_GRANTS = os.path.join(REPO, "examples", "ldap", "sample-grants.ldif")
DEMO_GRANTS = ("projects-bob", "team", "vacation-cover")  # demo.py story steps 1, 2 and 4
SKIPPED_SECTIONS = ("Deploying (Debian 12)", "Deploying (Debian 13)", "Install from the packages (Debian 12 and 13)")


def readme_commands(text):
    """[(line number, section, command)] for each `mailgrant` line of the ``` blocks."""
    out, section, fence, pending = [], "", None, None
    for number, line in enumerate(text.splitlines(), 1):
        if fence is None:
            m = re.match(r"^(#+) (.*)$", line)
            if m and len(m.group(1)) == 2:
                section = m.group(2).strip()
            if line.startswith("```"):
                fence = line
            continue
        if line.startswith("```"):
            fence = None
            continue
        if pending:
            pending = (pending[0], pending[1] + " " + line.strip())
        elif line.startswith("mailgrant ") or line == "mailgrant":
            pending = (number, line)
        if pending and not pending[1].endswith("\\"):
            out.append((pending[0], section, pending[1]))
            pending = None
        elif pending:
            pending = (pending[0], pending[1][:-1].rstrip())
    return out


def allowed_codes(command):
    """0, and 1 where the line's own comment documents it ("# lint, exit 1 on findings")."""
    comment = command.split(" #", 1)[1] if " #" in command else ""
    return {0, 1} if "exit 1" in comment else {0}


def sample_grant(cn):
    with open(SAMPLE_GRANTS) as f:
        for block in re.split(r"\n\s*\n", f.read()):
            lines = [line for line in block.splitlines() if not line.startswith("#")]
            if "cn: " + cn in lines:
                return "\n".join(lines) + "\n"
    raise KeyError(cn)


class ReadmeCommands(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="mailgrant-readme-")
        tmp = cls.tmp.name
        os.chmod(tmp, 0o755)
        cls.slapd = Slapd(os.path.join(tmp, "ldap"))
        cls.slapd.start()
        cls.slapd.load_ldif(os.path.join(DEMO, "sample-org.ldif"))
        grants = os.path.join(tmp, "demo-grants.ldif")
        with open(grants, "w") as f:
            f.write("\n".join(sample_grant(cn) for cn in DEMO_GRANTS))
        cls.slapd.load_ldif(grants)
        cls.bin = os.path.join(tmp, "bin")
        os.mkdir(cls.bin)
        os.symlink(os.path.abspath(CLI), os.path.join(cls.bin, "mailgrant"))
        cls.script(os.path.join(cls.bin, "doveadm"), "#!/bin/sh\nexec %s %s \"$@\"\n" % (
            shlex.quote(sys.executable), shlex.quote(os.path.join(FIXTURES, "cli", "fake_doveadm.py"))))
        cls.outbox = os.path.join(tmp, "outbox")
        os.mkdir(cls.outbox)
        sendmail = os.path.join(tmp, "sendmail")
        cls.script(sendmail, "#!/bin/sh\n[ \"$1 $2\" = '-t -i' ] || exit 64\n"
                             "cat > %s/message.$$\n" % shlex.quote(cls.outbox))
        # the demo's configuration (examples/demo/demo.py start()), its CLI keys pointed at
        # the stand-ins above
        cls.config = write_config(os.path.join(tmp, "etc"), cls.slapd, 5, 2,
                                  "cli:\n  last_login_dict: file:%s\n  sendmail: %s -t -i\n"
                                  % (os.path.join(FIXTURES, "cli", "last-login.db"), sendmail))
        cls.env = dict(os.environ, PATH=cls.bin + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
                       MAILGRANT_CONFIG=cls.config)
        with open(README) as f:
            cls.commands = readme_commands(f.read())

    @classmethod
    def tearDownClass(cls):
        cls.slapd.stop()
        cls.tmp.cleanup()

    @staticmethod
    def script(path, text):
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)

    def test_demo_loads_these_grants(self):
        with open(os.path.join(DEMO, "demo.py")) as f:
            demo = f.read()
        for cn in DEMO_GRANTS:
            self.assertIn('grant_ldif("%s")' % cn, demo)

    def test_lines_are_found(self):
        """The extraction itself: continuation lines joined, the known examples there."""
        commands = [c for _, _, c in self.commands]
        self.assertIn("mailgrant explain carol@example.com support@example.com INBOX", commands)
        self.assertIn("mailgrant grant alice@example.com carol@example.com --folder Projects --folder 'Projects/*' "
                      "--role reader --notify", commands)
        self.assertTrue(any(c.startswith("mailgrant report --columns") and "--filter 'last-login<2026-01-01'" in c
                            for c in commands))
        self.assertTrue(any(c.startswith("mailgrant audit") for c in commands))
        self.assertGreaterEqual(len([1 for _, s, _ in self.commands if s not in SKIPPED_SECTIONS]), 16)
        self.assertEqual(readme_commands("## A\n```\nmailgrant list \\\n   --expand  # x\nls\n```\nmailgrant no\n"),
                         [(3, "A", "mailgrant list --expand  # x")])
        # the sections left to the deployment test are the ones it runs
        deploy = ""
        for name in ("test_deploy.py", "test_packages.py"):
            with open(os.path.join(TESTS, "deploy", name)) as f:
                deploy += f.read()
        for section in SKIPPED_SECTIONS:
            self.assertIn(section.split(" (")[1].rstrip(")"), deploy)
        self.assertIn("## Deploying", deploy)

    def test_config_from_the_environment(self):
        """$MAILGRANT_CONFIG replaces the default path; -c still wins over it."""
        missing = os.path.join(self.tmp.name, "missing.yaml")
        env = dict(self.env, MAILGRANT_CONFIG=missing)
        p = subprocess.run(["mailgrant", "list"], capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(p.returncode, 3)
        self.assertIn(missing, p.stderr)
        p = subprocess.run(["mailgrant", "-c", self.config, "list"], capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("projects-bob", p.stdout)

    def test_every_line_runs_as_written(self):
        failures, ran = [], 0
        for number, section, command in self.commands:
            if section in SKIPPED_SECTIONS:
                continue
            ran += 1
            p = subprocess.run(["sh", "-c", command], capture_output=True, text=True, env=self.env,
                               cwd=self.tmp.name, timeout=120)
            print("README.md:%d exit %d: %s" % (number, p.returncode, command), file=sys.stderr)
            if p.returncode not in allowed_codes(command):
                failures.append("README.md:%d (%s): exit %d\n  $ %s\n%s%s" % (
                    number, section, p.returncode, command, p.stdout[-1500:], p.stderr[-1500:]))
        self.assertGreater(ran, 0)
        self.assertEqual(failures, [], "\n\n".join(failures))
        # --notify went to cli.sendmail, never to the host's sendmail: carol's notice is here
        notices = []
        for name in sorted(os.listdir(self.outbox)):
            with open(os.path.join(self.outbox, name)) as f:
                notices.append(f.read())
        self.assertEqual(len(notices), 1, notices)
        self.assertRegex(notices[0], r"\nTo: (\S.* )?<carol@example\.com>\n", "addressed to carol (with her name)")
        self.assertIn("shared/alice@example.com/Projects", notices[0])


if __name__ == "__main__":
    unittest.main()
