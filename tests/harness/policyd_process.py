"""mailgrant-policyd run with a stack's own mailgrant.yaml (the one the Dovecot plugin
reads, with service.listen in it), for end-to-end tests and benchmarks of the per-host
decision service: started on loopback with its stats endpoint, stopped (resumed first if
a test froze it), its log and counters read back. test_policyd.Daemon instead writes a
config of its own for policy-only tests.
"""
import os
import signal
import subprocess
import time
import urllib.request

from mail_sandbox import _free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
POLICYD = os.environ.get("MAILGRANT_POLICYD", os.path.join(ROOT, "build", "postfix-policyd", "mailgrant-policyd"))


def wait_for(predicate, timeout_s, step_s=0.05):
    deadline = time.time() + timeout_s
    while True:
        value = predicate()
        if value or time.time() > deadline:
            return value
        time.sleep(step_s)


class Policyd:
    """mailgrant-policyd with the stack's own mailgrant.yaml (service.listen in it)."""

    def __init__(self, config, workdir, binary=POLICYD):
        self.binary = binary
        self.config = config
        self.log_path = os.path.join(workdir, "policyd.log")
        self.port, self.stats_port = _free_port(), _free_port()
        self.proc = None

    def start(self, port_attempts=5):
        self.log = open(self.log_path, "a")
        in_use = self.text().count("Address already in use")
        self.proc = subprocess.Popen(
            [self.binary, "-c", self.config, "--listen", "inet:127.0.0.1:%d" % self.port,
             "--stats", "inet:127.0.0.1:%d" % self.stats_port, "--user", "nobody"],
            stdout=self.log, stderr=subprocess.STDOUT)
        # Ready: its "decision service on" line (once more than before: restarts append).
        ok = wait_for(lambda: self.proc.poll() is not None or self.text().count("decision service on ")
                      > self.starts, 10)
        if not ok or self.proc.poll() is not None:
            if self.proc.poll() is not None and port_attempts > 1 and \
                    self.text().count("Address already in use") > in_use:
                # a port _free_port() gave was taken meanwhile by another test: new ones
                self.log.close()
                self.port, self.stats_port = _free_port(), _free_port()
                return self.start(port_attempts - 1)
            raise RuntimeError("policyd did not start:\n" + self.text())
        self.starts += 1
        return self

    starts = 0

    def wait_following(self, timeout_s=30):
        """True once the change follower is up (sync_up 1)."""
        return bool(wait_for(lambda: self.metrics().get("sync_up") == 1, timeout_s, 0.1))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if getattr(self, "log", None):
            self.log.close()

    def text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def metrics(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.stats_port, timeout=5) as r:
            text = r.read().decode()
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#") and "{" not in line:
                name, value = line.split()
                values[name.replace("mailgrant_policyd_", "")] = float(value)
        return values
