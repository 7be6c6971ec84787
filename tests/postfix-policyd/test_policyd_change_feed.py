#!/usr/bin/env python3
"""mailgrant-policyd follows LDAP changes (RFC 4533 sync, core/change_feed.h).

A real slapd with the syncprov overlay (tests/harness/slapd_sandbox.py syncprov=True), the
real daemon, Postfix policy-protocol requests over its socket (test_policyd.py's Daemon and
PolicyClient). The caches live 300 s (cache.ttl_s), so an answer that changes after a
revocation was changed by the follower: each test also asserts its counters
(sync_changes_total, sync_entries_dropped_total) and, where it matters, that a daemon with
cache.follow_changes off still gives the old answer. Counts, never timings; every wait
is a bounded loop.
"""
import os
import shutil
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "harness"))
from slapd_sandbox import SLAPADD, Slapd  # noqa: E402
from test_policyd import FIXTURES, Daemon, ldap_apply  # noqa: E402

BASE = "dc=example,dc=com"
PEOPLE = "ou=people," + BASE
GROUPS = "ou=groups," + BASE
# Offline changes (slapd 2.5+ ships slapmodify next to slapadd).
SLAPMODIFY = os.path.join(os.path.dirname(SLAPADD), "slapmodify")
WAIT_S = 10  # bound of every wait (the goal is 1 s; a loaded test host may be slower)


def wait_for(predicate, timeout_s=WAIT_S):
    deadline = time.time() + timeout_s
    while not predicate():
        if time.time() > deadline:
            return False
        time.sleep(0.02)
    return True


class ChangeFeedTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mailgrant-changefeed-it-")
        os.chmod(cls.tmp, 0o755)  # the daemon reads its config as nobody
        cls.slapd = Slapd(os.path.join(cls.tmp, "slapd"), syncprov=True).start()
        cls.slapd.load_ldif(os.path.join(FIXTURES, "org.ldif"))
        cls.serial = 0

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

    def daemon(self, slapd=None, follow=True, cache=None):
        d = Daemon(tempfile.mkdtemp(dir=self.workdir), slapd or self.slapd)
        os.chmod(d.workdir, 0o755)
        d.cache = cache or {"ttl_s": 300, "negative_ttl_s": 300, "follow_changes": "true" if follow else "false"}
        self.daemons.append(d)
        d.start()
        if follow and (slapd or self.slapd) is self.slapd:
            self.assertTrue(wait_for(lambda: d.metrics().get("sync_up") == 1), d.log_text())
        return d

    def name(self, what):
        ChangeFeedTest.serial += 1
        return "sync-%s-%d" % (what, ChangeFeedTest.serial)

    def grant(self, owner, grantee_dn, name, send="sendAs"):
        dn = "cn=%s,uid=%s,%s" % (name, owner, PEOPLE)
        ldap_apply(self.slapd, "dn: %s\nobjectClass: mailGrant\ncn: %s\nmailGrantee: %s\nmailGrantSend: %s\n"
                   % (dn, name, grantee_dn, send), tool="ldapadd")
        return dn

    def wait_for_changes(self, d, before):
        """The follower saw a change and dropped cached answers: counted, not timed. Both
        counts are awaited: a change inside the coalescing window (change_feed.h,
        ClearCoalescer) is counted at once but cleared by the trailing clear."""
        self.assertTrue(wait_for(lambda: d.metrics()["sync_changes_total"] > before["sync_changes_total"]),
                        d.log_text())
        self.assertTrue(wait_for(lambda: d.metrics()["sync_entries_dropped_total"]
                                 > before["sync_entries_dropped_total"]), d.log_text())
        return d.metrics()

    def test_deleted_grant_is_refused_on_the_next_request(self):
        dn = self.grant("alice", "uid=bob," + PEOPLE, self.name("delete"))
        d = self.daemon()
        control = self.daemon(follow=False)  # the same change, TTL only
        c, cc = d.client(), control.client()
        self.assertEqual(c.ask("bob@example.com", "alice@example.com"), "DUNNO")
        self.assertEqual(cc.ask("bob@example.com", "alice@example.com"), "DUNNO")
        before = d.metrics()
        self.assertEqual(before["cache_hits_total"], 0)
        self.assertEqual(c.ask("bob@example.com", "alice@example.com"), "DUNNO")  # remembered
        ldap_apply(self.slapd, dn + "\n", tool="ldapdelete")
        self.wait_for_changes(d, before)
        self.assertTrue(c.ask("bob@example.com", "alice@example.com").startswith("REJECT 5.7.1"))
        # Without the follower the remembered answer stands for cache.ttl_s: this test can fail.
        self.assertEqual(cc.ask("bob@example.com", "alice@example.com"), "DUNNO")
        self.assertEqual(control.metrics()["sync_changes_total"], 0)
        self.assertTrue(d.logged("following LDAP changes on"))
        d.stop()  # SIGTERM: the follower's thread ends with the daemon
        self.assertEqual(d.proc.returncode, 0, d.log_text())
        self.assertIn("mailgrant-policyd: stopped", d.log_text())

    def test_burst_of_person_changes_is_coalesced_and_a_revocation_in_it_obeyed(self):
        # Every modify of a person with an address is a sync message (RFC 4533 filters
        # entries, not attributes). 100 of them in one ldapmodify, then a grant deleted:
        # far fewer clears than changes (ClearCoalescer), and the deletion still obeyed.
        dn = self.grant("alice", "uid=eve," + PEOPLE, self.name("burst"))
        d = self.daemon()
        c = d.client()
        self.assertEqual(c.ask("eve@example.com", "alice@example.com"), "DUNNO")
        before = d.metrics()
        burst = 100
        ldif = "".join("dn: uid=bob,%s\nchangetype: modify\nreplace: description\ndescription: burst %d\n\n"
                       % (PEOPLE, i) for i in range(burst))
        t0 = time.monotonic()
        ldap_apply(self.slapd, ldif + "dn: %s\nchangetype: delete\n" % dn)
        self.assertTrue(wait_for(lambda: d.metrics()["sync_changes_total"] >= before["sync_changes_total"] + burst + 1),
                        d.log_text())
        elapsed = time.monotonic() - t0  # every change arrived within it
        # The deletion may be covered by the trailing clear: asked until refused (bounded).
        self.assertTrue(wait_for(lambda: c.ask("eve@example.com", "alice@example.com").startswith("REJECT 5.7.1")))
        clears = d.metrics()["sync_invalidations_total"] - before["sync_invalidations_total"]
        self.assertGreaterEqual(clears, 1)
        # At most one clear per 100 ms window (change_feed.h, kCoalesce) while the burst
        # arrived, plus the first and the trailing one: bounded by how long slapd took to
        # write the burst (one fsync per change), not by a guess at its speed.
        self.assertLessEqual(clears, int(elapsed / 0.1) + 2,
                             "%d clears for %d changes in %.2f s: not coalesced" % (clears, burst + 1, elapsed))

    def test_person_removed_from_a_group_with_send_as(self):
        group = self.name("group")
        group_dn = "cn=%s,%s" % (group, GROUPS)
        ldap_apply(self.slapd, "dn: %s\nobjectClass: groupOfNames\ncn: %s\nmember: uid=carol,%s\nmember: uid=eve,%s\n"
                   % (group_dn, group, PEOPLE, PEOPLE), tool="ldapadd")
        self.grant("dave", group_dn, self.name("groupgrant"))
        d = self.daemon()
        c = d.client()
        self.assertEqual(c.ask("carol@example.com", "dave@example.com"), "DUNNO")
        self.assertEqual(c.ask("carol@example.com", "dave@example.com"), "DUNNO")
        before = d.metrics()
        ldap_apply(self.slapd, "dn: %s\nchangetype: modify\ndelete: member\nmember: uid=carol,%s\n" % (group_dn, PEOPLE))
        self.wait_for_changes(d, before)
        self.assertTrue(c.ask("carol@example.com", "dave@example.com").startswith("REJECT 5.7.1"))
        self.assertEqual(c.ask("eve@example.com", "dave@example.com"), "DUNNO")  # still a member

    def test_grant_becoming_pending_is_refused(self):
        dn = self.grant("carol", "uid=bob," + PEOPLE, self.name("pending"))
        d = self.daemon()
        c = d.client()
        self.assertEqual(c.ask("bob@example.com", "carol@example.com"), "DUNNO")
        before = d.metrics()
        ldap_apply(self.slapd, "dn: %s\nchangetype: modify\nadd: mailGrantPending\nmailGrantPending: TRUE\n" % dn)
        self.wait_for_changes(d, before)
        self.assertTrue(c.ask("bob@example.com", "carol@example.com").startswith("REJECT 5.7.1"))

    def test_sync_connection_cut_then_back(self):
        # A slapd of its own: it is stopped and started again on the same port and data.
        slapd = Slapd(os.path.join(self.workdir, "slapd-restart"), syncprov=True).start()
        try:
            slapd.load_ldif(os.path.join(FIXTURES, "org.ldif"))
            d = self.daemon(slapd=slapd)
            self.assertTrue(wait_for(lambda: d.metrics().get("sync_up") == 1), d.log_text())
            c = d.client()
            self.assertEqual(c.ask("bob@example.com", "support@example.com"), "DUNNO")
            slapd._kill()  # the server goes away; its database stays
            self.assertTrue(d.logged("change feed: sync connection to %s lost" % slapd.uri), d.log_text())
            self.assertEqual(d.metrics()["sync_up"], 0)
            self.assertEqual(c.ask("bob@example.com", "support@example.com"), "DUNNO")  # from the cache
            self.assertTrue(c.ask("eve@example.com", "eve@example.com").startswith("DEFER"))  # LDAP down: 4xx
            self.assertEqual(d.log_text().count("sync connection to"), 1)  # one line per outage
            self.assertTrue(slapd._spawn(False), "slapd did not come back")
            # The feed's retry delay doubles while the server is away (0.25 s up to 30 s):
            # after a long outage on a slow machine the next try can be 30 s off.
            self.assertTrue(d.logged("following LDAP changes on %s again" % slapd.uri, timeout_s=60), d.log_text())
            self.assertGreaterEqual(d.metrics()["sync_reconnects_total"], 1)
            before = d.metrics()
            self.assertEqual(c.ask("bob@example.com", "support@example.com"), "DUNNO")
            ldap_apply(slapd, "dn: cn=support-team,%s\nchangetype: modify\ndelete: member\nmember: uid=bob,%s\n"
                       % (GROUPS, PEOPLE))
            self.wait_for_changes(d, before)
            self.assertTrue(c.ask("bob@example.com", "support@example.com").startswith("REJECT 5.7.1"))
        finally:
            slapd.stop()

    def test_change_made_while_the_sync_connection_is_down_is_obeyed_after_it_is_back(self):
        # slapd stopped, the directory changed offline with slapmodify (no sync message can
        # carry it), slapd started again on the same port and data: the clear made when the
        # refresh completes is what drops the cached DUNNO (the TTL is 300 s).
        slapd = Slapd(os.path.join(self.workdir, "slapd-offline"), syncprov=True).start()
        try:
            slapd.load_ldif(os.path.join(FIXTURES, "org.ldif"))
            d = self.daemon(slapd=slapd)
            self.assertTrue(wait_for(lambda: d.metrics().get("sync_up") == 1), d.log_text())
            c = d.client()
            self.assertEqual(c.ask("bob@example.com", "support@example.com"), "DUNNO")
            self.assertEqual(c.ask("bob@example.com", "support@example.com"), "DUNNO")  # remembered
            slapd._kill()
            self.assertTrue(d.logged("change feed: sync connection to %s lost" % slapd.uri), d.log_text())
            before = d.metrics()
            slapd._run([SLAPMODIFY, "-f", slapd.conf_path],  # LDIF on stdin
                       input_text="dn: cn=support-team,%s\nchangetype: modify\ndelete: member\nmember: uid=bob,%s\n"
                       % (GROUPS, PEOPLE))
            self.assertEqual(c.ask("bob@example.com", "support@example.com"), "DUNNO")  # still cached
            self.assertTrue(slapd._spawn(False), "slapd did not come back")
            # The feed's retry delay doubles while the server is away (0.25 s up to 30 s):
            # after a long outage on a slow machine the next try can be 30 s off.
            self.assertTrue(d.logged("following LDAP changes on %s again" % slapd.uri, timeout_s=60), d.log_text())
            self.assertTrue(c.ask("bob@example.com", "support@example.com").startswith("REJECT 5.7.1"))
            after = d.metrics()
            self.assertEqual(after["sync_refreshes_total"], before["sync_refreshes_total"] + 1)
            self.assertEqual(after["sync_changes_total"], before["sync_changes_total"])  # not a change message
            self.assertGreater(after["sync_entries_dropped_total"], before["sync_entries_dropped_total"])
        finally:
            slapd.stop()

    def test_hung_server_is_noticed_by_a_probe_and_followed_again(self):
        # SIGSTOP: the connection stays open and silent; the quiet-time probe finds it.
        slapd = Slapd(os.path.join(self.workdir, "slapd-hung"), syncprov=True).start()
        try:
            slapd.load_ldif(os.path.join(FIXTURES, "org.ldif"))
            d = self.daemon(slapd=slapd)
            self.assertTrue(wait_for(lambda: d.metrics().get("sync_up") == 1), d.log_text())
            c = d.client()
            self.assertEqual(c.ask("bob@example.com", "support@example.com"), "DUNNO")
            slapd.pause()
            try:
                self.assertTrue(d.logged("no answer to a probe", timeout_s=30), d.log_text())
                self.assertEqual(c.ask("bob@example.com", "support@example.com"), "DUNNO")  # from the cache
            finally:
                slapd.resume()
            self.assertTrue(d.logged("following LDAP changes on %s again" % slapd.uri, timeout_s=60), d.log_text())
            self.assertEqual(d.log_text().count("sync connection to"), 1)  # one line per outage
            before = d.metrics()
            self.assertGreaterEqual(before["sync_reconnects_total"], 1)
            self.assertEqual(c.ask("bob@example.com", "support@example.com"), "DUNNO")  # cached again
            ldap_apply(slapd, "dn: cn=support-team,%s\nchangetype: modify\ndelete: member\nmember: uid=bob,%s\n"
                       % (GROUPS, PEOPLE))
            self.wait_for_changes(d, before)
            self.assertTrue(c.ask("bob@example.com", "support@example.com").startswith("REJECT 5.7.1"))
        finally:
            slapd.resume()
            slapd.stop()

    def test_answers_outlive_the_ttl_while_followed_and_the_ttl_is_the_backstop_when_not(self):
        # cache.ttl_s 1, cache.follow_ttl_s 300. Followed, a cached answer is still used
        # after the TTL (cache_followed_hits_total counts exactly those: no LDAP search);
        # the daemon without the follower fetches again. Then the server goes away: the
        # same entries and the remembered decision, past their TTL, are not used (LDAP
        # down: 4xx), where the followed daemon used them a moment before.
        slapd = Slapd(os.path.join(self.workdir, "slapd-backstop"), syncprov=True).start()
        try:
            slapd.load_ldif(os.path.join(FIXTURES, "org.ldif"))
            short = {"ttl_s": 1, "negative_ttl_s": 1, "follow_ttl_s": 300}
            d = self.daemon(slapd=slapd, cache=dict(short, follow_changes="true"))
            control = self.daemon(slapd=slapd, cache=dict(short, follow_changes="false"))
            self.assertTrue(wait_for(lambda: d.metrics().get("sync_up") == 1), d.log_text())
            self.assertTrue(d.logged("kept up to cache.follow_ttl_s (300 s)"), d.log_text())
            c, cc = d.client(), control.client()
            self.assertEqual(c.ask("bob@example.com", "support@example.com"), "DUNNO")
            self.assertEqual(cc.ask("bob@example.com", "support@example.com"), "DUNNO")
            time.sleep(1.5)  # past cache.ttl_s (the one wait that is about time: the TTL itself)
            before, before_control = d.metrics(), control.metrics()
            # Another sender for the same login: a new decision, from bob's kept entries.
            answer = c.ask("bob@example.com", "alice@example.com")
            self.assertTrue(answer.startswith("REJECT 5.7.1"), answer)
            self.assertEqual(cc.ask("bob@example.com", "alice@example.com"), answer)
            after, after_control = d.metrics(), control.metrics()
            self.assertGreater(after["cache_followed_hits_total"], before["cache_followed_hits_total"])
            fetched = after["cache_misses_total"] - before["cache_misses_total"]
            fetched_control = after_control["cache_misses_total"] - before_control["cache_misses_total"]
            self.assertLess(fetched, fetched_control, "followed: bob's login and groups were kept, not fetched")
            self.assertEqual(after_control["cache_followed_hits_total"], 0)
            # The server goes away: following ends, and cache.ttl_s bounds every answer again.
            slapd._kill()
            self.assertTrue(d.logged("change feed: sync connection to %s lost" % slapd.uri), d.log_text())
            self.assertTrue(c.ask("bob@example.com", "support@example.com").startswith("DEFER"),
                            "an answer past cache.ttl_s was used while the feed was down")
        finally:
            slapd.stop()

    def test_server_without_syncprov_falls_back_to_the_ttl(self):
        slapd = Slapd(os.path.join(self.workdir, "slapd-plain")).start()
        try:
            slapd.load_ldif(os.path.join(FIXTURES, "org.ldif"))
            d = self.daemon(slapd=slapd)
            self.assertTrue(d.logged("refuses RFC 4533 sync"), d.log_text())
            m = d.metrics()
            self.assertEqual((m["sync_unsupported"], m["sync_up"]), (1, 0))
            c = d.client()
            self.assertEqual(c.ask("bob@example.com", "support@example.com"), "DUNNO")
            self.assertTrue(c.ask("eve@example.com", "support@example.com").startswith("REJECT 5.7.1"))
            self.assertEqual(d.log_text().count("refuses RFC 4533 sync"), 1)
            self.assertEqual(d.log_text().count("sync connection"), 0)  # not an outage
        finally:
            slapd.stop()


if __name__ == "__main__":
    unittest.main()
