#!/usr/bin/env python3
"""Revocation latency (issue 19, bench d): a deleted grant is obeyed by the policy check
and by an already open IMAP session, each against a baseline measured in the same run.

Policy half. A real slapd with the syncprov overlay (tests/harness) and two mailgrant-policyd daemons
side by side: one follows LDAP changes (cache.follow_changes: true, cache.ttl_s 300), the
baseline does not and keeps answers 1 s (follow_changes: false, ttl_s 1, negative_ttl_s
1). For each of N revocations a sendAs grant (alice's, to bob) is added, both daemons
answer DUNNO for bob sending as alice (and remember it), the grant is deleted with
ldapdelete, and each daemon is asked again over its policy socket until it answers
REJECT: the time from the delete's return to that first REJECT is the latency. Prints
p50/p99 for both, the ratio of the p99s (follower / baseline) and the goal (p99 <= 1 s).

IMAP half. A real slapd with syncprov and two private Dovecots loading the built plugin
through the shipped drop-in (tests/harness), with alice's folder Board on each:
  service   its mailgrant.yaml has service.listen (service.memo_ms 500 as shipped,
            cache.ttl_s 300): the plugin asks the decision service of a mailgrant-policyd
            started here, which follows LDAP changes and empties its cache on each;
  baseline  no service section: every imap process asks LDAP itself, cache.ttl_s 1,
            negative_ttl_s 1 (the fastest a plugin without the service obeys a change).
bob keeps one IMAP session open on each Dovecot for the whole run. For each of N
revocations a folder grant (alice's Board, reader, to bob) is added and both sessions
repeat MYRIGHTS "shared/alice@example.com/Board" every POLL_IMAP_S (a busy client) until
it shows the read right and on; after a random 0-1.2 s (so the client's memo and cache
entries have a random age when the grant goes, as with a real client) the grant is
deleted with ldapdelete, and each session goes on until MYRIGHTS is refused (NO, or no
read right): the time from the delete's return to that answer is the latency. Prints
p50/p99 for both, the ratio of the p99s (service / baseline), the goal (service p99 <=
1 s) and the service's counters (proof that the follower saw each change). A refusal
while the grant still exists is a wrong answer: counted and printed with when it
happened, that revocation is left out of that side's latencies, and the exit status is 1.

usage: bench/revocation_latency.py [BUILD_DIR] [REVOCATIONS] [--half policy|imap|both]
       (as root; default: build/, 100 revocations, both halves; exit 1 when a goal is missed)
"""
import argparse
import imaplib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
sys.path.insert(0, os.path.join(ROOT, "tests", "postfix-policyd"))
from slapd_sandbox import Slapd  # noqa: E402

POLL_S = 0.005      # between two requests while waiting for the REJECT
GIVE_UP_S = 10.0    # a revocation not obeyed within this is reported as a failure
GRANT = "cn=bench-rev-%d,uid=alice,ou=people,dc=example,dc=com"


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))]


def ldap(slapd, tool, text):
    subprocess.run([tool, "-x", "-H", slapd.uri, "-D", slapd.rootdn, "-w", slapd.rootpw],
                   input=text.encode(), check=True, capture_output=True, timeout=20)


def wait_answer(client, prefix, start):
    """Asks until the answer starts with `prefix`; returns seconds since `start`."""
    while True:
        if client.ask("bob@example.com", "alice@example.com").startswith(prefix):
            return time.monotonic() - start
        if time.monotonic() - start > GIVE_UP_S:
            raise RuntimeError("no %s within %.0f s" % (prefix, GIVE_UP_S))
        time.sleep(POLL_S)


def policy_half(build, n):
    os.environ.setdefault("MAILGRANT_POLICYD", os.path.join(build, "postfix-policyd", "mailgrant-policyd"))
    from test_policyd import FIXTURES, Daemon  # noqa: E402 -- reads MAILGRANT_POLICYD at import

    work = tempfile.mkdtemp(prefix="mailgrant-bench-revocation-")
    os.chmod(work, 0o755)
    slapd = Slapd(os.path.join(work, "slapd"), syncprov=True).start()
    daemons = []
    try:
        slapd.load_ldif(os.path.join(FIXTURES, "org.ldif"))
        cases = {"follower": {"ttl_s": 300, "negative_ttl_s": 300, "follow_changes": "true"},
                 "baseline": {"ttl_s": 1, "negative_ttl_s": 1, "follow_changes": "false"}}
        clients = {}
        for name, cache in cases.items():
            d = Daemon(tempfile.mkdtemp(dir=work), slapd)
            os.chmod(d.workdir, 0o755)
            d.cache = cache
            daemons.append(d)
            d.start()
            clients[name] = d.client()
        follower = daemons[0]
        deadline = time.monotonic() + 10
        while follower.metrics().get("sync_up") != 1:
            if time.monotonic() > deadline:
                raise RuntimeError("the follower did not start following: " + follower.log_text())
            time.sleep(0.05)
        latencies = {name: [] for name in cases}
        for i in range(n):
            ldap(slapd, "ldapadd", "dn: %s\nobjectClass: mailGrant\ncn: bench-rev-%d\n"
                 "mailGrantee: uid=bob,ou=people,dc=example,dc=com\nmailGrantSend: sendAs\n" % (GRANT % i, i))
            for c in clients.values():
                wait_answer(c, "DUNNO", time.monotonic())
                c.ask("bob@example.com", "alice@example.com")  # remembered now
            ldap(slapd, "ldapdelete", GRANT % i + "\n")
            start = time.monotonic()
            results, errors = {}, []

            def measure(name):
                try:
                    results[name] = wait_answer(clients[name], "REJECT", start)
                except Exception as e:  # noqa: BLE001 -- reported below
                    errors.append("%s: %r" % (name, e))

            threads = [threading.Thread(target=measure, args=(name,)) for name in cases]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=GIVE_UP_S + 5)
            if errors:
                raise RuntimeError("revocation %d: %s" % (i, errors))
            for name, value in results.items():
                latencies[name].append(value)
        m = follower.metrics()
        print("policy: revocations: %d (grant deleted with ldapdelete -> first REJECT 5.7.1 on the policy socket)" % n)
        for name in cases:
            print("%-9s p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms" % (
                name, 1000 * percentile(latencies[name], 50), 1000 * percentile(latencies[name], 99),
                1000 * max(latencies[name])))
        print("follower counters: sync_changes_total %d, sync_entries_dropped_total %d" % (
            m["sync_changes_total"], m["sync_entries_dropped_total"]))
        p99_f, p99_b = percentile(latencies["follower"], 99), percentile(latencies["baseline"], 99)
        print("ratio p99 follower / baseline (follow_changes off, cache.ttl_s 1): %.3f" % (p99_f / p99_b))
        print("policy goal: follower p99 <= 1 s (with cache.ttl_s 300): %s" % ("met" if p99_f <= 1.0 else "NOT met"))
        return 0 if p99_f <= 1.0 else 1
    finally:
        for d in daemons:
            d.stop()
        slapd.stop()
        shutil.rmtree(work, ignore_errors=True)


# ---- IMAP half -------------------------------------------------------------------------
POLL_IMAP_S = 0.01   # between two MYRIGHTS while waiting for the refusal
FOLDER = "Board"
SHARED = '"shared/alice@example.com/%s"' % FOLDER
IMAP_GRANT = "cn=bench-imap-%d,uid=alice,ou=people,dc=example,dc=com"


def read_allowed(imap):
    """MYRIGHTS on alice's shared folder: True when the read right is there, False when
    refused (NO, or rights without r)."""
    try:
        typ, data = imap.myrights(SHARED)
    except imaplib.IMAP4.error:   # imaplib raises on NO/BAD for some commands
        return False
    if typ != "OK" or not data or data[0] is None:
        return False
    rights = data[0].decode().rsplit(" ", 1)[-1]
    return "r" in rights


def wait_imap(imap, allowed, start):
    """Repeats MYRIGHTS until read_allowed() == allowed; seconds since `start`."""
    while True:
        if read_allowed(imap) == allowed:
            return time.monotonic() - start
        if time.monotonic() - start > GIVE_UP_S:
            raise RuntimeError("MYRIGHTS not %s within %.0f s" % ("allowed" if allowed else "refused", GIVE_UP_S))
        time.sleep(POLL_IMAP_S)


def imap_half(build, n):
    os.environ.setdefault("MAILGRANT_DOVECOT_PLUGIN", os.path.join(build, "dovecot-plugin", "lib20_mailgrant_plugin.so"))
    os.environ.setdefault("MAILGRANT_CHECKPASSWORD", os.path.join(build, "dovecot-plugin", "mailgrant-checkpassword"))
    from mail_sandbox import MailStack, dovecot_version  # noqa: E402
    from mailgrant_setup import (CHECKPASSWORD, PLUGIN, assert_dovecot_log_clean,  # noqa: E402
                                 dovecot_conf_with_plugin, write_config)
    from policyd_process import Policyd  # noqa: E402 -- tests/harness
    policyd_binary = os.environ.get("MAILGRANT_POLICYD", os.path.join(build, "postfix-policyd", "mailgrant-policyd"))

    work = tempfile.mkdtemp(prefix="mailgrant-bench-revocation-imap-")
    os.chmod(work, 0o755)
    slapd, stacks, policyd, sessions = None, {}, None, {}
    try:
        slapd = Slapd(os.path.join(work, "slapd"), syncprov=True).start()
        slapd.load_ldif(os.path.join(ROOT, "tests", "fixtures", "org.ldif"))
        run = os.path.join(work, "run")
        os.makedirs(run)
        os.chmod(run, 0o755)
        configs = {"service": write_config(os.path.join(work, "etc-service"), slapd, 300, 300,
                                           "service:\n  listen: unix:%s/service\n" % run),
                   "baseline": write_config(os.path.join(work, "etc-baseline"), slapd, 1, 1)}
        policyd = Policyd(configs["service"], work, binary=policyd_binary).start()
        if not policyd.wait_following():
            raise RuntimeError("the service does not follow LDAP changes: " + policyd.text())
        for side, config in configs.items():
            mail_dir = os.path.join(work, "mail-" + side)
            os.mkdir(mail_dir)
            os.chmod(mail_dir, 0o755)
            stack = MailStack(mail_dir, slapd.uri, slapd.base)
            stack.dovecot_extra_conf = dovecot_conf_with_plugin(os.path.dirname(config), PLUGIN, config,
                                                                stack.dovecot_ldap_conf_path, CHECKPASSWORD)
            stack.start()
            stacks[side] = stack
            imap = imaplib.IMAP4("127.0.0.1", stack.imap_port, timeout=30)
            imap.login("alice@example.com", "alice-pw")
            if imap.create(FOLDER)[0] != "OK":
                raise RuntimeError("%s: alice cannot create %s" % (side, FOLDER))
            imap.append(FOLDER, None, None, b"Subject: minutes\r\n\r\nx\r\n")
            imap.logout()
            sessions[side] = imaplib.IMAP4("127.0.0.1", stack.imap_port, timeout=30)
            sessions[side].login("bob@example.com", "bob-pw")
        before = policyd.metrics()
        latencies = {side: [] for side in sessions}
        hold = random.Random(19)
        flaps = {side: [] for side in sessions}
        for i in range(n):
            ldap(slapd, "ldapadd", "dn: %s\nobjectClass: mailGrant\ncn: bench-imap-%d\n"
                 "mailGrantee: uid=bob,ou=people,dc=example,dc=com\nmailGrantFolder: %s\n"
                 "mailGrantRights: reader\n" % (IMAP_GRANT % i, i, FOLDER))
            allowed = {side: threading.Event() for side in sessions}
            deleted = [None]   # time.monotonic() when ldapdelete returned
            results, errors = {}, []

            def client(side):
                """A busy session: MYRIGHTS every POLL_IMAP_S from the grant's add until the
                first refusal after the delete, so the memo / cache entry in use when the
                grant goes has a random age, as with a real client."""
                imap = sessions[side]
                try:
                    wait_imap(imap, True, time.monotonic())
                    allowed[side].set()
                    allowed_at, flapped = time.monotonic(), False
                    while True:
                        ok = read_allowed(imap)
                        start = deleted[0]
                        if start is not None and not ok:
                            results[side] = None if flapped else time.monotonic() - start
                            return
                        if start is None and not ok and not flapped:
                            # Refused while the grant exists: a wrong answer, counted and
                            # reported; this revocation is not timed for this side.
                            flapped = True
                            flaps[side].append("revocation %d, %.0f ms after the first allowed answer"
                                               % (i, 1000 * (time.monotonic() - allowed_at)))
                        if start is not None and time.monotonic() - start > GIVE_UP_S:
                            raise RuntimeError("still allowed %.0f s after the delete" % GIVE_UP_S)
                        time.sleep(POLL_IMAP_S)
                except Exception as e:  # noqa: BLE001 -- reported below
                    allowed[side].set()
                    errors.append("%s: %r" % (side, e))

            threads = [threading.Thread(target=client, args=(side,)) for side in sessions]
            for t in threads:
                t.start()
            for event in allowed.values():
                event.wait(GIVE_UP_S + 5)
            # A random moment within the longest memory in play (baseline cache.ttl_s 1).
            time.sleep(hold.uniform(0, 1.2))
            if not errors:
                ldap(slapd, "ldapdelete", IMAP_GRANT % i + "\n")
                deleted[0] = time.monotonic()
            else:
                deleted[0] = time.monotonic() - GIVE_UP_S   # let the threads end
            for t in threads:
                t.join(timeout=GIVE_UP_S + 5)
            if errors:
                raise RuntimeError("revocation %d: %s" % (i, errors))
            for side, value in results.items():
                if value is not None:
                    latencies[side].append(value)
        m = policyd.metrics()
        v = dovecot_version()
        print("imap (Dovecot %d.%d): revocations: %d (grant deleted with ldapdelete -> first refused MYRIGHTS "
              "%s in bob's open session, polled every %.0f ms)" % (v[0], v[1], n, SHARED, 1000 * POLL_IMAP_S))
        for side in latencies:
            print("%-9s p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms  (%d timed)" % (
                side, 1000 * percentile(latencies[side], 50), 1000 * percentile(latencies[side], 99),
                1000 * max(latencies[side]), len(latencies[side])))
            if flaps[side]:
                print("%-9s WRONG: refused while the grant existed %d times: %s"
                      % (side, len(flaps[side]), "; ".join(flaps[side][:5])))
        print("service counters during the revocations: %s" % ", ".join(
            "%s +%d" % (k, m[k] - before.get(k, 0)) for k in sorted(m)
            if k.startswith(("service_", "sync_")) and m[k] != before.get(k, 0)))
        p99_s, p99_b = percentile(latencies["service"], 99), percentile(latencies["baseline"], 99)
        print("ratio p99 service / baseline (plugin asks LDAP itself, cache.ttl_s 1): %.3f" % (p99_s / p99_b))
        print("imap goal: service p99 <= 1 s (with cache.ttl_s 300): %s" % ("met" if p99_s <= 1.0 else "NOT met"))
        for side, stack in stacks.items():
            assert_dovecot_log_clean(stack.dovecot_log_path)
        return 0 if p99_s <= 1.0 and not any(flaps.values()) else 1
    finally:
        for imap in sessions.values():
            try:
                imap.logout()
            except (imaplib.IMAP4.error, OSError):
                pass
        if policyd is not None:
            policyd.stop()
        for stack in stacks.values():
            try:
                stack.stop()
            except Exception as e:  # noqa: BLE001 - clean up the rest anyway
                print("cleanup: %s" % e, file=sys.stderr)
        if slapd is not None:
            slapd.stop()
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build", nargs="?", default=os.path.join(ROOT, "build"))
    ap.add_argument("revocations", nargs="?", type=int, default=100)
    ap.add_argument("--half", choices=("policy", "imap", "both"), default="both")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    status = 0
    if args.half in ("policy", "both"):
        status |= policy_half(build, args.revocations)
    if args.half in ("imap", "both"):
        status |= imap_half(build, args.revocations)
    return status


if __name__ == "__main__":
    sys.exit(main())
