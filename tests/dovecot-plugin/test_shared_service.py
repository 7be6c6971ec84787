#!/usr/bin/env python3
"""One cache per host (issue 19, DESIGN.md "One cache per host"), end to end.

A real slapd with syncprov, the real mailgrant-policyd serving the decision service on
service.listen (a unix socket of group mailgrant, the group the shipped drop-in gives
Dovecot's processes), a real Dovecot loading the built plugin through the drop-in with the
same mailgrant.yaml, and imaplib as the client. The caches live 300 s (cache.ttl_s), so
what changes within this test was changed by the service following LDAP.

It proves, each by what the component under test counted or logged:
 - the shared folder is decided by the service (its service_questions_total counter
   grows; several open IMAP sessions hold no LDAP connection: no socket of an imap process
   is a TCP connection to slapd);
 - a revoked grant is refused in an already open IMAP session (the follower's
   sync_changes_total grows; with a 300 s TTL nothing else could have changed it);
 - the service stopped or frozen (SIGSTOP): shared access is denied at once, the user's
   own INBOX still works, the plugin logs the reason naming the service; per-collaborator
   logins are refused at LOGIN (checkpassword / the 2.4 passdb ask the service too); all
   come back when it does;
 - a share made with SETACL is in GETACL at once: the plugin told the service to empty
   its cache (service_changes_total);
 - an imap process whose user only reads their own INBOX does not load the core library
   (libmailgrant_core.so is not in its memory map until it opens a shared folder), and
   one that asks the service loads no LDAP code (libmailgrant_local.so, libldap) until
   it writes a SETACL.
Bounded loops only; counts, never timings.
"""
import imaplib
import os
import re
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
from mailgrant_setup import PLUGIN, assert_dovecot_log_clean, ldap_apply, plugin_stack  # noqa: E402
import policyd_process  # noqa: E402
from policyd_process import Policyd  # noqa: E402
from mail_sandbox import _read_pid  # noqa: E402
PEOPLE = "ou=people,dc=example,dc=com"
SHARED = "shared/alice@example.com/Board"
WAIT_S = 15


def wait_for(predicate, timeout_s=WAIT_S, step_s=0.05):
    return policyd_process.wait_for(predicate, timeout_s, step_s)


def imap_pids(master_pid):
    """The running imap processes (Dovecot's mail processes for IMAP) of the Dovecot whose
    master is `master_pid`: not those of another test's Dovecot running beside this one
    (CTest runs tests side by side)."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv0 = f.read().split(b"\0")[0]
            with open("/proc/%s/stat" % pid) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid != master_pid:
            continue
        # "dovecot/imap" or, with a process title, "dovecot/imap [user ...]"; not imap-login
        if re.match(rb"(.*/)?(dovecot/)?imap( |$)", argv0):
            out.append(int(pid))
    return out


def tcp_inodes_to(port):
    """Socket inodes of TCP connections whose remote port is `port` (IPv4 and IPv6)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[2].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def socket_inodes(pid):
    inodes = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            m = re.match(r"socket:\[(\d+)\]", target)
            if m:
                inodes.add(m.group(1))
    except OSError:
        pass
    return inodes


class SharedServiceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        extra = ("service:\n  listen: unix:@TMP@/run/service\n  memo_ms: 200\n  timeout_ms: 1000\n")
        # negative_ttl_s 2: how long a process stops asking after trouble (its breaker); the
        # 2.4 passdb lives in the long-running auth process, so recovery waits that long.
        # log_debug: the plugin's lines about the namespace asked ahead (test_8)
        cls.tmp, cls.slapd, cls.config, cls.stack = plugin_stack(cls, "mailgrant-service-it-", 300, 2,
                                                                 config_extra=extra, syncprov=True,
                                                                 extra_dovecot_conf="log_debug = category=mailgrant\n")
        os.makedirs(os.path.join(cls.tmp, "run"), mode=0o755, exist_ok=True)
        cls.policyd = Policyd(cls.config, cls.tmp)
        cls.addClassCleanup(cls.policyd.stop)
        cls.policyd.start()
        assert cls.policyd.wait_following(WAIT_S), cls.policyd.text()
        with cls.login("alice@example.com", "alice-pw") as imap:
            assert imap.create("Board")[0] == "OK"
            assert imap.append("Board", None, None, b"Subject: minutes\r\n\r\nx\r\n")[0] == "OK"
        cls.serial = 0

    @classmethod
    def tearDownClass(cls):
        assert_dovecot_log_clean(cls.stack.dovecot_log_path)

    @classmethod
    def login(cls, user, password):
        imap = imaplib.IMAP4("127.0.0.1", cls.stack.imap_port, timeout=30)
        imap.login(user, password)
        return imap

    def grant(self, grantee_uid, folder="Board", rights="reader"):
        SharedServiceTest.serial += 1
        dn = "cn=svc-%d,uid=alice,%s" % (SharedServiceTest.serial, PEOPLE)
        ldap_apply(self.slapd, "dn: %s\nobjectClass: mailGrant\ncn: svc-%d\nmailGrantee: uid=%s,%s\n"
                   "mailGrantFolder: %s\nmailGrantRights: %s\n"
                   % (dn, SharedServiceTest.serial, grantee_uid, PEOPLE, folder, rights), tool="ldapadd")
        return dn

    def dovecot_log(self):
        with open(self.stack.dovecot_log_path, errors="replace") as f:
            return f.read()

    def can_select(self, imap, folder=SHARED):
        return imap.select('"%s"' % folder, readonly=True)[0] == "OK"

    def test_1_open_sessions_ask_the_service_and_hold_no_ldap_connection(self):
        dn = self.grant("dave")
        before = self.policyd.metrics()["service_questions_total"]
        sessions = [self.login("dave@example.com", "dave-pw") for _ in range(5)]
        try:
            for imap in sessions:
                typ, data = imap.list('""', "shared/alice@example.com/*")
                self.assertEqual(typ, "OK")
                self.assertIn(SHARED.encode(), b"".join(d for d in data if d))
                self.assertTrue(self.can_select(imap))
            self.assertGreater(self.policyd.metrics()["service_questions_total"], before)
            pids = imap_pids(self.master_pid())
            self.assertGreaterEqual(len(pids), 5)
            ldap = tcp_inodes_to(self.slapd.port)
            self.assertTrue(ldap, "policyd holds LDAP connections: the check below can fail")
            for pid in pids:
                self.assertFalse(socket_inodes(pid) & ldap, "imap process %d holds an LDAP connection" % pid)
            # The daemon's own sockets do include LDAP ones (pool and sync): the check sees them.
            self.assertTrue(socket_inodes(self.policyd.proc.pid) & ldap)
        finally:
            for imap in sessions:
                imap.logout()
            ldap_apply(self.slapd, dn + "\n", tool="ldapdelete")

    def master_pid(self):
        return _read_pid(self.stack.dovecot_pid_path)

    def test_2_revocation_reaches_an_open_session(self):
        dn = self.grant("eve")
        imap = self.login("eve@example.com", "eve-pw")
        try:
            self.assertTrue(self.can_select(imap))
            self.assertTrue(self.can_select(imap))  # answered again from the caches
            before = self.policyd.metrics()
            ldap_apply(self.slapd, dn + "\n", tool="ldapdelete")
            self.assertTrue(wait_for(lambda: self.policyd.metrics()["sync_changes_total"]
                                     > before["sync_changes_total"]), self.policyd.text())
            # The next commands of the same session are refused (memo_ms 200 + the sync delay).
            self.assertTrue(wait_for(lambda: not self.can_select(imap)), "still allowed after the revocation")
            self.assertNotEqual(imap.select('"%s"' % SHARED)[0], "OK")
            self.assertEqual(imap.select("INBOX")[0], "OK")
        finally:
            imap.logout()

    def test_3_service_down_or_frozen_fails_safe_and_recovers(self):
        dn = self.grant("carol")
        imap = self.login("carol@example.com", "carol-pw")
        try:
            self.assertTrue(self.can_select(imap))
            self.assertEqual(self.collaborator_login(), "ok")
            self.policyd.stop()
            self.assertTrue(wait_for(lambda: not self.can_select(imap)), "shared access outlived the service")
            self.assertEqual(imap.select("INBOX")[0], "OK")  # the user's own mailbox is unaffected
            self.assertTrue(wait_for(lambda: "mailgrant service unix:%s/run/service" % self.tmp in self.dovecot_log()))
            # Refused at LOGIN (by checkpassword / the passdb), not only later at SELECT.
            self.assertEqual(self.collaborator_login(), "login refused")
            self.policyd.start()
            # The plugin's breaker (cache.negative_ttl_s) stays open a while after a failure:
            # a fresh session asks the service straight away.
            self.assertTrue(wait_for(lambda: self.fresh_session_can_select("carol")), "no recovery after restart")
            self.assertEqual(wait_for(lambda: self.collaborator_login() == "ok" and "ok", step_s=0.5), "ok")

            self.policyd.proc.send_signal(signal.SIGSTOP)
            try:
                self.assertFalse(self.fresh_session_can_select("carol"))  # waits service.timeout_ms, then no
            finally:
                self.policyd.proc.send_signal(signal.SIGCONT)
            self.assertTrue(wait_for(lambda: self.fresh_session_can_select("carol")))
        finally:
            try:
                imap.logout()
            except (imaplib.IMAP4.error, OSError):
                pass
            ldap_apply(self.slapd, dn + "\n", tool="ldapdelete")

    def fresh_session_can_select(self, uid):
        with self.login("%s@example.com" % uid, "%s-pw" % uid) as imap:
            return self.can_select(imap)

    def collaborator_login(self):
        """A per-collaborator login (alice's mailbox, carol's own password), decided by
        checkpassword (2.3) or the mailgrant passdb (2.4), both through the service:
        "ok", "login refused" or "select refused" (the plugin, after the login)."""
        try:
            imap = self.login("alice@example.com*carol@example.com", "carol-pw")
        except imaplib.IMAP4.error:
            return "login refused"
        with imap:
            return "ok" if imap.select("Board", readonly=True)[0] == "OK" else "select refused"

    def test_4_setacl_is_seen_at_once_through_the_service(self):
        with self.login("alice@example.com", "alice-pw") as imap:
            before = self.policyd.metrics()["service_changes_total"]
            self.assertEqual(imap.setacl("Board", "bob@example.com", "lr")[0], "OK")
            typ, data = imap.getacl("Board")
            self.assertEqual(typ, "OK")
            self.assertIn(b"bob@example.com lr", data[0])
            self.assertEqual(self.policyd.metrics()["service_changes_total"], before + 1)
            self.assertEqual(imap.deleteacl("Board", "bob@example.com")[0], "OK")
            self.assertNotIn(b"bob@example.com", imap.getacl("Board")[1][0])
            self.assertEqual(self.policyd.metrics()["service_changes_total"], before + 2)

    def test_5_a_process_asks_the_service_without_loading_the_core(self):
        """With the service, the plugin's C client (dovecot-plugin/wire/) asks it: an imap
        process that opens a shared folder maps neither libmailgrant_core.so nor
        yaml-cpp nor any LDAP code, nor libstdc++ where Dovecot does not bring it (issue 19: loading them cost each new process 1.6 ms),
        and the service counts the questions it answered for that process."""
        dn = self.grant("bob")
        # bob's first session: Dovecot's ACL plugin builds his dovecot-acl-list (and asks
        # who his own folders are shared with) once, as stock Dovecot does.
        with self.login("bob@example.com", "bob-pw") as first:
            self.assertEqual(first.select("INBOX")[0], "OK")
        before = set(imap_pids(self.master_pid()))
        imap = self.login("bob@example.com", "bob-pw")
        try:
            self.assertEqual(imap.select("INBOX")[0], "OK")
            self.assertEqual(imap.noop()[0], "OK")
            mine = wait_for(lambda: set(imap_pids(self.master_pid())) - before)
            self.assertEqual(len(mine), 1, "cannot tell bob's imap process: %s" % mine)
            pid = mine.pop()
            # Dovecot 2.4's libdovecot-storage brings libstdc++ itself (through libicu):
            # what counts is that asking does not add it.
            cxx_before = maps(pid, "libstdc++")
            asked = self.policyd.metrics()["service_questions_total"]
            self.assertTrue(self.can_select(imap))   # a shared folder: the service is asked
            self.assertGreater(self.policyd.metrics()["service_questions_total"], asked,
                               "the shared folder was decided without asking the service")
            self.assertFalse(maps_core(pid), "the core was loaded to ask the service")
            self.assertEqual(maps(pid, "libstdc++"), cxx_before, "C++ was loaded to ask the service")
            self.assertFalse(maps(pid, "libyaml-cpp"), "yaml-cpp was loaded to ask the service")
            self.assertFalse(maps(pid, "libmailgrant_local.so"), "the LDAP side was loaded to ask the service")
            self.assertFalse(maps(pid, "libldap"), "libldap was loaded to ask the service")
        finally:
            imap.logout()
            ldap_apply(self.slapd, dn + "\n", tool="ldapdelete")

    def test_6_a_setacl_loads_the_core_and_the_ldap_side_it_writes_with(self):
        """A share made from the mail client is written by the process itself (over the
        service account's LDAP connection): GETACL is asked through the C client, the
        first SETACL loads libmailgrant_core.so and libmailgrant_local.so, and what the
        C client kept is forgotten, so the next GETACL shows the write."""
        with self.login("alice@example.com", "alice-pw") as imap:
            before = set(imap_pids(self.master_pid()))
            self.assertEqual(imap.select("Board")[0], "OK")
        imap = self.login("alice@example.com", "alice-pw")
        try:
            self.assertEqual(imap.noop()[0], "OK")
            mine = wait_for(lambda: set(imap_pids(self.master_pid())) - before)
            self.assertEqual(len(mine), 1, "cannot tell alice's imap process: %s" % mine)
            pid = mine.pop()
            self.assertEqual(imap.getacl("Board")[0], "OK")   # asks the service from C
            self.assertFalse(maps_core(pid))
            self.assertNotIn(b"dave@example.com", imap.getacl("Board")[1][0])
            self.assertEqual(imap.setacl("Board", "dave@example.com", "lr")[0], "OK")
            self.assertTrue(maps_core(pid), "SETACL was written without the core?")
            self.assertTrue(maps(pid, "libmailgrant_local.so"), "SETACL was written without the LDAP side?")
            self.assertTrue(maps(pid, "libldap"))
            self.assertIn(b"dave@example.com lr", imap.getacl("Board")[1][0])
        finally:
            imap.deleteacl("Board", "dave@example.com")
            imap.logout()

    def test_7_the_plugin_stays_mapped_until_its_process_exits(self):
        """The plugin is linked -z nodelete (dovecot-plugin/CMakeLists.txt): Dovecot
        dlclose()s its mail plugins one by one as each process exits, and those munmaps
        cost every login about 0.6 ms on the test VM (README, bench (b)). The flag is in
        the plugin Dovecot loads here."""
        out = subprocess.run(["readelf", "-d", PLUGIN], capture_output=True, text=True, check=True,
                             timeout=30).stdout
        flags = [line for line in out.splitlines() if "FLAGS_1" in line]
        self.assertTrue(flags and "NODELETE" in flags[0], "no NODELETE in %s: %s" % (PLUGIN, flags))

    def test_8_list_asks_for_the_namespace_before_it_needs_it(self):
        """LIST sends the namespace question as it starts (mailgrant-imap.c's command
        pre-hook), so the service answers while Dovecot lists the user's own folders, and
        the shared namespace reads that answer (issue 19, bench (b)): the plugin's debug
        line says the LIST read the answer asked ahead, the service was asked once for it,
        and the shared folder is listed. The delimiter query (LIST "" "") lists nothing
        and asks nothing; a LIST past service.memo_ms asks ahead again (an answer serves
        one command)."""
        read_line = "mailgrant: LIST read the namespace of dave@example.com asked ahead"
        unread_line = "mailgrant: LIST did not need the namespace of dave@example.com asked ahead"
        dn = self.grant("dave")
        try:
            with self.login("dave@example.com", "dave-pw") as imap:
                # Dovecot's first LIST for dave builds his dovecot-acl-list: not the one measured
                self.assertEqual(imap.list('""', "*")[0], "OK")
            log_before = len(self.dovecot_log())
            with self.login("dave@example.com", "dave-pw") as imap:
                asked = self.policyd.metrics()["service_questions_total"]
                typ, data = imap.list('""', "*")
                self.assertEqual(typ, "OK")
                self.assertIn(SHARED.encode(), b"".join(d for d in data if d))
                self.assertEqual(self.policyd.metrics()["service_questions_total"] - asked, 1,
                                 "the LIST asked the service more than once")
                self.assertTrue(wait_for(lambda: read_line in self.dovecot_log()[log_before:]),
                                "no line saying the LIST read the answer asked ahead:\n"
                                + self.dovecot_log()[log_before:])
                # the delimiter only: Dovecot lists nothing, and nothing is asked
                asked = self.policyd.metrics()["service_questions_total"]
                self.assertEqual(imap.list('""', '""')[0], "OK")
                self.assertEqual(self.policyd.metrics()["service_questions_total"], asked)
                # past service.memo_ms (200): the shared folder's rights check fetches the
                # namespace again, and reads it asked ahead
                time.sleep(0.3)
                typ, data = imap.list('""', "*")
                self.assertIn(SHARED.encode(), b"".join(d for d in data if d))
                self.assertEqual(self.policyd.metrics()["service_questions_total"] - asked, 1)
                self.assertTrue(wait_for(lambda: self.dovecot_log()[log_before:].count(read_line) == 2),
                                self.dovecot_log()[log_before:])
                self.assertNotIn(unread_line, self.dovecot_log()[log_before:])
        finally:
            ldap_apply(self.slapd, dn + "\n", tool="ldapdelete")


def maps(pid, name):
    with open("/proc/%d/maps" % pid) as f:
        return name in f.read()


def maps_core(pid):
    return maps(pid, "libmailgrant_core.so")


if __name__ == "__main__":
    unittest.main()
