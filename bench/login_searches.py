#!/usr/bin/env python3
"""LDAP searches per IMAP LOGIN + LIST "" "*" with N = 10 and N = 100 mailboxes sharing
with the user, and their ratio (issue 19: 1.0 = the cost does not grow with N; before the
batched questions it was 3N+4). Counted in slapd's stats log through a real Dovecot with
the built plugin, in the setup of tests/dovecot-plugin/test_login_search_count.py (each
user's second session: the first builds Dovecot's own per-owner files once).

usage: bench/login_searches.py [BUILD_DIR]   (after building; run as root)
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
os.environ.setdefault("MAILGRANT_DOVECOT_PLUGIN", os.path.join(BUILD, "dovecot-plugin", "lib20_mailgrant_plugin.so"))
os.environ.setdefault("MAILGRANT_CHECKPASSWORD", os.path.join(BUILD, "dovecot-plugin", "mailgrant-checkpassword"))
os.environ.setdefault("MAILGRANT_CLI", os.path.join(BUILD, "cli", "mailgrant"))
sys.path.insert(0, os.path.join(ROOT, "tests", "dovecot-plugin"))
from test_login_search_count import LoginSearchCountTest  # noqa: E402


def main():
    LoginSearchCountTest.setUpClass()
    try:
        probe = LoginSearchCountTest("test_login_and_list_searches_do_not_grow_with_sharers")
        counts = {}
        for n in (10, 100):
            user = "u%d@example.com" % n
            probe.login_and_list(user)
            names, searches = probe.counted_login(user)
            counts[n] = len(searches)
            print("N=%d: %d shared mailboxes listed, %d LDAP searches per LOGIN + LIST" % (n, len(names), counts[n]))
        print("ratio N=100 / N=10: %.2f (goal: 1.0)" % (counts[100] / counts[10]))
    finally:
        LoginSearchCountTest.doClassCleanups()


if __name__ == "__main__":
    main()
