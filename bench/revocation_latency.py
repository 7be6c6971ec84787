#!/usr/bin/env python3
"""Revocation latency of the policy check, with and without the LDAP change follower
(issue 19, bench d), in one run.

A real slapd with the syncprov overlay (tests/harness) and two mailgrant-policyd daemons
side by side: one follows LDAP changes (cache.follow_changes: true, cache.ttl_s 300), the
baseline does not and keeps answers 1 s (follow_changes: false, ttl_s 1, negative_ttl_s
1). For each of N revocations a sendAs grant (alice's, to bob) is added, both daemons
answer DUNNO for bob sending as alice (and remember it), the grant is deleted with
ldapdelete, and each daemon is asked again over its policy socket until it answers
REJECT: the time from the delete's return to that first REJECT is the latency. Prints
p50/p99 for both, the ratio of the p99s (follower / baseline) and the goal (p99 <= 1 s).

usage: bench/revocation_latency.py BUILD_DIR [REVOCATIONS]   (as root; default 100)
"""
import os
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


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100
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
        print("revocations: %d (grant deleted with ldapdelete -> first REJECT 5.7.1 on the policy socket)" % n)
        for name in cases:
            print("%-9s p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms" % (
                name, 1000 * percentile(latencies[name], 50), 1000 * percentile(latencies[name], 99),
                1000 * max(latencies[name])))
        print("follower counters: sync_changes_total %d, sync_entries_dropped_total %d" % (
            m["sync_changes_total"], m["sync_entries_dropped_total"]))
        p99_f, p99_b = percentile(latencies["follower"], 99), percentile(latencies["baseline"], 99)
        print("ratio p99 follower / baseline (follow_changes off, cache.ttl_s 1): %.3f" % (p99_f / p99_b))
        print("goal: follower p99 <= 1 s (with cache.ttl_s 300): %s" % ("met" if p99_f <= 1.0 else "NOT met"))
        return 0 if p99_f <= 1.0 else 1
    finally:
        for d in daemons:
            d.stop()
        slapd.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
