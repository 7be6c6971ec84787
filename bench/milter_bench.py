#!/usr/bin/env python3
"""Messages per second through a private Postfix with the mailgrant header check
(smtpd_milters -> mailgrant-policyd --milter) against the same Postfix without it,
measured in one run with smtp-source. Driven by bench/milter.sh; run as root.

smtp-source cannot authenticate, so the Postfix here tells the milter who the client
is with milter_macro_defaults ({auth_authen}=bob@example.com): every message is then
judged exactly as an authenticated submission by bob would be (From: the shared
mailbox support@, granted to bob's group with sendAs: parse, Decider, warm cache).
Delivery is to Postfix's discard transport so the mailbox store does not dominate.
The two configurations alternate (off, on, off, on, ...) and each is summed over its
rounds, so drift over time hits both alike.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
sys.path.insert(0, os.path.join(ROOT, "tests", "postfix-policyd"))
from mail_sandbox import MailStack  # noqa: E402
from slapd_sandbox import Slapd  # noqa: E402
from test_policyd import Daemon  # noqa: E402

SMTP_SOURCE = shutil.which("smtp-source", path="/usr/sbin:/usr/bin") or "/usr/sbin/smtp-source"


def postfix(stack, *args):
    env = dict(os.environ)
    env.pop("MAIL_CONFIG", None)
    subprocess.run(["/usr/sbin/postfix", "-c", stack.postfix_config_dir] + list(args), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, timeout=60)


def set_milter(stack, value):
    subprocess.run(["/usr/sbin/postconf", "-c", stack.postfix_config_dir, "-e", "smtpd_milters = " + value],
                   check=True, timeout=30)
    postfix(stack, "reload")
    time.sleep(1.5)  # old smtpd processes finish and new ones read the configuration


def run_source(stack, message_file, messages, sessions):
    start = time.monotonic()
    subprocess.run([SMTP_SOURCE, "-s", str(sessions), "-m", str(messages), "-d", "-F", message_file,
                    "-f", "bob@example.com", "-t", "alice@example.com", "-M", "client.example.com",
                    "127.0.0.1:%d" % stack.smtp_port], check=True, timeout=600,
                   stdout=subprocess.DEVNULL)
    return time.monotonic() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=2000, help="per round")
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="mailgrant-milter-bench-")
    os.chmod(tmp, 0o755)
    slapd = stack = policyd = None
    try:
        slapd = Slapd(os.path.join(tmp, "slapd")).start()
        slapd.load_ldif(os.path.join(ROOT, "tests", "fixtures", "org.ldif"))
        pdir = os.path.join(tmp, "policyd")
        os.mkdir(pdir)
        sock = os.path.join(pdir, "milter.sock")
        policyd = Daemon(pdir, slapd, extra_args=["--milter", "unix:" + sock], socket_owner="postfix",
                         socket_group="postfix", socket_mode="0660")
        policyd.cache = {"ttl_s": 300, "negative_ttl_s": 300}
        policyd.start()
        while not os.path.exists(sock):
            time.sleep(0.05)
        mail = os.path.join(tmp, "mail")
        os.mkdir(mail)
        os.chmod(mail, 0o755)
        extra = "\n".join([
            "smtpd_milters =",
            "milter_default_action = tempfail",
            "milter_protocol = 6",
            "milter_macro_defaults = {auth_authen}=bob@example.com",
            "virtual_transport = discard:benchmark",
            "smtpd_client_connection_rate_limit = 0",
            "smtpd_client_message_rate_limit = 0",
            "default_process_limit = 200",
        ])
        stack = MailStack(mail, slapd.uri, slapd.base, postfix_main_extra=extra).start()
        message_file = os.path.join(tmp, "message")
        with open(message_file, "w") as f:
            f.write("From: Support Team <support@example.com>\nTo: Alice <alice@example.com>\n"
                    "Subject: benchmark\n\n" + "mailgrant milter benchmark body line\n" * 20)
        milter = "unix:" + sock
        # Warm-up: Postfix processes, the daemon's cache (bob's groups, support's grants).
        set_milter(stack, milter)
        run_source(stack, message_file, 200, args.sessions)
        total = {"off": 0.0, "on": 0.0}
        for _ in range(args.rounds):
            for mode in ("off", "on"):
                set_milter(stack, milter if mode == "on" else "")
                total[mode] += run_source(stack, message_file, args.messages, args.sessions)
        n = args.messages * args.rounds
        rate = {m: n / t for m, t in total.items()}
        log = policyd.log_text()
        judged = log.count("decision=accept")
        print("messages: %d per configuration (%d rounds x %d), %d parallel sessions"
              % (n, args.rounds, args.messages, args.sessions))
        print("without milter: %8.1f msg/s" % rate["off"])
        print("with milter:    %8.1f msg/s  (%d messages judged by the milter)" % (rate["on"], judged))
        print("ratio with/without: %.3f  (goal >= 0.9)" % (rate["on"] / rate["off"]))
        if "decision=reject" in log or "decision=tempfail" in log:
            print("WARNING: the milter refused some messages; see " + policyd.log_path)
    finally:
        for part in (stack, policyd, slapd):
            if part is not None:
                try:
                    part.stop()
                except Exception as e:  # noqa: BLE001 - clean up the rest anyway
                    print("cleanup: %s" % e, file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
