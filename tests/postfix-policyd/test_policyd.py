#!/usr/bin/env python3
"""Integration tests of mailgrant-policyd against a real slapd (tests/harness).

The daemon binary comes from $MAILGRANT_POLICYD (CTest sets it). Every socket is on
127.0.0.1 or in a private directory; every wait is bounded.
"""
import grp
import os
import pwd
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "harness"))
from slapd_sandbox import Slapd  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(HERE), "fixtures")
POLICYD = os.environ.get("MAILGRANT_POLICYD", os.path.join(os.path.dirname(os.path.dirname(HERE)),
                                                          "build", "postfix-policyd", "mailgrant-policyd"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PolicyClient:
    """A persistent policy connection, as Postfix's smtpd keeps one."""

    def __init__(self, address, timeout=15):
        if address.startswith("unix:"):
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.settimeout(timeout)
            self.sock.connect(address[5:])
        else:
            host, port = address[5:].rsplit(":", 1)
            self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.buf = b""

    def send_raw(self, data):
        self.sock.sendall(data)

    def read_reply(self):
        while b"\n\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed by the daemon")
            self.buf += chunk
        reply, self.buf = self.buf.split(b"\n\n", 1)
        assert reply.startswith(b"action="), reply
        return reply[len(b"action="):].decode()

    def ask(self, login, sender, **extra):
        attrs = {"request": "smtpd_access_policy", "protocol_state": "RCPT", "protocol_name": "ESMTP",
                 "client_address": "127.0.0.1", "sasl_username": login, "sender": sender,
                 "recipient": "someone@example.org", "instance": "it.1"}
        attrs.update(extra)
        self.send_raw("".join("%s=%s\n" % kv for kv in attrs.items()).encode() + b"\n")
        return self.read_reply()

    def closed_by_peer(self):
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, socket.timeout):
            return False

    def close(self):
        self.sock.close()

    def __del__(self):
        if getattr(self, "sock", None) is not None:  # the constructor may have failed
            self.sock.close()


class Daemon:
    def __init__(self, workdir, slapd, extra_args=(), **policy):
        self.workdir = workdir
        self.extra_args = list(extra_args)  # e.g. ["--milter", "unix:/path"]
        self.port = free_port()
        self.stats_port = free_port()
        self.address = policy.pop("listen", "inet:127.0.0.1:%d" % self.port)
        self.config_path = os.path.join(workdir, "mailgrant.yaml")
        self.log_path = os.path.join(workdir, "policyd.log")
        self.slapd = slapd
        self.policy = {"listen": self.address, "stats_listen": "inet:127.0.0.1:%d" % self.stats_port,
                       "request_timeout_ms": 1500, "workers": 4, "user": "nobody"}
        self.policy.update(policy)
        # Ports this harness chose (free_port: free when asked, not reserved), which start()
        # may choose again if another test took one meanwhile.
        self.own_listen = self.policy["listen"] == "inet:127.0.0.1:%d" % self.port
        self.own_stats = self.policy["stats_listen"] == "inet:127.0.0.1:%d" % self.stats_port
        self.ldap_uri = slapd.uri
        self.cache = {"ttl_s": 30, "negative_ttl_s": 5}
        self.groups = {}  # the groups: section, when not empty (e.g. {"membership": "memberof"})
        self.users = {}   # the users: section, when not empty (e.g. {"dn_template": '"uid=%n,..."'})
        # The daemon reads the password file as root, before it drops to policy.user:
        # root-only, as a site keeps it. (Other readers of this directory: none.)
        self.secret_path = os.path.join(workdir, "ldap.secret")
        self.secret_mode = 0o600
        self.proc = None

    def write_config(self):
        secret = self.secret_path
        if os.path.dirname(secret) == self.workdir:  # a path elsewhere is the test's own
            with open(secret, "w") as f:
                f.write(self.slapd.rootpw)
            os.chown(secret, 0, 0)
            os.chmod(secret, self.secret_mode)
        lines = ["ldap:", "  uris: [%s]" % self.ldap_uri, "  base: %s" % self.slapd.base,
                 "  bind_dn: %s" % self.slapd.rootdn, "  bind_password_file: %s" % secret,
                 "  operation_timeout_ms: 1000", "  network_timeout_ms: 1000", "cache:"]
        lines += ["  %s: %s" % kv for kv in self.cache.items()]
        if self.groups:
            lines += ["groups:"] + ["  %s: %s" % kv for kv in self.groups.items()]
        if self.users:
            lines += ["users:"] + ["  %s: %s" % kv for kv in self.users.items()]
        lines += ["policy:"]
        for k, v in self.policy.items():
            lines.append("  %s: %s" % (k, ("'%s'" % v) if isinstance(v, str) else v))
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(self.config_path, 0o644)

    def run_to_exit(self, timeout_s=10):
        """Starts the daemon expecting it to stop by itself (a configuration error):
        returns (exit code, log)."""
        self.write_config()
        os.chmod(self.workdir, 0o755)
        out = subprocess.run([POLICYD, "-c", self.config_path] + self.extra_args, stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=timeout_s)
        return out.returncode, out.stdout + out.stderr

    def start(self, port_attempts=5):
        self.write_config()
        os.chmod(self.workdir, 0o755)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([POLICYD, "-c", self.config_path] + self.extra_args, stdout=self.log, stderr=subprocess.STDOUT)
        # Ready = its "listening on" line: logged once every socket is in place with its
        # owner and mode and root is dropped. A socket that accepts is not enough: root
        # (these tests) can connect whatever the mode.
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.log.close()
                log = open(self.log_path).read()
                # A port free_port() gave was taken by another test (CTest runs several at
                # once) before the daemon bound it: new ports, a bounded number of times.
                if "Address already in use" in log and port_attempts > 1 and (self.own_listen or self.own_stats):
                    if self.own_listen:
                        self.port = free_port()
                        self.address = self.policy["listen"] = "inet:127.0.0.1:%d" % self.port
                    if self.own_stats:
                        self.stats_port = free_port()
                        self.policy["stats_listen"] = "inet:127.0.0.1:%d" % self.stats_port
                    return self.start(port_attempts - 1)
                raise RuntimeError("policyd exited: " + log)
            if "mailgrant-policyd: listening on " in self.log_text():
                PolicyClient(self.address, timeout=5).close()
                self._await_change_feed(deadline)
                return self
            time.sleep(0.05)
        raise RuntimeError("policyd did not listen: " + open(self.log_path).read())

    def _await_change_feed(self, deadline):
        """The change feed's first sync search is slapd's too: it starts after the
        "listening on" line, so a test that counts slapd's searches from here could count
        it. Wait (bounded) for the feed's first outcome: following, refused or not opened."""
        if str(self.cache.get("follow_changes", "true")).lower() == "false":
            return
        outcomes = ("change feed: following LDAP changes on ", " refuses RFC 4533 sync ",
                    "change feed: sync connection to ")
        while time.time() < deadline + 10 and self.proc.poll() is None:
            if any(o in self.log_text() for o in outcomes):
                return
            time.sleep(0.02)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if getattr(self, "log", None):
            self.log.close()

    def client(self):
        return PolicyClient(self.address)

    def metrics(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.stats_port, timeout=5) as r:
            text = r.read().decode()
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#") and "{" not in line:
                name, value = line.split()
                values[name.replace("mailgrant_policyd_", "")] = float(value)
        return values

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def logged(self, text, timeout_s=10):
        """True once `text` is in the log (decision lines are written after the reply)."""
        deadline = time.time() + timeout_s
        while text not in self.log_text():
            if time.time() > deadline:
                return False
            time.sleep(0.1)
        return True


def ldap_apply(slapd, ldif, tool="ldapmodify"):
    subprocess.run([tool, "-x", "-H", slapd.uri, "-D", slapd.rootdn, "-w", slapd.rootpw],
                   input=ldif.encode(), check=True, capture_output=True, timeout=20)


def assert_cold_decisions(test, slapd, daemon, cases):
    """Each (login, sender, reply prefix, LDAP searches) asked once of `daemon`, on one
    connection: the reply, the searches it cost in slapd's own stats log, and the daemon's
    log line showing it made the decision."""
    client = daemon.client()
    for login, sender, expected, searches in cases:
        with test.subTest(login=login, sender=sender):
            start = os.path.getsize(slapd.log_path)
            test.assertTrue(client.ask(login, sender).startswith(expected))
            time.sleep(0.3)  # slapd's last stats lines
            with open(slapd.log_path, errors="replace") as f:
                f.seek(start)
                asked = [line for line in f if " SRCH base=" in line]
            test.assertEqual(len(asked), searches, "".join(asked))
            test.assertTrue(daemon.logged("login=%s sender=<%s> decision=%s" % (
                login, sender, "allow" if expected == "DUNNO" else "reject")), daemon.log_text()[-2000:])


class PolicydTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mailgrant-policyd-it-")
        os.chmod(cls.tmp, 0o755)  # the daemon reads its config as nobody
        cls.slapd = Slapd(os.path.join(cls.tmp, "slapd")).start()
        cls.slapd.load_ldif(os.path.join(FIXTURES, "org.ldif"))

    @classmethod
    def tearDownClass(cls):
        cls.slapd.resume()
        cls.slapd.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.workdir = tempfile.mkdtemp(dir=self.tmp)
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            d.stop()

    def daemon(self, **policy):
        d = Daemon(self.workdir, self.slapd, **policy)
        self.daemons.append(d)
        return d

    def test_decisions_against_real_ldap(self):
        c = self.daemon().start().client()
        cases = [
            ("bob@example.com", "support@example.com", "DUNNO"),         # sendAs through support-team
            ("carol@example.com", "HELP@example.com", "DUNNO"),          # nested group, alias, any case
            ("dave@example.com", "carol@example.com", "DUNNO"),          # sendOnBehalf, direct
            ("alice@example.com", "a.smith@example.com", "DUNNO"),       # own alias
            ("alice", "alice@example.com", "DUNNO"),                     # login by uid
            ("bob@example.com", "", "DUNNO"),                            # null sender
            ("eve@example.com", "support@example.com", "REJECT 5.7.1"),  # not in the team
            ("dave@example.com", "support@example.com", "REJECT 5.7.1"),  # folder rights, no send right
            ("carol@example.com", "alice@example.com", "REJECT 5.7.1"),  # expired vacation cover
            ("bob@example.com", "ceo@example.com", "REJECT 5.7.1"),      # unknown address
            ("bob@example.com", "bob@example.com.evil.org", "REJECT 5.7.1"),
            ("support@example.com", "help@example.com", "REJECT 5.7.1"),  # shared mailbox has no login
            ("*", "support@example.com", "REJECT 5.7.1"),                 # injection in login
            ("bob@example.com", "*)(mail=*", "REJECT 5.7.1"),             # injection in sender
            ("bob@example.com", "support@*", "REJECT 5.7.1"),
        ]
        for login, sender, expected in cases:
            with self.subTest(login=login, sender=sender):
                self.assertTrue(c.ask(login, sender).startswith(expected))
        reject = c.ask("eve@example.com", "support@example.com")
        self.assertIn("<support@example.com>", reject)
        self.assertIn("eve@example.com", reject)

    def test_a_cold_decision_asks_ldap_twice(self):
        """Issue 19: a cold decision for a user in no group costs 2 LDAP searches (the
        login, then one for the address, the user's groups and the grants naming the user
        with a send right), counted in slapd's own stats log; each level of groups the
        user is in adds one (the walk goes on below the known mailbox). The daemon's log
        line shows it made each decision.

        This is the default configuration (search mode, no users.dn_template): the first
        login search teaches the daemon how people's DNs are made (uid=%n,ou=people,...;
        core/src/dn_patterns.h), and later logins of the domain also ask for the groups of
        the DN that pattern gives, as with a configured template: bob, the first login,
        pays a search of its own for his group; carol, after, does not. The daemon's
        counters show the pattern learned once and each later guess proved."""
        ldap_apply(self.slapd, "dn: cn=alice-for-carol,uid=carol,ou=people,dc=example,dc=com\nobjectClass: mailGrant\n"
                               "cn: alice-for-carol\nmailGrantee: uid=alice,ou=people,dc=example,dc=com\n"
                               "mailGrantSend: sendAs\n", tool="ldapadd")
        try:
            d = self.daemon().start()
            cases = [  # each login once: every decision is cold
                ("bob@example.com", "support@example.com", "DUNNO", 3),       # support-team: one level
                ("alice@example.com", "carol@example.com", "DUNNO", 2),        # no group, sendAs
                ("eve@example.com", "support@example.com", "REJECT 5.7.1", 2),  # no group, no grant
                ("carol@example.com", "HELP@example.com", "DUNNO", 3),        # support-leads in support-team
                ("dave@example.com", "dave@example.com", "DUNNO", 1),         # one's own: the login alone
            ]
            assert_cold_decisions(self, self.slapd, d, cases)
            m = d.metrics()
            self.assertEqual(m["dn_patterns_learned_total"], 1, "bob's login taught uid=%n,ou=people,...")
            self.assertEqual(m["dn_guesses_total"], 4)  # alice, eve, carol, dave
            self.assertEqual(m["dn_guesses_right_total"], 4)
        finally:
            ldap_apply(self.slapd, "dn: cn=alice-for-carol,uid=carol,ou=people,dc=example,dc=com\nchangetype: delete\n")

    def test_pipelined_requests_get_exactly_one_reply_each(self):
        c = self.daemon().start().client()
        req = "request=smtpd_access_policy\nsasl_username=bob@example.com\nsender=%s\n\n"
        c.send_raw("".join(req % s for s in ["bob@example.com", "support@example.com", "eve@example.com"]).encode())
        self.assertEqual([c.read_reply() for _ in range(3)][:2], ["DUNNO", "DUNNO"])
        c.sock.settimeout(0.5)
        with self.assertRaises(socket.timeout):  # nothing more: no duplicate replies
            c.sock.recv(1)

    def test_malformed_input_closes_only_that_connection(self):
        d = self.daemon().start()
        good = d.client()
        self.assertEqual(good.ask("bob@example.com", "bob@example.com"), "DUNNO")
        for garbage in [b"this is not a request\n\n", b"sender=" + b"a" * 10000 + b"\n",
                        b"sender=a\nsender=b\n\n", b"\x00\x01\x02=\n\n", b"request=other_policy\n\n"]:
            bad = d.client()
            bad.send_raw(garbage)
            self.assertTrue(bad.closed_by_peer(), garbage[:30])
        self.assertEqual(good.ask("bob@example.com", "support@example.com"), "DUNNO")
        self.assertGreaterEqual(d.metrics()["protocol_errors_total"], 5)
        self.assertTrue(d.logged("protocol error"))

    def test_many_concurrent_connections(self):
        d = self.daemon(workers=8, max_connections=500).start()
        errors = []
        expected = {"support@example.com": "DUNNO", "alice@example.com": "REJECT"}

        def smtpd(i):
            try:
                c = d.client()
                for n in range(5):
                    sender = "support@example.com" if (i + n) % 2 else "alice@example.com"
                    if not c.ask("bob@example.com" if sender.startswith("support") else "eve@example.com",
                                 sender).startswith(expected[sender]):
                        errors.append((i, n))
                c.close()
            except Exception as e:  # noqa: BLE001 -- collected and asserted below
                errors.append((i, repr(e)))

        threads = [threading.Thread(target=smtpd, args=(i,)) for i in range(200)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        self.assertEqual(errors, [])
        self.assertEqual(d.metrics()["requests_total"], 1000)

    def test_hung_ldap_gives_4xx_within_the_timeout_and_recovers(self):
        d = self.daemon(request_timeout_ms=1500).start()
        c = d.client()
        self.slapd.pause()
        try:
            reply = c.ask("carol@example.com", "support@example.com")   # not cached yet
            # Even the own address asks LDAP (the login might be a shared mailbox's,
            # which is nobody's own sender): deferred, never permitted blind.
            own = c.ask("carol@example.com", "carol@example.com")
        finally:
            self.slapd.resume()
        self.assertTrue(reply.startswith("DEFER_IF_PERMIT 4."), reply)
        self.assertTrue(own.startswith("DEFER_IF_PERMIT 4."), own)
        deadline = time.time() + 15
        while time.time() < deadline:  # the next request after recovery asks LDAP again
            reply = c.ask("carol@example.com", "support@example.com")
            if reply == "DUNNO":
                break
            time.sleep(0.2)
        self.assertEqual(reply, "DUNNO")
        m = d.metrics()
        self.assertGreaterEqual(m["deferred_total"], 1)

    def test_ldap_unreachable_is_defer_never_reject(self):
        d = self.daemon(defer_action="DEFER")
        d.ldap_uri = "ldap://127.0.0.1:%d" % free_port()  # nothing listens there
        c = d.start().client()
        for sender in ["support@example.com", "ceo@example.com", "alice@example.com"]:
            reply = c.ask("bob@example.com", sender)
            self.assertTrue(reply.startswith("DEFER 4."), reply)
        self.assertGreaterEqual(d.metrics()["ldap_errors_total"], 1)

    def test_grant_changes_are_obeyed_within_ttl(self):
        d = self.daemon()
        d.cache = {"ttl_s": 2, "negative_ttl_s": 1}
        c = d.start().client()
        self.assertTrue(c.ask("eve@example.com", "support@example.com").startswith("REJECT"))
        ldap_apply(self.slapd, "dn: cn=eve-cover,uid=support,ou=people,dc=example,dc=com\nobjectClass: mailGrant\n"
                               "cn: eve-cover\nmailGrantee: uid=eve,ou=people,dc=example,dc=com\n"
                               "mailGrantSend: sendAs\n", tool="ldapadd")
        try:
            deadline, reply = time.time() + 10, ""
            while time.time() < deadline and reply != "DUNNO":
                time.sleep(0.25)
                reply = c.ask("eve@example.com", "support@example.com")
            self.assertEqual(reply, "DUNNO")
        finally:
            ldap_apply(self.slapd, "dn: cn=eve-cover,uid=support,ou=people,dc=example,dc=com\nchangetype: delete\n")
        deadline = time.time() + 10
        while time.time() < deadline and reply == "DUNNO":
            time.sleep(0.25)
            reply = c.ask("eve@example.com", "support@example.com")
        self.assertTrue(reply.startswith("REJECT 5.7.1"), reply)

    def test_sighup_reloads_without_dropping_connections(self):
        d = self.daemon().start()
        c = d.client()
        self.assertTrue(c.ask("eve@example.com", "support@example.com").startswith("REJECT 5.7.1 Sender address"))
        d.policy["reject_text"] = "5.7.1 Ask the support team lead for send-as rights"
        d.write_config()
        d.proc.send_signal(signal.SIGHUP)
        deadline, reply = time.time() + 10, ""
        while time.time() < deadline and "support team lead" not in reply:
            time.sleep(0.1)
            reply = c.ask("eve@example.com", "support@example.com")  # same connection throughout
        self.assertEqual(reply, "REJECT 5.7.1 Ask the support team lead for send-as rights")
        # A broken config is refused and the running one kept.
        with open(d.config_path, "a") as f:
            f.write("bogus_key: 1\n")
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline and d.metrics().get("reload_failures_total", 0) < 1:
            time.sleep(0.1)
        self.assertEqual(d.metrics()["reload_failures_total"], 1)
        self.assertTrue(d.logged("bogus_key: unknown key"))
        self.assertTrue(c.ask("eve@example.com", "support@example.com").startswith("REJECT 5.7.1 Ask"))

    def test_unix_socket_privileges_and_clean_stop(self):
        sock = os.path.join(self.workdir, "policy.sock")
        d = self.daemon(listen="unix:" + sock, socket_owner="nobody", socket_group="nogroup", socket_mode="0660")
        d.start()
        st = os.stat(sock)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)
        self.assertEqual(st.st_uid, pwd.getpwnam("nobody").pw_uid)
        with open("/proc/%d/status" % d.proc.pid) as f:
            uid_line = [line for line in f if line.startswith("Uid:")][0]
        self.assertEqual(set(uid_line.split()[1:]), {str(pwd.getpwnam("nobody").pw_uid)})  # no root left
        self.assertEqual(d.client().ask("bob@example.com", "support@example.com"), "DUNNO")
        d.proc.send_signal(signal.SIGTERM)
        self.assertEqual(d.proc.wait(timeout=10), 0)

    def test_socket_files_appear_complete_and_config_errors_leave_none(self):
        """Issue 10, parts 5 and 7. A socket file appears with its final owner and mode
        (bound under a temporary name, renamed into place): whoever finds it never sees
        the umask's 0755 or root as owner. An exit on a configuration error leaves no
        socket file -- the error found before any socket exists, or after some do."""
        sock = os.path.join(self.workdir, "policy.sock")
        milter = os.path.join(self.workdir, "milter.sock")
        seen = []
        stop = threading.Event()

        def watch():  # everything an observer can see while the daemon starts
            while not stop.is_set():
                for path in (sock, milter):
                    try:
                        st = os.lstat(path)
                        seen.append((path, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid))
                    except FileNotFoundError:
                        pass

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            d = self.daemon(listen="unix:" + sock, socket_owner="nobody", socket_group="nogroup",
                            socket_mode="0660")
            d.extra_args = ["--milter", "unix:" + milter]
            d.start()
            # the watcher thread may not have run yet on a loaded machine: let it see both
            # files before it stops (bounded)
            deadline = time.monotonic() + 10
            while {path for path, *_ in list(seen)} != {sock, milter} and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            stop.set()
            watcher.join()
        nobody, nogroup = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
        self.assertTrue(seen)
        self.assertEqual(set((mode, uid, gid) for _, mode, uid, gid in seen), {(0o660, nobody, nogroup)})
        self.assertFalse([n for n in os.listdir(self.workdir) if n.endswith(".new")])  # no temporary left
        d.stop()
        for path in (sock, milter):  # nobody may not remove them from this root-owned directory
            if os.path.lexists(path):
                os.unlink(path)

        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        self.addCleanup(busy.close)
        missing = os.path.join(self.workdir, "no-such-dir", "x.sock")
        cases = [
            # found before any socket exists
            ("policy.user: no such user", dict(user="no-such-user-mailgrant"), []),
            ("policy.socket_group: no such group", dict(socket_group="no-such-group-mailgrant"), []),
            ("cannot read the password file", dict(secret_path=os.path.join(self.workdir, "nowhere", "ldap.secret")), []),
            # after the policy socket exists: the stats port is taken, the milter path impossible
            ("cannot listen on inet:127.0.0.1:%d" % busy.getsockname()[1],
             dict(stats_listen="inet:127.0.0.1:%d" % busy.getsockname()[1]), []),
            ("milter", {}, ["--milter", "unix:" + missing]),
        ]
        for expected, change, args in cases:
            with self.subTest(expected=expected):
                d = Daemon(self.workdir, self.slapd, listen="unix:" + sock)
                d.extra_args = args
                if "secret_path" in change:
                    d.secret_path = change.pop("secret_path")
                d.policy.update(change)
                rc, log = d.run_to_exit()
                self.assertEqual(rc, 1, log)
                self.assertIn(expected, log)
                self.assertFalse(os.path.lexists(sock), "socket file left behind after: " + log)
                self.assertFalse([n for n in os.listdir(self.workdir) if n.endswith(".new")])

    def test_root_only_password_file_is_read_before_dropping_root(self):
        """Issue 10, part 5: the password file stays root's (0600); the daemon reads it
        before it becomes policy.user, keeps it in memory, and keeps it over a reload
        (which runs as policy.user and cannot read the file any more)."""
        d = self.daemon()
        st_mode = 0o600
        d.secret_mode = st_mode
        d.start()
        st = os.stat(d.secret_path)
        self.assertEqual((stat.S_IMODE(st.st_mode), st.st_uid), (st_mode, 0))
        with open("/proc/%d/status" % d.proc.pid) as f:
            uid_line = [line for line in f if line.startswith("Uid:")][0]
        self.assertEqual(set(uid_line.split()[1:]), {str(pwd.getpwnam("nobody").pw_uid)})
        c = d.client()
        # Needs LDAP, and so the bind password: bob's send-as comes from a group grant.
        self.assertEqual(c.ask("bob@example.com", "support@example.com"), "DUNNO")
        self.assertTrue(c.ask("eve@example.com", "support@example.com").startswith("REJECT 5.7.1"))
        self.assertEqual(d.metrics()["ldap_errors_total"], 0)

        d.policy["reject_text"] = "5.7.1 reloaded as nobody"
        d.write_config()
        d.proc.send_signal(signal.SIGHUP)
        self.assertTrue(d.logged("keeping the password read at start"))
        self.assertTrue(d.logged("read as user nobody"))
        deadline, reply = time.time() + 10, ""
        while time.time() < deadline and "reloaded as nobody" not in reply:
            time.sleep(0.1)
            reply = c.ask("carol@example.com", "alice@example.com")  # asks LDAP again: new cache
        self.assertEqual(reply, "REJECT 5.7.1 reloaded as nobody")
        self.assertEqual(c.ask("carol@example.com", "support@example.com"), "DUNNO")
        self.assertEqual(d.metrics()["ldap_errors_total"], 0)

    def test_systemd_is_told_ready_once_serving_and_stopping_at_the_end(self):
        """Issue 15: the unit is Type=notify. READY=1 (with a STATUS line) reaches
        NOTIFY_SOCKET only once the policy socket accepts and root is dropped; STOPPING=1
        on SIGTERM. A stand-in for systemd's notify socket: a unix datagram socket."""
        d = self.daemon()
        d.write_config()
        os.chmod(d.workdir, 0o755)
        notify_path = os.path.join(d.workdir, "notify")
        sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sink.bind(notify_path)
        os.chmod(notify_path, 0o777)  # the daemon is nobody by then, as under systemd
        # The kernel stamps each datagram with its sender's uid (as systemd reads it):
        # READY must come from the daemon after it dropped root, not before.
        sink.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        sink.settimeout(10)
        env = dict(os.environ, NOTIFY_SOCKET=notify_path)
        d.log = open(d.log_path, "w")
        d.proc = subprocess.Popen([POLICYD, "-c", d.config_path], stdout=d.log, stderr=subprocess.STDOUT, env=env)
        try:
            data, ancillary, _, _ = sink.recvmsg(4096, socket.CMSG_SPACE(struct.calcsize("iII")))
            message = data.decode()
            creds = [struct.unpack("iII", d[:struct.calcsize("iII")]) for level, kind, d in ancillary
                     if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS]
            self.assertEqual(len(creds), 1)
            self.assertEqual(creds[0][1], pwd.getpwnam("nobody").pw_uid, "READY sent while still root")
            self.assertIn("READY=1", message.splitlines())
            self.assertIn("STATUS=serving " + d.address, message)
            # By READY the socket accepts and the daemon is no longer root.
            d.client().close()
            with open("/proc/%d/status" % d.proc.pid) as f:
                uid_line = [line for line in f if line.startswith("Uid:")][0]
            self.assertEqual(set(uid_line.split()[1:]), {str(pwd.getpwnam("nobody").pw_uid)})
            self.assertTrue(d.logged("told systemd: ready"))
            d.proc.terminate()
            self.assertEqual(sink.recv(4096).decode(), "STOPPING=1")
            self.assertEqual(d.proc.wait(timeout=10), 0)
        finally:
            sink.close()

    def test_empty_password_file_stops_the_daemon_with_a_clear_message(self):
        """Issue 15: the packages create /etc/mailgrant/ldap.secret empty; until the admin
        fills it the daemon refuses to start (exit 1, systemd never hears READY)."""
        d = self.daemon()
        d.write_config()
        with open(d.secret_path, "w"):
            pass
        d.write_config = lambda: None  # keep the empty file
        code, log = d.run_to_exit()
        self.assertEqual(code, 1)
        self.assertIn("password file is empty (ldap.bind_password_file)", log)
        self.assertIn(d.secret_path, log)

    def test_bad_config_fails_with_the_key_named(self):
        d = self.daemon(defer_text="5.0.0 no")
        d.write_config()
        out = subprocess.run([POLICYD, "-c", d.config_path, "--check-config"], capture_output=True, text=True, timeout=10)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("policy.defer_text: must start with a 4.x.x", out.stderr)

    def check_config(self, d):
        d.write_config()
        os.chmod(d.workdir, 0o755)  # as start() does: policy.user must reach the file
        return subprocess.run([POLICYD, "-c", d.config_path, "--check-config"], capture_output=True, text=True,
                              timeout=20)

    def test_check_config_checks_what_the_running_daemon_needs(self):
        # Issue 18: parsing is not enough. Each case is a configuration that parses, with
        # what --check-config (run as root, as systemd's ExecStartPre does) must say.
        private = os.path.join(self.workdir, "private")
        os.makedirs(private, exist_ok=True)
        inside = "unix:" + os.path.join(private, "mailgrant")
        cases = [
            ("no such user", dict(user="mailgrant-no-such-user", listen=inside), 1,
             "policy.user: no such user 'mailgrant-no-such-user'"),
            ("socket dir missing", dict(listen="unix:" + os.path.join(self.workdir, "nowhere", "sock")), 1,
             "policy.listen: directory %s does not exist" % os.path.join(self.workdir, "nowhere")),
            ("no such socket group", dict(listen=inside, socket_group="no-such-group-x"), 1,
             "policy.socket_group: no such group 'no-such-group-x'"),
        ]
        for name, policy, rc, text in cases:
            with self.subTest(name):
                out = self.check_config(self.daemon(**policy))
                self.assertEqual(out.returncode, rc, out.stderr)
                self.assertIn(text, out.stderr)
        # The config the daemon re-reads on SIGHUP, unreadable by policy.user (nobody).
        d = self.daemon(listen=inside)
        d.write_config()
        os.chmod(d.workdir, 0o755)
        os.chmod(d.config_path, 0o600)
        out = subprocess.run([POLICYD, "-c", d.config_path, "--check-config"], capture_output=True, text=True, timeout=20)
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertIn("not readable by policy.user 'nobody'", out.stderr)
        # A socket Postfix's chrooted smtpd could not reach: a warning, still OK.
        queue = subprocess.run(["postconf", "-h", "queue_directory"], capture_output=True, text=True).stdout.strip()
        out = self.check_config(self.daemon(listen=inside))
        self.assertEqual(out.returncode, 0, out.stderr)
        if queue and not private.startswith(queue + "/"):
            self.assertIn("outside Postfix's queue_directory", out.stderr)
        self.assertIn(": OK", out.stdout)
        self.assertIn("policy.milter_listen is empty: the header From:/Sender: check is off", out.stderr)


class MemberOfPolicydTest(unittest.TestCase):
    """groups.membership memberof against slapd's memberof overlay, through the daemon
    (core/src/member_of_walk.cpp): the login search reads the user's memberOf, so a cold
    decision for a user in a group that is in no group costs 2 searches, as for a user in
    no group (3 in search mode: PolicydTest.test_a_cold_decision_asks_ldap_twice).
    DnTemplatePolicydTest: the same without the overlay, with users.dn_template."""
    MEMBEROF = True

    def configure(self, daemon):
        daemon.groups = {"membership": "memberof"}

    def before_cases(self, daemon):
        pass

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mailgrant-policyd-groups-")
        os.chmod(cls.tmp, 0o755)  # the daemon reads its config as nobody
        cls.slapd = Slapd(os.path.join(cls.tmp, "slapd"), memberof=cls.MEMBEROF).start()
        cls.slapd.load_ldif(os.path.join(FIXTURES, "org.ldif"))
        # a group that is in no group and may send as carol; eve in it
        ldap_apply(cls.slapd, "dn: cn=carol-desk,ou=groups,dc=example,dc=com\nobjectClass: groupOfNames\n"
                              "cn: carol-desk\nmember: uid=eve,ou=people,dc=example,dc=com\n\n"
                              "dn: cn=desk-send,uid=carol,ou=people,dc=example,dc=com\nobjectClass: mailGrant\n"
                              "cn: desk-send\nmailGrantee: cn=carol-desk,ou=groups,dc=example,dc=com\n"
                              "mailGrantSend: sendAs\n", tool="ldapadd")

    @classmethod
    def tearDownClass(cls):
        cls.slapd.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_a_cold_decision_for_a_group_member_asks_ldap_twice(self):
        workdir = tempfile.mkdtemp(dir=self.tmp)
        d = Daemon(workdir, self.slapd)
        self.configure(d)
        try:
            d.start()
            self.before_cases(d)
            cases = [  # each login once: every decision is cold
                ("eve@example.com", "carol@example.com", "DUNNO", 2),         # carol-desk, in no group
                ("bob@example.com", "support@example.com", "DUNNO", 2),       # support-team, in no group
                ("alice@example.com", "support@example.com", "REJECT 5.7.1", 2),  # in no group, no grant
                ("dave@example.com", "dave@example.com", "DUNNO", 1),         # one's own: the login alone
            ]
            assert_cold_decisions(self, self.slapd, d, cases)
            # the daemon's decision line: the grant reached eve through her group, which
            # the login search read (her memberOf, or the groups naming her DN)
            lines = [line for line in d.log_text().splitlines()
                     if "login=eve@example.com sender=<carol@example.com> decision=allow" in line]
            self.assertEqual(len(lines), 1, d.log_text()[-2000:])
            self.assertIn("to group cn=carol-desk,ou=groups,dc=example,dc=com", lines[0])
        finally:
            d.stop()


class LearnedDnPatternPolicydTest(MemberOfPolicydTest):
    """The default configuration (search mode, no memberof overlay, no users.dn_template)
    once one login taught the daemon how people's DNs are made (core/src/dn_patterns.h):
    a group member's cold decision is 2 searches, as with a configured template. The
    daemon's counters show the guesses it made and that the login searches proved them."""
    MEMBEROF = False

    def configure(self, daemon):
        pass

    def before_cases(self, daemon):
        self.assertEqual(daemon.metrics()["dn_patterns_learned_total"], 0)
        # a login that sends as itself: the login search alone, which teaches the pattern
        self.assertEqual(daemon.client().ask("carol@example.com", "carol@example.com"), "DUNNO")
        self.assertEqual(daemon.metrics()["dn_patterns_learned_total"], 1)


class DnTemplatePolicydTest(MemberOfPolicydTest):
    """Search mode, no memberof overlay, users.dn_template: the login search also asks for
    the groups naming the DN the template gives (core/src/login_groups.cpp), so a group
    member's cold decision is 2 searches here too."""
    MEMBEROF = False

    def configure(self, daemon):
        daemon.users = {"dn_template": '"uid=%n,ou=people,dc=example,dc=com"'}

    def test_the_login_search_asks_for_the_groups(self):
        workdir = tempfile.mkdtemp(dir=self.tmp)
        d = Daemon(workdir, self.slapd)
        self.configure(d)
        try:
            d.start()
            start = os.path.getsize(self.slapd.log_path)
            self.assertTrue(d.client().ask("eve@example.com", "carol@example.com").startswith("DUNNO"))
            time.sleep(0.3)  # slapd's last stats lines
            with open(self.slapd.log_path, errors="replace") as f:
                f.seek(start)
                asked = [line for line in f if " SRCH base=" in line]
            # the login and the groups naming eve's DN; then carol's address, the groups
            # naming carol-desk and the grants naming eve or carol-desk
            self.assertIn("member=uid=eve,ou=people,dc=example,dc=com", asked[0])
            self.assertIn("uid=eve@example.com", asked[0])
            self.assertIn("mailGrantee=cn=carol-desk,ou=groups,dc=example,dc=com", asked[1])
            self.assertEqual(len(asked), 2, "".join(asked))
        finally:
            d.stop()


if __name__ == "__main__":
    unittest.main()
