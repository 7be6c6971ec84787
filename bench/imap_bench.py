#!/usr/bin/env python3
"""IMAP benchmarks of the Dovecot plugin (issue 19, benches a-c), each a ratio against
stock Dovecot measured in the same run, against real Dovecot (2.3 or 2.4: whichever is
installed) on 127.0.0.1.

One private slapd with the syncprov overlay (tests/harness; mailgrant binds as a service
account with the `limits` line ldap-schema/README.md gives sites that follow changes, as
in tests/dovecot-plugin/test_login_search_count.py) and three private Dovecots side by
side, all running the whole time:
  grant    the built plugin through the shipped drop-in (mailgrant_setup), rights from LDAP
           grants, "who shares with me" from mailgrant's dict; every imap process asks
           LDAP itself (no service section in its mailgrant.yaml);
  service  the same plugin and drop-in, a Dovecot of its own whose mailgrant.yaml has
           service.listen: the plugin and checkpassword ask the decision service that a
           mailgrant-policyd started by this script serves there (one cache and LDAP
           pool for the host, following LDAP changes over syncprov); the defaults
           (service.memo_ms 500, cache.ttl_s 30) otherwise;
  stock  the same configuration without mailgrant: acl + imap_acl + last_login plugins,
         the same shared namespace, acl = vfile with a dovecot-acl file in the owner's
         folder, and an acl_shared_dict file (2.4: acl_sharing_map dict file) listing
         the shares, so the folder appears in the shared namespace. mailgrant's master
         passdb (per-collaborator logins) is left out: Dovecot asks it only for
         "owner*user" logins, which nothing here does.

 (a) benchreader reads benchowner's folder Team (rights lrs: a `reader` grant / a
     dovecot-acl line) with WORKERS processes of imaplib clients; login-heavy: LOGIN,
     SELECT, FETCH the From/Subject/Date of 5 messages, LOGOUT, repeat; session-heavy:
     one LOGIN, then SELECT, FETCH, NOOP, repeat. Cycles per second, grant / stock and
     service / stock, goal >= 0.95.
 (b) LOGIN + LIST "" "*" + LOGOUT, one client, for users u10, u100, u1000 with N
     owners (sharer-0 ... sharer-N-1) each sharing their INBOX with them. Seconds per
     LOGIN + LIST, grant / stock and service / stock, goal <= 1.0; LDAP searches per
     LOGIN + LIST counted in slapd's stats log (" SRCH base=" lines) for all three (the
     service side's are policyd's: none while its cache holds the answers). Each user's first LIST is
     timed apart and not counted in the ratio (with the plugin, Dovecot's ACL plugin
     writes each owner's dovecot-acl-list then; the stock side has them already, as
     `doveadm acl set` leaves them: see write_acl).
 (c) benchsolo, who has no share, reads their own INBOX: the (a) workloads on INBOX,
     with the plugin (asking LDAP itself, or the service) / without, goal >= 0.97.
(a) and (b) also print the service's questions per cycle (its service_questions_total
counter, read from policyd's stats endpoint): what the plugin asked over the socket.
(a), (b) and (c) also print the CPU milliseconds each cycle cost the servers, from /proc:
the side's Dovecot (its master, the children it reaped -- the per-login imap processes --
and the live ones: login, auth, ...), slapd, and on the service side mailgrant-policyd:
where a gap in cycles/s goes (the client processes are the same for every side).
Rounds alternate the sides (the order rotated every round) and each side is summed over
its rounds, so drift on a shared machine hits all alike; the verdict is the ratio of those
sums, and each ratio also prints its range and median over the rounds taken one by one
(on a 2-core VM the same build moves by 10% from one phase to the next, so a ratio near
its goal is read with that range). 12 rounds by default: with 5, one slow phase moved a
verdict by several percent (session 16: (c) session-heavy 0.922 with the service, while
the plugin without it gave 0.979 in the same run; 0.995 over 12 rounds in session 17,
where neither asks anything). Searches are counted per side
while only that side runs; the service side's also include the follower's (one sync
search at start, none per change).

The service side is a Dovecot of its own (not the grant one with a second YAML): the
drop-in names one mailgrant.yaml per Dovecot, and separate Dovecots keep each side's
processes and caches apart. mailgrant-policyd is BUILD_DIR/postfix-policyd/mailgrant-policyd
(or $MAILGRANT_POLICYD), run as nobody.

usage: bench/imap_bench.py [BUILD_DIR] [--workers 4] [--seconds 3] [--rounds 12]
                           [--sharers 10,100,1000] [--list-timeout 120] [--dir DIR]
                           [--parts abc]   (as root)
(b) runs last: a LOGIN + LIST that does not finish within --list-timeout is reported as
such (goal missed) and its Dovecot process may still be working when the run ends.
Exit status 1 when a goal is missed.
"""
import argparse
import imaplib
import multiprocessing
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
from policyd_process import Policyd  # noqa: E402 -- the one the service test uses
from mail_sandbox import _read_pid  # noqa: E402 -- the master.pid reader the harness uses
from imap_bench_stack import (LIMITS, READER, RIGHTS, SERVICE_DN, SERVICE_PW,  # noqa: E402
                              SHARED, SOLO, _stat_ticks, bench_ldif, dovecot_cpu_s, fill_mail, reaped_faults,
                              fs_type, password, sandbox_parent, searches_during, stock_conf)

SIDES = ("stock", "grant", "service")
FETCH = ("1:5", "(BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])")


# ---- workloads ------------------------------------------------------------------------
def check(typ, data, what):
    if typ != "OK":
        raise RuntimeError("%s: %s %r" % (what, typ, data))


def select_fetch(imap, mailbox):
    check(*imap.select('"%s"' % mailbox), what="SELECT " + mailbox)
    typ, data = imap.fetch(*FETCH)
    check(typ, data, "FETCH")
    if sum(1 for part in data if isinstance(part, tuple)) != 5:
        raise RuntimeError("FETCH returned %r" % (data,))


def worker(port, user, mailbox, mode, start_at, stop_at, results):
    """Cycles completed between start_at and stop_at (time.time()), or an error text."""
    count = 0
    try:
        time.sleep(max(0.0, start_at - time.time()))
        if mode == "login":
            while time.time() < stop_at:
                imap = imaplib.IMAP4("127.0.0.1", port, timeout=30)
                check(*imap.login(user, password(user)), what="LOGIN " + user)
                select_fetch(imap, mailbox)
                imap.logout()
                if time.time() <= stop_at:
                    count += 1
        else:
            imap = imaplib.IMAP4("127.0.0.1", port, timeout=30)
            check(*imap.login(user, password(user)), what="LOGIN " + user)
            while time.time() < stop_at:
                select_fetch(imap, mailbox)
                check(*imap.noop(), what="NOOP")
                if time.time() <= stop_at:
                    count += 1
            imap.logout()
        results.put(count)
    except Exception as e:  # noqa: BLE001 -- reported by the parent
        results.put("%s: %r" % (user, e))


def run_phase(port, user, mailbox, mode, workers, seconds):
    results = multiprocessing.Queue()
    start_at = time.time() + 0.3
    procs = [multiprocessing.Process(target=worker, args=(port, user, mailbox, mode, start_at,
                                                          start_at + seconds, results))
             for _ in range(workers)]
    for p in procs:
        p.start()
    out = [results.get(timeout=seconds + 60) for _ in procs]
    for p in procs:
        p.join(timeout=10)
    errors = [x for x in out if isinstance(x, str)]
    if errors:
        raise RuntimeError("workers failed: %s" % errors)
    return sum(out)


def alternate(rounds, measure):
    """(sums, per round): measure(side) summed over the rounds for every side, and each
    round's {side: value}; the order is rotated and reversed from round to round, so
    each side runs first, in the middle and last."""
    total = {side: 0.0 for side in SIDES}
    each = []
    for r in range(rounds):
        order = SIDES[r % len(SIDES):] + SIDES[:r % len(SIDES)]
        each.append({})
        for side in (order if r % 2 == 0 else tuple(reversed(order))):
            each[-1][side] = measure(side)
            total[side] += each[-1][side]
    return total, each


def spread(each, side):
    """"per round 0.91-1.02, median 0.96": side/stock in each round alone. The verdict
    is the ratio of the sums; this shows how far one round's machine noise reaches."""
    r = sorted(x[side] / x["stock"] for x in each if x["stock"] > 0)
    if not r:
        return "no round"
    mid = len(r) // 2
    median = r[mid] if len(r) % 2 else (r[mid - 1] + r[mid]) / 2
    return "per round %.3f-%.3f, median %.3f" % (r[0], r[-1], median)


def login_list(port, user, timeout=300, list_times=None):
    """LOGIN + LIST "" "*" + LOGOUT; the selectable names under shared/ (an owner's
    shared INBOX is listed as shared/<owner>). The LIST command's own seconds are
    appended to list_times when given."""
    imap = imaplib.IMAP4("127.0.0.1", port, timeout=timeout)
    check(*imap.login(user, password(user)), what="LOGIN " + user)
    t0 = time.perf_counter()
    typ, data = imap.list('""', "*")
    if list_times is not None:
        list_times.append(time.perf_counter() - t0)
    check(typ, data, "LIST")
    imap.logout()
    out = []
    for line in data:
        m = re.match(rb'\((.*?)\) "(.)" (.*)', line)
        name = m.group(3).decode().strip('"')
        if name.startswith("shared/") and b"\\Noselect" not in m.group(1):
            out.append(name)
    return out


def verdict(ok):
    return "met" if ok else "NOT met"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build", nargs="?", default=os.path.join(ROOT, "build"))
    ap.add_argument("--workers", type=int, default=4, help="client processes in (a) and (c)")
    ap.add_argument("--seconds", type=float, default=3.0, help="per measured phase")
    ap.add_argument("--rounds", type=int, default=12, help="alternating rounds per measurement")
    ap.add_argument("--sharers", default="10,100,1000", help="the N of (b)")
    ap.add_argument("--parts", default="abc", help="which benches run: any of a, b, c (default all)")
    ap.add_argument("--list-timeout", type=float, default=120.0, help="seconds for one LOGIN + LIST in (b)")
    ap.add_argument("--dir", help="where the sandboxes (mail stores included) go; default: the temporary "
                    "directory, or /var/tmp when that is a tmpfs (see fs_type)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    sharer_ns = sorted(int(x) for x in args.sharers.split(",") if x)
    os.environ.setdefault("MAILGRANT_DOVECOT_PLUGIN", os.path.join(build, "dovecot-plugin", "lib20_mailgrant_plugin.so"))
    os.environ.setdefault("MAILGRANT_CHECKPASSWORD", os.path.join(build, "dovecot-plugin", "mailgrant-checkpassword"))
    policyd_binary = os.environ.get("MAILGRANT_POLICYD", os.path.join(build, "postfix-policyd", "mailgrant-policyd"))
    from mail_sandbox import MailStack, dovecot_version  # noqa: E402
    from mailgrant_setup import (CHECKPASSWORD, PLUGIN, assert_dovecot_log_clean,  # noqa: E402
                                 dovecot_conf_with_plugin, ensure_mailgrant_group)
    from slapd_sandbox import Slapd  # noqa: E402

    tmp = tempfile.mkdtemp(prefix="mailgrant-imap-bench-", dir=args.dir or sandbox_parent())
    os.chmod(tmp, 0o755)
    slapd, stacks, policyd = None, {}, None
    try:
        slapd = Slapd(os.path.join(tmp, "slapd"), acl=LIMITS, syncprov=True).start()
        slapd.load_ldif(os.path.join(ROOT, "tests", "fixtures", "org.ldif"))
        t0 = time.monotonic()
        subprocess.run(["ldapadd", "-x", "-H", slapd.uri, "-D", slapd.rootdn, "-w", slapd.rootpw],
                       input=bench_ldif(sharer_ns).encode(), check=True, capture_output=True, timeout=1200)
        setup_s = time.monotonic() - t0
        run = os.path.join(tmp, "run")   # the service's socket (group mailgrant, 0660)
        os.makedirs(run)
        os.chmod(run, 0o755)
        etc, configs = {}, {}
        for side, extra in (("grant", ""), ("service", "service:\n  listen: unix:%s/service\n" % run)):
            etc[side] = os.path.join(tmp, "etc-" + side)
            os.makedirs(etc[side])
            os.chmod(etc[side], 0o755)
            secret = os.path.join(etc[side], "ldap.secret")
            with open(secret, "w") as f:
                f.write(SERVICE_PW)
            os.chmod(secret, 0o644)   # throwaway sandbox: readable by Dovecot's users
            configs[side] = os.path.join(etc[side], "mailgrant.yaml")
            with open(configs[side], "w") as f:   # everything else as shipped (cache.ttl_s 30)
                f.write('ldap:\n  uris: [%s]\n  base: %s\n  bind_dn: "%s"\n  bind_password_file: %s\n%s'
                        % (slapd.uri, slapd.base, SERVICE_DN, secret, extra))
            os.chmod(configs[side], 0o644)
        ensure_mailgrant_group()   # the service's socket group, on a fresh host too
        policyd = Policyd(configs["service"], tmp, binary=policyd_binary).start()
        following = policyd.wait_following()
        print("service: mailgrant-policyd serves unix:%s/service; change follower %s"
              % (run, "up" if following else "NOT up (the TTL only): " + policyd.text()[-500:]))
        shared_dict = os.path.join(tmp, "stock-dict", "shared-mailboxes.db")
        for side in SIDES:
            work = os.path.join(tmp, side)
            os.makedirs(os.path.join(work, "last-login"))
            os.chmod(work, 0o755)
            stack = MailStack(os.path.join(work, "stack"), slapd.uri, slapd.base)
            if side != "stock":
                stack.dovecot_extra_conf = dovecot_conf_with_plugin(etc[side], PLUGIN, configs[side],
                                                                    stack.dovecot_ldap_conf_path, CHECKPASSWORD)
            else:
                os.makedirs(os.path.dirname(shared_dict))
                dovecot = pwd.getpwnam("dovecot")
                os.chown(os.path.join(work, "last-login"), dovecot.pw_uid, dovecot.pw_gid)
                stack.dovecot_extra_conf = stock_conf(work, shared_dict)
            stack.start()
            stacks[side] = stack
            fill_mail(stack, sharer_ns, side == "stock", shared_dict)
        port = {side: s.imap_port for side, s in stacks.items()}

        # Both sides give benchreader the same folder with the same rights.
        for side, stack in stacks.items():
            imap = imaplib.IMAP4("127.0.0.1", port[side], timeout=60)
            check(*imap.login(READER, password(READER)), what="LOGIN")
            typ, data = imap.list('""', "shared/*")
            listed = any(SHARED.encode() in line for line in data)
            typ, rights = imap.myrights('"%s"' % SHARED)
            imap.logout()
            print("%s Dovecot: %s listed: %s, MYRIGHTS %s" % (side, SHARED, listed, rights[0].decode()))
            if not listed or not rights[0].decode().endswith(" " + RIGHTS):
                raise RuntimeError("%s: the shared folder is not set up as expected" % side)
        v = dovecot_version()
        print("Dovecot %d.%d, %d client processes, %.1f s per phase, %d alternating rounds, mail on %s"
              % (v[0], v[1], args.workers, args.seconds, args.rounds, fs_type(tmp)))
        missed = []

        def ratios(value, better, each):
            """"grant/stock 0.97 (met; per round ...), service/stock ..." for a {side: value}
            summed over the rounds `each`."""
            out = []
            for side in ("grant", "service"):
                ratio = value[side] / value["stock"]
                ok = better(ratio)
                out.append("%s/stock %.3f (%s; %s)" % (side, ratio, verdict(ok), spread(each, side)))
                if not ok:
                    missed.append("%s %s" % (current[0], side))
            return ", ".join(out)

        current = [""]

        def questions():
            return policyd.metrics().get("service_questions_total", 0)

        def cpu_now(side):
            """CPU seconds so far of what serves `side`: its Dovecot by process kind,
            slapd, and on the service side mailgrant-policyd."""
            master = _read_pid(stacks[side].dovecot_pid_path)
            now = {"dovecot " + k: v for k, v in dovecot_cpu_s(master).items()}
            now["#faults"] = reaped_faults(master)  # a count, not seconds (print_cpu)
            now["slapd"] = _stat_ticks(slapd.pid) / os.sysconf("SC_CLK_TCK")
            if side == "service":
                now["policyd"] = _stat_ticks(policyd.proc.pid) / os.sysconf("SC_CLK_TCK")
            return now

        def add_cpu(into, c0, c1):
            for k in c1:   # a kind that was not running before started from 0
                into[k] = into.get(k, 0.0) + c1[k] - c0.get(k, 0.0)

        def print_cpu(cpu, total, what):
            for s in SIDES:
                ms = {k: 1000 * v / max(1, total[s]) for k, v in cpu[s].items() if not k.startswith("#")}
                print("    server CPU ms per %s, %s: total %.2f (%s); page faults of the reaped processes %.1f" % (
                    what, label_of[s], sum(ms.values()),
                    ", ".join("%s %.2f" % (k, v) for k, v in sorted(ms.items(), key=lambda kv: -kv[1])
                              if v >= 0.05), cpu[s].get("#faults", 0) / max(1, total[s])))

        def throughput(label, user, mailbox, goal):
            for mode, name in (("login", "login-heavy"), ("session", "session-heavy")):
                searches = {side: 0 for side in SIDES}
                cpu = {side: {} for side in SIDES}
                asked = [0]

                def phase(side):
                    # only one side runs at a time: slapd's searches meanwhile are its own
                    q0 = questions()
                    c0 = cpu_now(side)
                    cycles, n = searches_during(slapd, lambda: run_phase(port[side], user, mailbox, mode,
                                                                         args.workers, args.seconds))
                    add_cpu(cpu[side], c0, cpu_now(side))
                    searches[side] += n
                    if side == "service":
                        asked[0] += questions() - q0
                    return cycles
                total, each = alternate(args.rounds, phase)
                rate = {s: total[s] / (args.rounds * args.seconds) for s in total}
                current[0] = "%s %s" % (label.split()[0], name)
                print("%s, %s: cycles/s %s; ratio (goal >= %.2f) %s; LDAP searches per cycle: %s; "
                      "service questions per cycle %.2f"
                      % (label, name, ", ".join("%s %.1f" % (label_of[s], rate[s]) for s in SIDES), goal,
                         ratios(rate, lambda r: r >= goal, each),
                         ", ".join("%s %.2f" % (s, searches[s] / max(1, total[s])) for s in SIDES),
                         asked[0] / max(1, total["service"])))
                print_cpu(cpu, total, "cycle")

        label_of = {"stock": "stock ACL files", "grant": "grant", "service": "grant via service"}
        if "a" in args.parts:
            throughput("(a) shared mailbox %s" % SHARED, READER, SHARED, 0.95)

        label_of = {"stock": "without plugin", "grant": "with plugin", "service": "with plugin + service"}
        if "c" in args.parts:
            throughput("(c) own INBOX of a user with no share", SOLO, "INBOX", 0.97)

        # (b) LOGIN + LIST with N sharers; last, as a LIST that does not finish within
        # --list-timeout is reported and leaves its Dovecot process working.
        print("(b) LDAP setup: %d sharers (persons + grants) added with ldapadd in %.1f s"
              % (max(sharer_ns, default=0), setup_s))
        label_of = {"stock": "stock ACL files", "grant": "grant", "service": "grant via service"}
        for n in (sharer_ns if "b" in args.parts else []):
            user = "u%d@example.com" % n
            searches, first, failed = {}, {}, []
            for side in SIDES:
                try:
                    t0 = time.monotonic()
                    login_list(port[side], user, args.list_timeout)   # Dovecot's per-owner dovecot-acl-list
                    first[side] = time.monotonic() - t0
                    names, searches[side] = searches_during(
                        slapd, lambda: login_list(port[side], user, args.list_timeout))
                except (OSError, imaplib.IMAP4.error) as e:
                    print("(b) N=%d: %s: LOGIN + LIST did not finish within %.0f s (%r)"
                          % (n, side, args.list_timeout, e))
                    failed.append(side)
                    continue
                if len(names) != n:
                    raise RuntimeError("(b) %s N=%d: %d shared mailboxes listed" % (side, n, len(names)))
            if failed:
                missed.append("(b) N=%d (%s did not finish)" % (n, " and ".join(failed)))
                continue
            timed_searches = {side: 0 for side in SIDES}
            timed_count = {side: 0 for side in SIDES}
            cpu = {side: {} for side in SIDES}

            def timed(side):
                def run():
                    count, start = 0, time.monotonic()
                    while count < 2 or time.monotonic() - start < args.seconds:
                        login_list(port[side], user, args.list_timeout, list_times[side])
                        count += 1
                    return count, (time.monotonic() - start) / count
                q0 = questions()
                c0 = cpu_now(side)
                (count, per), found = searches_during(slapd, run)
                add_cpu(cpu[side], c0, cpu_now(side))
                timed_searches[side] += found
                timed_count[side] += count
                if side == "service":
                    asked[0] += questions() - q0
                return per
            asked = [0]
            list_times = {side: [] for side in SIDES}
            total, each = alternate(args.rounds, timed)
            current[0] = "(b) N=%d" % n
            print("(b) N=%d: LOGIN + LIST ms %s; ratio (goal <= 1.0) %s; LDAP searches per LOGIN + LIST: "
                  "second one %s; mean over the timed rounds %s; service questions per LOGIN + LIST %.1f; "
                  "the user's first LIST s %s"
                  % (n, ", ".join("%s %.1f" % (s, 1000 * total[s] / args.rounds) for s in SIDES),
                     ratios(total, lambda r: r <= 1.0, each),
                     ", ".join("%s %d" % (s, searches[s]) for s in SIDES),
                     ", ".join("%s %.2f" % (s, timed_searches[s] / max(1, timed_count[s])) for s in SIDES),
                     asked[0] / max(1, timed_count["service"]),
                     ", ".join("%s %.2f" % (s, first[s]) for s in SIDES)))
            print_cpu(cpu, timed_count, "LOGIN + LIST")
            # the LIST command alone (LOGIN, which starts the imap process, is most of a
            # cycle): where the plugin's own work in (b) is
            medians = {side: sorted(list_times[side])[len(list_times[side]) // 2] for side in SIDES}
            print("    (b) N=%d: the LIST command alone, median ms %s; service/stock %.3f"
                  % (n, ", ".join("%s %.2f" % (s, 1000 * medians[s]) for s in SIDES),
                     medians["service"] / medians["stock"]))

        m = policyd.metrics()
        print("service counters: %s" % ", ".join(
            "%s %d" % (k, m[k]) for k in sorted(m) if k.startswith(("service_", "sync_", "ldap_", "cache_"))))
        print("goals missed: %s" % (", ".join(missed) if missed else "none"))
        for side, stack in stacks.items():
            assert_dovecot_log_clean(stack.dovecot_log_path)
            with open(stack.dovecot_log_path, errors="replace") as f:
                noisy = [line for line in f if "Error:" in line or "Warning:" in line]
            print("%s Dovecot log: %d Error/Warning lines%s" % (side, len(noisy), (": " + noisy[0].strip()) if noisy else ""))
        return 1 if missed else 0
    finally:
        if policyd is not None:
            policyd.stop()
        for stack in stacks.values():
            try:
                stack.stop()
            except Exception as e:  # noqa: BLE001 - clean up the rest anyway
                print("cleanup: %s" % e, file=sys.stderr)
        if slapd is not None:
            slapd.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
