#!/usr/bin/env python3
"""What loading mailgrant's core costs a process (issue 19, bench (c)'s explanation).

Dovecot starts a new imap process for every login and loads the mail plugins into it.
This runs /bin/true N times, alternating rounds: alone (the baseline), with the Dovecot
plugin's own dependencies preloaded (since the split: libc only, so the same as the
baseline), with the core library preloaded (libmailgrant_core.so: C++ and yaml-cpp; what
a process loads when it first asks the per-host service about a share), and with the
core and its LDAP side (libmailgrant_local.so: the directory code, libldap and its TLS
stack; loaded without the service, or by a SETACL). It prints milliseconds per exec and
the ratio against the baseline of the same run (the machine may be busy: only the ratio
and the difference mean something).

Then what a mail process pays on its first question in service mode (bench/core_load.c):
in forked children, CPU time from wait4, (1) load the core library (dlopen, as the
plugin's loader did before the C client) and open a service-mode configuration
(mailgrant_core_open: the YAML read and checked), (2) what the plugin's C client does
instead (dovecot-plugin/wire/: libyaml loaded, the service keys read), against children
that only exit. No question is asked: no service runs.

usage: bench/exec_cost.py [BUILD_DIR] [--execs 300] [--rounds 3]   (--execs: also the children)
"""
import argparse
import os
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def needed(path):
    """The shared libraries `path` loads (ldd), the dynamic loader and vdso left out."""
    out = subprocess.run(["ldd", path], capture_output=True, text=True, check=True).stdout
    libs = []
    for line in out.splitlines():
        parts = line.split("=>")
        if len(parts) == 2 and parts[1].strip().startswith("/"):
            libs.append(parts[1].split()[0])
    return libs


def per_exec_ms(preload, execs):
    env = {"PATH": "/usr/bin:/bin"}
    if preload:
        env["LD_PRELOAD"] = ":".join(preload)
    start = time.perf_counter()
    for _ in range(execs):
        subprocess.run(["/bin/true"], env=env, check=True)
    return (time.perf_counter() - start) / execs * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build", nargs="?", default=os.path.join(ROOT, "build"))
    parser.add_argument("--execs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    plugin = os.path.join(args.build, "dovecot-plugin", "lib20_mailgrant_plugin.so")
    core = os.path.join(args.build, "dovecot-plugin", "mailgrant", "libmailgrant_core.so")
    local = os.path.join(args.build, "dovecot-plugin", "mailgrant", "libmailgrant_local.so")
    sides = {"baseline": [], "plugin's libraries": needed(plugin), "core (service mode)": [core],
             "core + LDAP side": [core, local]}
    totals = {name: 0.0 for name in sides}
    for r in range(args.rounds):
        names = list(sides)
        names = names[r % len(names):] + names[:r % len(names)]   # rotate the order
        for name in names:
            totals[name] += per_exec_ms(sides[name], args.execs)
    base = totals["baseline"] / args.rounds
    print("exec of /bin/true, %d x %d rounds" % (args.execs, args.rounds))
    for name in sides:
        ms = totals[name] / args.rounds
        print("  %-20s %6.2f ms/exec  ratio %.2f  (+%.2f ms)  %d libraries"
              % (name, ms, ms / base, ms - base, len(sides[name])))
    first_question_cost(args.build, args.execs, args.rounds)


def first_question_cost(build, children, rounds):
    """bench/core_load.c (built in BUILD/bench) over a service-mode configuration."""
    program = os.path.join(build, "bench", "core_load")
    core = os.path.join(build, "dovecot-plugin", "mailgrant", "libmailgrant_core.so")
    with tempfile.TemporaryDirectory() as tmp:
        config = os.path.join(tmp, "mailgrant.yaml")
        with open(config, "w") as f:   # the shipped defaults plus the service
            f.write("ldap:\n  uris: [ldap://127.0.0.1:1]\n  base: dc=example,dc=com\n"
                    "service:\n  listen: unix:%s/service\n" % tmp)
        subprocess.run([program, core, config, str(children), str(rounds)], check=True)


if __name__ == "__main__":
    main()
