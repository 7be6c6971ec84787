#!/usr/bin/env python3
"""Deployment test (issue 18): README "Deploying" followed literally on a fresh Debian
root with Debian's own configuration, then used with real clients.

  1. make-root.sh DIST: a cached mmdebstrap root with stock slapd (debconf), Dovecot and
     Postfix ("Internet Site"); the test works on a copy, so every run starts stock.
  2. This source tree is copied into the root (/usr/src/mailgrant), and a stand-in
     `systemctl` (the root has no systemd) into /usr/local/sbin.
  3. Inside the root, in private mount, PID and network namespaces (only its own
     loopback: standard ports clash with nothing; every daemon dies with the namespace):
     tests/deploy/baseline-site.sh (the site mailgrant is added to), then every ```sh
     block of README.md's "## Deploying (Debian 12)" section (trixie: "## Deploying
     (Debian 13)") in order, taken from the README itself, then tests/deploy/verify.py
     (real IMAP/SMTP clients; each decision matched with the deciding component's log
     line).
Needs root, mmdebstrap (installed by make-root.sh) and Debian's package archive for the
first root. usage: test_deploy.py [bookworm|trixie]
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
README = os.path.join(ROOT, "README.md")
SECTIONS = {"bookworm": "## Deploying (Debian 12)", "trixie": "## Deploying (Debian 13)"}
RUN_TIMEOUT_S = 1800
MAKE_ROOT_TIMEOUT_S = 1200


def readme_steps(heading):
    """The ```sh blocks of the README section under `heading`, in order."""
    with open(README) as f:
        text = f.read()
    start = text.index(heading + "\n")
    end = text.find("\n## ", start + len(heading))
    section = text[start:end if end >= 0 else len(text)]
    blocks = re.findall(r"^```sh\n(.*?)^```$", section, flags=re.S | re.M)
    if not blocks:
        raise RuntimeError("README section %r has no ```sh blocks" % heading)
    return blocks


def copy_tree_into(root):
    """The source tree as a clone has it: tracked and new files as they are on disk now,
    or, with MAILGRANT_DEPLOY_SOURCE=HEAD, the last commit (git archive)."""
    dest = os.path.join(root, "usr", "src", "mailgrant")
    os.makedirs(dest)
    if os.environ.get("MAILGRANT_DEPLOY_SOURCE") == "HEAD":
        archive = subprocess.run(["git", "-C", ROOT, "archive", "--format=tar", "HEAD"], check=True,
                                 capture_output=True, timeout=120).stdout
        subprocess.run(["tar", "-x", "-C", dest], input=archive, check=True, timeout=120)
        return dest
    files = subprocess.run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           check=True, capture_output=True, timeout=60).stdout.split(b"\0")
    for name in files:
        if not name:
            continue
        src = os.path.join(ROOT.encode(), name)
        if not os.path.isfile(src):
            continue
        target = os.path.join(dest.encode(), name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(src, target)
    return dest


def readme_script(title, steps, after_block=None):
    """The root's script: baseline-site.sh, then each README block in its own subshell
    from the tree's top (`set -eux`: every command shown, the first failure stops it).
    after_block(n) may return more lines to run after block n. The caller appends."""
    lines = ["#!/bin/sh", "set -eu",
             "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
             "export DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 HOME=/root",
             "echo '== baseline site (tests/deploy/baseline-site.sh)'",
             "sh /usr/src/mailgrant/tests/deploy/baseline-site.sh",
             "cd /usr/src/mailgrant"]
    for n, block in enumerate(steps, 1):
        lines += ["echo '== README %s, block %d of %d'" % (title, n, len(steps)),
                  "( set -eux", "cd /usr/src/mailgrant", block.rstrip("\n"), ")"]
        lines += (after_block(n) if after_block else None) or []
    return lines


def script(dist, steps):
    lines = readme_script("Deploying", steps)
    lines += ["echo '== verify (tests/deploy/verify.py)'", "python3 /usr/src/mailgrant/tests/deploy/verify.py"]
    return "\n".join(lines) + "\n"


def run_in_stock_root(dist, script_text, what, check=None, timeout_s=RUN_TIMEOUT_S):
    """Runs script_text as root in a fresh copy of the cached stock root of `dist` (this
    tree in /usr/src/mailgrant, the systemctl stand-in on PATH), in private mount, PID and
    network namespaces (only its own loopback; every daemon dies with them). Prints the
    output, and on failure the daemons' logs. check(root), if given, looks at the root
    after a successful script and returns a failure text or None. Returns the exit code
    for main() (0 passed, 1 failed)."""
    cached = subprocess.run(["sh", os.path.join(HERE, "make-root.sh"), dist], check=True, stdout=subprocess.PIPE,
                            timeout=MAKE_ROOT_TIMEOUT_S).stdout.decode().strip().splitlines()[-1]
    work = tempfile.mkdtemp(prefix="mailgrant-deploy-")
    root = os.path.join(work, "root")
    try:
        subprocess.run(["cp", "-a", "--reflink=auto", cached, root], check=True, timeout=600)
        copy_tree_into(root)
        shutil.copy2(os.path.join(HERE, "systemctl"), os.path.join(root, "usr", "local", "sbin", "systemctl"))
        # Each step's heading carries the clock, so a slow step shows in CI's log.
        script_text = re.sub(r"^echo '== ", "echo \"[$(date +%T)]\" '== ", script_text, flags=re.M)
        with open(os.path.join(root, "test-script.sh"), "w") as f:
            f.write(script_text)
        inner = ('set -e; ip link set lo up; mount -t proc proc "$1/proc"; mount --bind /dev "$1/dev"; '
                 'exec chroot "$1" /bin/sh /test-script.sh')
        print("running %s in %s (log follows)" % (what, root), flush=True)
        proc = subprocess.run(["unshare", "--mount", "--net", "--pid", "--fork", "--kill-child",
                               "sh", "-c", inner, "deploy", root],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout_s)
        out = proc.stdout.decode(errors="replace")
        print(out[-40000:] if len(out) > 40000 else out)
        if proc.returncode != 0:
            for log in ("var/log/dovecot.log", "var/log/postfix.log", "var/log/mailgrant-policyd.log"):
                path = os.path.join(root, log)
                if os.path.exists(path):
                    with open(path, errors="replace") as f:
                        print("---- %s (last 40 lines) ----\n%s" % (log, "".join(f.readlines()[-40:])))
            print("FAILED: %s (exit %d)" % (what, proc.returncode))
            return 1
        problem = check(root) if check else None
        if problem:
            print("FAILED: %s: %s" % (what, problem))
            return 1
        return 0
    finally:
        if os.environ.get("MAILGRANT_KEEP_DEPLOY_ROOT"):
            print("kept", root)
        else:
            shutil.rmtree(work, ignore_errors=True)


def main():
    dist = sys.argv[1] if len(sys.argv) > 1 else "bookworm"
    if dist not in SECTIONS:
        print("usage: test_deploy.py [%s]" % "|".join(SECTIONS))
        return 2
    if os.geteuid() != 0:
        print("test_deploy.py: needs root")
        return 1
    steps = readme_steps(SECTIONS[dist])
    if run_in_stock_root(dist, script(dist, steps), "%d README Deploying blocks and verify.py" % len(steps)):
        return 1
    print("deployment test passed: README Deploying works on a stock Debian root (%s)" % dist)
    return 0


if __name__ == "__main__":
    sys.exit(main())
