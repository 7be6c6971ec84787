#!/usr/bin/env python3
"""Postfix end to end with and without mailgrant-policyd, in one run (issue 3, bench 3).

Starts a real slapd and a private Postfix + Dovecot (tests/harness), then submits the same
number of authenticated messages (bob sending as support@, a delegated sender) through
the submission port twice: once with the shipped restriction class (the policy check,
examples/postfix/main.cf.snippet) and once with no sender check at all. Each client keeps
one authenticated SMTP session and sends message after message, like a busy webmail.
Prints messages/s for both and the ratio (goal: >= 0.95).

usage: bench/policyd_postfix.py BUILD_DIR [MESSAGES] [CLIENTS]   (as root)
"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
from mail_sandbox import MailStack  # noqa: E402
from mailgrant_setup import write_config  # noqa: E402
from slapd_sandbox import Slapd  # noqa: E402
import smtplib  # noqa: E402


def run_clients(port, messages, clients):
    per_client = messages // clients
    errors = []

    def client(n):
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
                s.login("bob@example.com", "bob-pw")
                for i in range(per_client):
                    m = EmailMessage()
                    m["From"], m["To"], m["Subject"] = "support@example.com", "alice@example.com", "bench %d/%d" % (n, i)
                    m.set_content("x\n")
                    s.send_message(m)
        except Exception as e:  # noqa: BLE001 -- reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    start = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    elapsed = time.time() - start
    if errors:
        raise RuntimeError("clients failed: %s" % errors[:3])
    return per_client * clients / elapsed


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
    messages = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    clients = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    tmp = tempfile.mkdtemp(prefix="mailgrant-bench-pf-")
    os.chmod(tmp, 0o755)
    slapd = Slapd(os.path.join(tmp, "slapd")).start()
    results = {}
    try:
        slapd.load_ldif(os.path.join(ROOT, "tests", "fixtures", "org.ldif"))
        snippet = open(os.path.join(ROOT, "examples", "postfix", "main.cf.snippet")).read()
        for label, restrictions in (("without check", None), ("with policy", "mailgrant_submission"),
                                    ("without check (again)", None)):
            work = os.path.join(tmp, label.replace(" ", "-").strip("()"))
            os.mkdir(work)
            os.chmod(work, 0o755)
            stack = MailStack(os.path.join(work, "mail"), slapd.uri, slapd.base, postfix_main_extra=snippet,
                              submission_sender_restrictions=restrictions)
            os.mkdir(stack.workdir)
            os.chmod(stack.workdir, 0o755)
            stack.start()
            policyd = None
            try:
                if restrictions:
                    sock = os.path.join(stack.postfix_queue_dir, "private", "mailgrant")
                    config = write_config(os.path.join(work, "etc"), slapd, 30, 5,
                                          "policy:\n  listen: unix:%s\n  user: mail\n" % sock)
                    policyd = subprocess.Popen([os.path.join(build, "postfix-policyd", "mailgrant-policyd"), "-c", config],
                                               stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "policyd.log"), "w"))
                    deadline = time.time() + 10
                    while not os.path.exists(sock) and time.time() < deadline:
                        time.sleep(0.1)
                run_clients(stack.submission_port, clients * 5, clients)  # warm up (auth, caches)
                results[label] = run_clients(stack.submission_port, messages, clients)
            finally:
                if policyd:
                    policyd.terminate()
                    policyd.wait(timeout=10)
                stack.stop()
    finally:
        slapd.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    base = (results["without check"] + results["without check (again)"]) / 2
    print("Postfix submission, %d messages, %d clients, authenticated, delegated sender" % (messages, clients))
    for label, rate in results.items():
        print("  %-24s %8.1f msg/s" % (label, rate))
    print("ratio with policy / without (mean of the two baseline runs): %.2f" % (results["with policy"] / base))


if __name__ == "__main__":
    main()
