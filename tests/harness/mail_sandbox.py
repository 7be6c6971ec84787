#!/usr/bin/env python3
"""Private Dovecot + Postfix for mailgrant end-to-end tests (Python 3 stdlib only).

Everything lives in one work directory and listens on 127.0.0.1 only, on free
ports; the system's /etc/dovecot, /etc/postfix, /var/lib/dovecot, spool and
default ports are never touched.  Must run as root (both daemons start as
root and drop privileges themselves).  Needs a running LDAP server holding the
users (see slapd_sandbox.py and tests/fixtures/org.ldif).

  Dovecot   dovecot -c DIR/dovecot/dovecot.conf, written in the configuration
            language of the installed Dovecot: 2.3 (Debian 12) or 2.4 (Debian 13),
            told apart once by dovecot_version(); text that differs between the
            two goes through dovecot_conf(v23, v24)
            IMAP on 127.0.0.1:<imap_port> (plaintext, no TLS: loopback tests only)
            LMTP on the unix socket DIR/dovecot/run/lmtp
            SASL for Postfix on the unix socket DIR/dovecot/run/auth-postfix
            passdb ldap with auth_bind (log in with the mail address; 2.3: an
            args file dovecot-ldap.conf.ext, 2.4: ldap_* settings inline),
            userdb static (uid/gid mail, home DIR/mail/<address>, all users)
            mail: maildir:DIR/mail/<address>/Maildir, "/" hierarchy separator
            log: DIR/dovecot.log
  Postfix   postfix -c DIR/postfix start
            plain smtpd on 127.0.0.1:<smtp_port> (inbound, example.com only)
            submission smtpd on 127.0.0.1:<submission_port> (SASL via Dovecot
            required; optional check_policy_service evaluated BEFORE
            permit_sasl_authenticated)
            virtual_mailbox_domains = example.com, delivered over LMTP to Dovecot
            queue DIR/postfix-queue, data DIR/postfix-data, log DIR/postfix.log

Python API:

    with MailStack("/tmp/x", ldap_uri, ldap_base,
                   policy_service="inet:127.0.0.1:10031",   # or unix:/path, or None
                   dovecot_extra_conf=dovecot_conf("mail_plugins = $mail_plugins acl\\n",
                                                   "mail_plugins {\\n  acl = yes\\n}\\n")) as m:
        m.imap_port, m.smtp_port, m.submission_port
        m.dovecot_log_path, m.postfix_log_path, m.mail_dir, m.dovecot_conf_path
        m.wait_for_delivery("alice@example.com", "subject", timeout_s=15)

CLI:

    mail_sandbox.py start --dir DIR --ldap-uri URI --ldap-base BASE
                          [--policy-service X] [--dovecot-extra-conf FILE]
        starts both daemons (they detach), writes DIR/mail.env (IMAP_PORT=,
        SMTP_PORT=, SUBMISSION_PORT=, plus paths), prints it, exits 0; on
        failure prints the logs, stops what it started and exits 1.
    mail_sandbox.py stop --dir DIR        (idempotent)
"""

import argparse
import email.parser
import errno
import email.policy
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time

START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 8.0
KILL_TIMEOUT_S = 3.0
TOOL_TIMEOUT_S = 30.0
# The ports are picked (bound to port 0, closed) before Dovecot and Postfix bind them:
# another process may take one in between. start() then picks new ones, this many times.
PORT_ATTEMPTS = 3
PORT_TAKEN = "Address already in use"

SBIN_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
DOVECOT = shutil.which("dovecot", path=SBIN_PATH) or "/usr/sbin/dovecot"
POSTFIX = shutil.which("postfix", path=SBIN_PATH) or "/usr/sbin/postfix"
DOVEADM = shutil.which("doveadm", path=SBIN_PATH) or "/usr/bin/doveadm"
NSENTER = shutil.which("nsenter", path=SBIN_PATH) or "/usr/bin/nsenter"

MAIL_USER = "mail"            # owner of every mailbox (uid 8 on Debian)
DOMAIN = "example.com"


class MailStackError(RuntimeError):
    pass


# ---- the installed Dovecot's configuration language ---------------------------
# Dovecot 2.3 (Debian 12) and 2.4 (Debian 13) speak different configuration
# languages.  The version is asked once, here; everything that writes Dovecot
# configuration text (this file, mailgrant_setup.py, the tests, the demo) goes
# through dovecot_version() / dovecot_conf().
_DOVECOT_VERSION = None


def dovecot_version():
    """(major, minor) of the installed Dovecot, from `dovecot --version`
    ("2.3.19.1 (9b53102964)", "2.4.1-4 (7d8c0e5759)").  MAILGRANT_DOVECOT_VERSION
    (e.g. "2.4") overrides it, to write the other syntax without that Dovecot."""
    global _DOVECOT_VERSION
    if _DOVECOT_VERSION is None:
        text = os.environ.get("MAILGRANT_DOVECOT_VERSION", "")
        if not text:
            try:
                text = subprocess.run([DOVECOT, "--version"], capture_output=True, text=True,
                                      timeout=TOOL_TIMEOUT_S).stdout
            except (OSError, subprocess.SubprocessError):
                text = ""
        m = re.match(r"\s*(\d+)\.(\d+)", text)
        if not m:
            raise MailStackError("cannot tell the Dovecot version from %r (%s --version)" % (text, DOVECOT))
        _DOVECOT_VERSION = (int(m.group(1)), int(m.group(2)))
    return _DOVECOT_VERSION


def dovecot_24():
    """True when the installed Dovecot speaks 2.4's configuration language."""
    return dovecot_version() >= (2, 4)


# Files the configuration needs in Dovecot's module dir.  Dovecot 2.4 loads a plugin's
# settings module (modules/settings/) and auth modules (modules/auth/) only from the
# directory compiled in, not from mail_plugin_dir, so a built, uninstalled plugin is
# laid over that directory for this instance alone: Dovecot runs in a private mount
# namespace where an overlay of DIR/dovecot/module-overlay (symlinks to the files)
# and the stock directory replaces it.  Nothing is installed, the host sees nothing.
# Configuration text asks for such a file with a comment line (dovecot ignores it,
# and it survives concatenation and --dovecot-extra-conf FILE):
#     # mail_sandbox: dovecot_module settings/libmailgrant_settings.so /build/...so
DOVECOT_MODULE_DIR = "/usr/lib/dovecot/modules"
_MODULE_DIRECTIVE = "# mail_sandbox: dovecot_module "


def dovecot_module_line(relpath, path):
    """The configuration line that puts file `path` at `relpath` below Dovecot's module
    dir for this instance (see above)."""
    if os.path.isabs(relpath) or ".." in relpath.split("/") or " " in relpath:
        raise MailStackError("bad module path %r" % relpath)
    return "%s%s %s\n" % (_MODULE_DIRECTIVE, relpath, os.path.abspath(path))


def _dovecot_modules(conf_text):
    """[(relpath, path)] asked for by dovecot_module_line() lines in conf_text."""
    out = []
    for line in conf_text.splitlines():
        if line.startswith(_MODULE_DIRECTIVE):
            relpath, path = line[len(_MODULE_DIRECTIVE):].split(" ", 1)
            out.append((relpath, path.strip()))
    return out


def _private_mount_propagation():
    """unshare's --propagation for a namespace whose mounts stay private.  "private"
    remounts / as private, which fails inside a chroot (scripts/in-root), where / is
    no mount point; there the surrounding namespace must already be private (no
    shared mount in mountinfo) and is kept as it is."""
    shared, root_listed = False, False
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split(" - ")[0].split()
            if len(fields) >= 5 and fields[4] == "/":
                root_listed = True
            if any(x.startswith("shared:") for x in fields[6:]):
                shared = True
    if root_listed:
        return "private"
    if shared:
        raise MailStackError("cannot lay a private module dir over %s: inside a chroot whose "
                             "mounts are shared with the host" % DOVECOT_MODULE_DIR)
    return "unchanged"


def dovecot_conf(v23, v24):
    """The one switch for Dovecot configuration text that differs between 2.3 and
    2.4: returns v23 or v24 for the installed Dovecot (v24=None: no 2.4 form)."""
    if dovecot_24():
        if v24 is None:
            raise MailStackError("no Dovecot 2.4 form of this configuration:\n" + v23)
        return v24
    return v23


def _free_port(exclude=()):
    for _ in range(50):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        if port not in exclude:
            return port
    raise MailStackError("no free port found")


def _port_answers(port, expect_prefix, timeout=1.0):
    """True if 127.0.0.1:port accepts a connection and greets with expect_prefix."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.settimeout(timeout)
            data = b""
            while b"\n" not in data and len(data) < 512:
                chunk = s.recv(512)
                if not chunk:
                    break
                data += chunk
            return data.startswith(expect_prefix)
    except OSError:
        return False


def _unix_socket_answers(path, timeout=1.0):
    if not os.path.exists(path):
        return False
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def _read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _proc_info(pid):
    """(state, ppid, pgrp, exe basename) of pid, or None if it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        rest = stat.rsplit(")", 1)[1].split()
        return rest[0], int(rest[1]), int(rest[2]), name
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid, names=None):
    """pid exists, is not a zombie and (if names is given) runs one of names."""
    info = _proc_info(pid)
    if info is None or info[0] in ("Z", "X"):
        return False
    return names is None or info[3] in names


def _descendants(pid):
    """Every live process whose parent chain reaches pid."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        info = _proc_info(int(d))
        if info is not None:
            children.setdefault(info[1], []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in children.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def _wait_gone(pids, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return not any(_alive(p) for p in pids)


def _kill_tree(pid, names):
    """SIGTERM the master pid (bounded wait, its children follow it), then
    SIGKILL whatever of it and its children is left (bounded wait)."""
    if pid is None or not _alive(pid, names):
        return True
    kids = _descendants(pid)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    if _wait_gone([pid], STOP_TIMEOUT_S) and _wait_gone(kids, KILL_TIMEOUT_S):
        return True
    for p in [pid] + kids + _descendants(pid):
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return _wait_gone([pid] + kids, KILL_TIMEOUT_S)


def _run_daemon_cmd(argv, out_path, env=None, preexec=None):
    """Run a command that leaves a daemon behind.  Its output goes to a file, not
    a pipe: the daemon inherits the descriptors and a pipe would never see EOF."""
    with open(out_path, "w+") as out:
        try:
            rc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, timeout=TOOL_TIMEOUT_S,
                                env=env, start_new_session=True, preexec_fn=preexec).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
        out.seek(0)
        return rc, out.read()


def _tail(path, n=60):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return "(no log at %s)\n" % path


# ---- dovecot.conf templates (str.format: {{ }} are literal braces) ------------
_DOVECOT_23_HEAD = """# generated by tests/harness/mail_sandbox.py -- private instance (Dovecot 2.3)
mail_location = maildir:{mail}/%u/Maildir
disable_plaintext_auth = no
"""

# 2.4 wants both versions as the first settings of the file; mail_location became
# mail_driver + mail_path (+ mail_home), disable_plaintext_auth auth_allow_cleartext,
# %u %{{user}}.
_DOVECOT_24_HEAD = """# generated by tests/harness/mail_sandbox.py -- private instance (Dovecot 2.4)
dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
mail_driver = maildir
mail_home = {mail}/%{{user}}
mail_path = {mail}/%{{user}}/Maildir
auth_allow_cleartext = yes
"""

_DOVECOT_COMMON = """protocols = imap lmtp
listen = 127.0.0.1
base_dir = {run}
state_dir = {state}
instance_name = mailgrant-sandbox
log_path = {log}
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 8
mail_uid = {mail_user}
mail_gid = {mail_user}
ssl = no
auth_mechanisms = plain login
auth_verbose = yes
auth_verbose_passwords = no
# failed logins are normal in tests: answer them at once (default 2 s)
auth_failure_delay = 0
login_trusted_networks =
postmaster_address = postmaster@{domain}
hostname = mail.{domain}

namespace inbox {{
  inbox = yes
  separator = /
  prefix =
}}
"""

_DOVECOT_23_AUTH = """
passdb {{
  driver = ldap
  args = {ldapconf}
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_user} home={mail}/%u allow_all_users=yes
}}
"""

# No dn/password: the user's entry is found by an anonymous search, then the
# password is checked by binding as that entry (2.3's auth_bind = yes).
_DOVECOT_24_AUTH = """
ldap_uris = {ldap_uri}
ldap_base = {ldap_base}
ldap_scope = subtree
ldap_deref = never
passdb ldap {{
  ldap_bind = yes
  ldap_filter = (&(objectClass=inetOrgPerson)(mail=%{{user}}))
  fields {{
    user = %{{ldap:mail}}
  }}
}}
userdb static {{
  fields {{
    uid = {mail_user}
    gid = {mail_user}
    home = {mail}/%{{user}}
  }}
  userdb_static_allow_all_users = yes
}}
"""

_DOVECOT_SERVICES = """
service imap-login {{
  inet_listener imap {{
{imap_address}    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
}}
# no auth penalty (growing delays after failed logins from one IP): tests fail
# logins from 127.0.0.1 on purpose; mode 0 is Dovecot's documented off switch
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service auth {{
  unix_listener auth-postfix {{
    mode = 0666
  }}
}}
"""


class MailStack:
    def __init__(self, workdir, ldap_uri, ldap_base, policy_service=None,
                 dovecot_extra_conf="", postfix_main_extra="", submission_sender_restrictions=None,
                 submission_options=(), postfix_master_extra=()):
        self.workdir = os.path.abspath(workdir)
        self.ldap_uri = ldap_uri
        self.ldap_base = ldap_base
        self.policy_service = policy_service
        self.dovecot_extra_conf = dovecot_extra_conf or ""
        # Text appended to main.cf (e.g. examples/postfix/main.cf.snippet), and the
        # submission service's smtpd_sender_restrictions (e.g. its restriction class).
        self.postfix_main_extra = postfix_main_extra or ""
        self.submission_sender_restrictions = submission_sender_restrictions
        # More "-o name=value" options for the submission service (e.g. the shipped
        # master.cf.snippet's smtpd_milters, read by postfix_snippets.py).
        self.submission_options = list(submission_options)
        # More master.cf lines (e.g. the shipped sent-copy pipe service, postfix_snippets.py).
        self.postfix_master_extra = list(postfix_master_extra)
        self._imap_port = None
        self._smtp_port = None
        self._submission_port = None
        self.port_retries = []   # why start() began again on new ports ("said", "held: [port]")
        self._started = False

        self.dovecot_dir = os.path.join(self.workdir, "dovecot")
        self.dovecot_run_dir = os.path.join(self.dovecot_dir, "run")
        self.dovecot_state_dir = os.path.join(self.dovecot_dir, "state")
        self._dovecot_conf = os.path.join(self.dovecot_dir, "dovecot.conf")
        self.dovecot_ldap_conf_path = os.path.join(self.dovecot_dir, "dovecot-ldap.conf.ext")
        self.lmtp_socket_path = os.path.join(self.dovecot_run_dir, "lmtp")
        self.auth_socket_path = os.path.join(self.dovecot_run_dir, "auth-postfix")
        self.dovecot_pid_path = os.path.join(self.dovecot_run_dir, "master.pid")
        self._dovecot_log = os.path.join(self.workdir, "dovecot.log")
        self._mail_dir = os.path.join(self.workdir, "mail")

        self.postfix_config_dir = os.path.join(self.workdir, "postfix")
        self.postfix_queue_dir = os.path.join(self.workdir, "postfix-queue")
        self.postfix_data_dir = os.path.join(self.workdir, "postfix-data")
        self.postfix_pid_path = os.path.join(self.postfix_queue_dir, "pid", "master.pid")
        self._postfix_log = os.path.join(self.workdir, "postfix.log")

    # ---- properties -------------------------------------------------------
    imap_port = property(lambda self: self._imap_port)
    smtp_port = property(lambda self: self._smtp_port)
    submission_port = property(lambda self: self._submission_port)
    dovecot_log_path = property(lambda self: self._dovecot_log)
    postfix_log_path = property(lambda self: self._postfix_log)
    mail_dir = property(lambda self: self._mail_dir)
    dovecot_conf_path = property(lambda self: self._dovecot_conf)

    def doveadm_argv(self):
        """The command line of doveadm for this instance (a list; " ".join() it for the
        CLI's --doveadm). Where Dovecot runs over a module overlay (Dovecot 2.4 with the
        built plugin: see dovecot_module_line), a plain doveadm would not find the
        settings module and refuse the configuration ("Unknown setting"), so a wrapper
        script runs doveadm inside the running master's mount namespace and root (nsenter
        -t PID -m -r: also right inside scripts/in-root's chroot)."""
        if not _dovecot_modules(self.dovecot_extra_conf):
            return [DOVEADM, "-c", self._dovecot_conf]
        wrapper = os.path.join(self.dovecot_dir, "doveadm")
        with open(wrapper, "w") as f:
            f.write('#!/bin/sh\n# doveadm in the mount namespace of this sandbox\'s Dovecot (mail_sandbox.py)\n'
                    'pid=$(cat %s) || exit 75\n'
                    'exec %s -t "$pid" -m -r -w %s -c %s "$@"\n'
                    % tuple(shlex.quote(x) for x in (self.dovecot_pid_path, NSENTER, DOVEADM, self._dovecot_conf)))
        os.chmod(wrapper, 0o755)
        return [wrapper]

    def maildir_of(self, address):
        return os.path.join(self._mail_dir, address.lower(), "Maildir")

    def env_lines(self):
        return [
            "IMAP_PORT=%d" % self._imap_port,
            "SMTP_PORT=%d" % self._smtp_port,
            "SUBMISSION_PORT=%d" % self._submission_port,
            "MAIL_DIR=%s" % self._mail_dir,
            "DOVECOT_CONF=%s" % self._dovecot_conf,
            "DOVECOT_LOG=%s" % self._dovecot_log,
            "POSTFIX_CONFIG_DIR=%s" % self.postfix_config_dir,
            "POSTFIX_LOG=%s" % self._postfix_log,
            "LMTP_SOCKET=%s" % self.lmtp_socket_path,
            "AUTH_SOCKET=%s" % self.auth_socket_path,
        ]

    # ---- Dovecot ------------------------------------------------------------
    def _write_dovecot_conf(self):
        values = dict(run=self.dovecot_run_dir, state=self.dovecot_state_dir, log=self._dovecot_log,
                      mail_user=MAIL_USER, mail=self._mail_dir, domain=DOMAIN,
                      ldapconf=self.dovecot_ldap_conf_path, imap_port=self._imap_port,
                      ldap_uri=self.ldap_uri, ldap_base=self.ldap_base,
                      # 2.4 has no per-listener address: the global listen applies
                      imap_address=dovecot_conf("    address = 127.0.0.1\n", ""))
        if dovecot_24():
            # 2.4: LDAP settings inline (no args file), named passdb/userdb blocks
            head, auth = _DOVECOT_24_HEAD, _DOVECOT_24_AUTH
        else:
            ldap_conf = "\n".join([
                "# generated by tests/harness/mail_sandbox.py",
                "uris = %s" % self.ldap_uri,
                "ldap_version = 3",
                "base = %s" % self.ldap_base,
                "scope = subtree",
                "deref = never",
                # no dn/dnpass: the user's entry is found by an anonymous search,
                # then the password is checked by binding as that entry
                "auth_bind = yes",
                "pass_filter = (&(objectClass=inetOrgPerson)(mail=%u))",
                "pass_attrs = mail=user",
                "",
            ])
            with open(self.dovecot_ldap_conf_path, "w") as f:
                f.write(ldap_conf)
            os.chmod(self.dovecot_ldap_conf_path, 0o644)   # no secrets in it
            head, auth = _DOVECOT_23_HEAD, _DOVECOT_23_AUTH
        conf = (head + _DOVECOT_COMMON + auth + _DOVECOT_SERVICES).format(**values)
        if self.dovecot_extra_conf:
            conf += "\n# ---- extra configuration supplied by the test ----\n"
            conf += self.dovecot_extra_conf.rstrip("\n") + "\n"
        with open(self._dovecot_conf, "w") as f:
            f.write(conf)
        os.chmod(self._dovecot_conf, 0o644)

    def _dovecot_cmd(self, args):
        """(argv, preexec_fn) running dovecot with `args`; when the configuration asks for
        module files (dovecot_module_line), preexec_fn puts the process into a private
        mount namespace where they are laid over Dovecot's module dir (the master and
        every process it starts stay in that namespace)."""
        modules = _dovecot_modules(self.dovecot_extra_conf)
        if not modules:
            return [DOVECOT] + list(args), None
        overlay = os.path.join(self.dovecot_dir, "module-overlay")
        if os.path.isdir(overlay):
            shutil.rmtree(overlay)
        for relpath, path in modules:
            if not os.path.exists(path):
                raise MailStackError("Dovecot module %s not found (for %s)" % (path, relpath))
            link = os.path.join(overlay, relpath)
            os.makedirs(os.path.dirname(link), mode=0o755, exist_ok=True)
            os.symlink(path, link)
        for d, _, _ in os.walk(overlay):
            os.chmod(d, 0o755)
        private_root = _private_mount_propagation() == "private"
        options = ("lowerdir=%s:%s" % (overlay, DOVECOT_MODULE_DIR)).encode()

        def enter_namespace():
            # in the child, before exec: no mount(8) needed (Debian roots may lack it)
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                   ctypes.c_ulong, ctypes.c_char_p]
            if libc.unshare(0x00020000) != 0:                           # CLONE_NEWNS
                raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
            if private_root and libc.mount(b"none", b"/", None, 0x4000 | 0x40000, None) != 0:
                raise OSError(ctypes.get_errno(), "mount --make-rprivate /")  # MS_REC|MS_PRIVATE
            if libc.mount(b"mailgrant-sandbox-modules", DOVECOT_MODULE_DIR.encode(), b"overlay",
                          0, options) != 0:
                raise OSError(ctypes.get_errno(), "mount overlay on " + DOVECOT_MODULE_DIR)
        return [DOVECOT] + list(args), enter_namespace

    def _prepare_dovecot(self):
        os.makedirs(self.dovecot_dir, exist_ok=True)
        for d in (self.dovecot_run_dir, self.dovecot_state_dir):
            os.makedirs(d, mode=0o755, exist_ok=True)
        mail = pwd.getpwnam(MAIL_USER)
        os.makedirs(self._mail_dir, mode=0o770, exist_ok=True)
        os.chown(self._mail_dir, mail.pw_uid, mail.pw_gid)
        os.chmod(self._mail_dir, 0o770)
        self._write_dovecot_conf()
        argv, preexec = self._dovecot_cmd(["-c", self._dovecot_conf, "-n"])
        p = subprocess.run(argv, capture_output=True, text=True, timeout=TOOL_TIMEOUT_S,
                           preexec_fn=preexec)
        if p.returncode != 0:
            raise MailStackError("dovecot rejects its configuration:\n%s%s" % (p.stdout, p.stderr))

    def _start_dovecot(self):
        with open(self._dovecot_log, "a"):
            pass
        # dovecot forks into the background; its master writes base_dir/master.pid
        argv, preexec = self._dovecot_cmd(["-c", self._dovecot_conf])
        rc, out = _run_daemon_cmd(argv, os.path.join(self.dovecot_dir, "start.out"), preexec=preexec)
        if rc != 0:
            raise MailStackError("dovecot failed to start (exit %s):\n%s\n---- %s ----\n%s" % (
                rc, out, self._dovecot_log, _tail(self._dovecot_log)))
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            pid = _read_pid(self.dovecot_pid_path)
            if pid is not None and not _alive(pid, ("dovecot",)):
                break
            if (_port_answers(self._imap_port, b"* OK")
                    and _unix_socket_answers(self.lmtp_socket_path)
                    and _unix_socket_answers(self.auth_socket_path)):
                return
            time.sleep(0.1)
        raise MailStackError("dovecot did not answer within %.0f s; log:\n%s"
                             % (START_TIMEOUT_S, _tail(self._dovecot_log)))

    def _stop_dovecot(self):
        ok = _kill_tree(_read_pid(self.dovecot_pid_path), ("dovecot",))
        return ok

    # ---- Postfix ------------------------------------------------------------
    def _write_postfix_conf(self):
        d = self.workdir
        main = [
            "# generated by tests/harness/mail_sandbox.py -- private instance",
            "compatibility_level = 3.6",
            "config_directory = %s" % self.postfix_config_dir,
            "queue_directory = %s" % self.postfix_queue_dir,
            "data_directory = %s" % self.postfix_data_dir,
            "syslog_name = postfix-mailgrant-sandbox",
            "maillog_file = %s" % self._postfix_log,
            "maillog_file_prefixes = %s" % d,
            "myhostname = mail.%s" % DOMAIN,
            "mydomain = %s" % DOMAIN,
            "myorigin = $mydomain",
            "mydestination =",
            "mynetworks = 127.0.0.1/32",
            "inet_interfaces = 127.0.0.1",
            "inet_protocols = ipv4",
            "alias_maps =",
            "alias_database =",
            "local_recipient_maps =",
            "biff = no",
            "smtputf8_enable = no",
            "append_dot_mydomain = no",
            "virtual_mailbox_domains = %s" % DOMAIN,
            "virtual_transport = lmtp:unix:%s" % self.lmtp_socket_path,
            # nothing ever leaves the sandbox
            "relayhost =",
            "default_transport = error:outbound mail is disabled in the mailgrant sandbox",
            "relay_transport = error:outbound mail is disabled in the mailgrant sandbox",
            "smtpd_tls_security_level = none",
            "smtp_tls_security_level = none",
            "smtpd_banner = $myhostname ESMTP mailgrant-sandbox",
            # the inbound (port 25 style) listener: mail for example.com only
            "smtpd_client_restrictions =",
            "smtpd_helo_restrictions =",
            "smtpd_sender_restrictions =",
            "smtpd_relay_restrictions = reject_unauth_destination",
            "smtpd_recipient_restrictions = reject_unauth_destination",
            "smtpd_sasl_auth_enable = no",
            "smtpd_policy_service_timeout = 5s",
            "smtpd_policy_service_max_idle = 60s",
            "smtpd_policy_service_default_action = 451 4.3.5 Policy service unavailable",
            "queue_run_delay = 10s",
            "minimal_backoff_time = 10s",
            "maximal_backoff_time = 60s",
            "lmtp_connect_timeout = 5s",
            "delay_warning_time = 0",
        ]
        # restriction lists of the submission service, referenced from master.cf
        # ("-o name=value" cannot hold spaces).  The policy service comes BEFORE
        # permit_sasl_authenticated, so authenticated senders are checked too.
        if self.policy_service:
            rcpt = "check_policy_service %s, permit_sasl_authenticated, reject" % self.policy_service
        else:
            rcpt = "permit_sasl_authenticated, reject"
        main += [
            "sandbox_submission_client_restrictions = permit_sasl_authenticated, reject",
            "sandbox_submission_relay_restrictions = permit_sasl_authenticated, "
            "reject_unauth_destination",
            "sandbox_submission_recipient_restrictions = %s" % rcpt,
            "",
        ]
        sub_opts = [
            "syslog_name=postfix-mailgrant-sandbox/submission",
            "smtpd_tls_security_level=none",
            "smtpd_sasl_auth_enable=yes",
            "smtpd_sasl_type=dovecot",
            "smtpd_sasl_path=%s" % self.auth_socket_path,
            "smtpd_sasl_security_options=noanonymous",
            "smtpd_tls_auth_only=no",
            "smtpd_client_restrictions=$sandbox_submission_client_restrictions",
            "smtpd_relay_restrictions=$sandbox_submission_relay_restrictions",
            "smtpd_recipient_restrictions=$sandbox_submission_recipient_restrictions",
        ]
        if self.submission_sender_restrictions:
            sub_opts.append("smtpd_sender_restrictions=%s" % self.submission_sender_restrictions)
        sub_opts += self.submission_options
        if self.postfix_main_extra:
            main += ["# ---- appended by the test ----", self.postfix_main_extra, ""]
        # chroot column (5) is "n" everywhere: the sockets and the policy
        # service live in the work dir, outside any chroot jail
        master = [
            "# generated by tests/harness/mail_sandbox.py -- private instance",
            "127.0.0.1:%d inet n - n - - smtpd" % self._smtp_port,
            "127.0.0.1:%d inet n - n - - smtpd" % self._submission_port,
        ] + ["  -o %s" % o for o in sub_opts] + [
            "pickup    unix  n       -       n       60      1       pickup",
            "cleanup   unix  n       -       n       -       0       cleanup",
            "qmgr      unix  n       -       n       300     1       qmgr",
            "rewrite   unix  -       -       n       -       -       trivial-rewrite",
            "bounce    unix  -       -       n       -       0       bounce",
            "defer     unix  -       -       n       -       0       bounce",
            "trace     unix  -       -       n       -       0       bounce",
            "verify    unix  -       -       n       -       1       verify",
            "flush     unix  n       -       n       1000?   0       flush",
            "proxymap  unix  -       -       n       -       -       proxymap",
            "proxywrite unix -       -       n       -       1       proxymap",
            "smtp      unix  -       -       n       -       -       smtp",
            "relay     unix  -       -       n       -       -       smtp",
            "showq     unix  n       -       n       -       -       showq",
            "error     unix  -       -       n       -       -       error",
            "retry     unix  -       -       n       -       -       error",
            "discard   unix  -       -       n       -       -       discard",
            "lmtp      unix  -       -       n       -       -       lmtp",
            "anvil     unix  -       -       n       -       1       anvil",
            "scache    unix  -       -       n       -       1       scache",
            "postlog   unix-dgram n  -       n       -       1       postlogd",
        ] + self.postfix_master_extra + [
            "",
        ]
        for name, lines in (("main.cf", main), ("master.cf", master)):
            path = os.path.join(self.postfix_config_dir, name)
            with open(path, "w") as f:
                f.write("\n".join(lines))
            os.chmod(path, 0o644)

    def _postfix(self, *args, check=True):
        env = dict(os.environ)
        env.pop("MAIL_CONFIG", None)
        # Where Dovecot runs over the private module overlay (dovecot_module_line), Postfix
        # is started inside the same mount namespace: a dovecot-lda that Postfix's pipe
        # runs (the sent-copy service) must read the configuration Dovecot reads, which
        # names the plugin's settings; outside, Dovecot 2.4 would not find the settings
        # module and refuse it ("Unknown setting"). As with doveadm_argv: nsenter -r/-w,
        # which is also right inside scripts/in-root's chroot. Nothing else differs for
        # Postfix (the overlay covers Dovecot's module dir only).
        prefix = []
        if args and args[0] == "start" and _dovecot_modules(self.dovecot_extra_conf):
            pid = _read_pid(self.dovecot_pid_path)
            if pid is None or not _alive(pid, ("dovecot",)):
                raise MailStackError("postfix start: Dovecot (whose mount namespace Postfix joins) is not running")
            prefix = [NSENTER, "-t", str(pid), "-m", "-r", "-w"]
        rc, out = _run_daemon_cmd(prefix + [POSTFIX, "-c", self.postfix_config_dir] + list(args),
                                  os.path.join(self.workdir, "postfix-%s.out" % args[0]), env=env)
        if check and rc != 0:
            raise MailStackError("postfix %s failed (exit %s):\n%s\n---- %s ----\n%s" % (
                " ".join(args), rc, out, self._postfix_log, _tail(self._postfix_log)))
        return rc, out

    def _prepare_postfix(self):
        os.makedirs(self.postfix_config_dir, mode=0o755, exist_ok=True)
        os.chmod(self.postfix_config_dir, 0o755)
        # queue_directory must be owned by root and not group/other writable;
        # post-install (run by "postfix start") creates the subdirectories.
        os.makedirs(self.postfix_queue_dir, mode=0o755, exist_ok=True)
        os.chmod(self.postfix_queue_dir, 0o755)
        pf = pwd.getpwnam("postfix")
        os.makedirs(self.postfix_data_dir, mode=0o700, exist_ok=True)
        os.chown(self.postfix_data_dir, pf.pw_uid, pf.pw_gid)
        os.chmod(self.postfix_data_dir, 0o700)
        self._write_postfix_conf()
        # no separate "postfix check": "postfix start" runs the same
        # post-install create-missing + check-fatal + check-warn (2 s each time)

    def _start_postfix(self):
        with open(self._postfix_log, "a"):
            pass
        start = os.path.getsize(self._postfix_log)
        self._postfix("start")
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if (_port_answers(self._smtp_port, b"220")
                    and _port_answers(self._submission_port, b"220")):
                return
            with open(self._postfix_log, "rb") as f:   # this start's lines only
                f.seek(start)
                if PORT_TAKEN.encode() in f.read():   # master or smtpd could not bind: no use waiting
                    raise MailStackError("postfix could not bind a port; log:\n%s" % _tail(self._postfix_log))
            time.sleep(0.1)
        raise MailStackError("postfix did not answer within %.0f s; log:\n%s"
                             % (START_TIMEOUT_S, _tail(self._postfix_log)))

    def _stop_postfix(self):
        pid = _read_pid(self.postfix_pid_path)
        if pid is None or not _alive(pid, ("master",)):
            return True
        return _kill_tree(pid, ("master",))

    # ---- lifecycle -----------------------------------------------------------
    def start(self):
        if os.geteuid() != 0:
            raise MailStackError("MailStack must run as root (dovecot and postfix drop privileges)")
        os.makedirs(self.workdir, exist_ok=True)
        # the daemons' unprivileged users (mail, postfix, dovenull) must reach
        # the sockets and mail inside the work dir
        os.chmod(self.workdir, 0o755)
        parent = os.path.dirname(self.workdir)
        while True:
            if not os.stat(parent).st_mode & 0o001:
                raise MailStackError(
                    "%s is not searchable by others (mode o+x missing): postfix's master "
                    "opens its lock file as user postfix and dovecot stores mail as user "
                    "mail inside %s, so every parent directory must be o+x" % (parent, self.workdir))
            if parent == os.path.dirname(parent):
                break
            parent = os.path.dirname(parent)
        for attempt in range(1, PORT_ATTEMPTS + 1):
            ports = set()
            for attr in ("_imap_port", "_smtp_port", "_submission_port"):
                port = _free_port(exclude=ports)
                ports.add(port)
                setattr(self, attr, port)
            self._started = True
            written = self._attempt_start()
            try:
                self._prepare_dovecot()
                self._prepare_postfix()
                self._start_dovecot()
                self._start_postfix()
                return self
            except MailStackError:
                stopped = self.stop()
                # The daemons' own words in this attempt (a bind failure), or, with ours
                # stopped, a picked port someone else holds: Postfix 3.10's master fails
                # before its log service runs, and says only "startup failed".
                said = PORT_TAKEN in self._attempt_text(written)
                held = [] if said or not stopped else self._ports_taken()
                if attempt == PORT_ATTEMPTS or not stopped or not (said or held):
                    raise
                self.port_retries.append("said" if said else "held: %s" % held)
                for log in (self._dovecot_log, self._postfix_log):   # for whoever reads the logs
                    with open(log, "a") as f:
                        f.write("---- mail_sandbox: a port was taken; starting again on new ports ----\n")
            except BaseException:
                self.stop()
                raise

    def _attempt_start(self):
        """Where this start attempt's words will begin: {file: offset} for both logs and
        both start commands' outputs (an earlier attempt's outputs are removed)."""
        outputs = [os.path.join(self.dovecot_dir, "start.out"), os.path.join(self.workdir, "postfix-start.out")]
        for path in outputs:
            if os.path.exists(path):
                os.remove(path)
        logs = [self._dovecot_log, self._postfix_log]
        return {path: (os.path.getsize(path) if os.path.exists(path) else 0) for path in logs + outputs}

    @staticmethod
    def _attempt_text(written):
        text = []
        for path, offset in written.items():
            try:
                with open(path, "rb") as f:
                    f.seek(offset)
                    text.append(f.read().decode(errors="replace"))
            except OSError:
                pass
        return "".join(text)

    def _ports_taken(self):
        """The picked ports another process listens on (or holds bound) now."""
        taken = []
        for port in (self._imap_port, self._smtp_port, self._submission_port):
            probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # our old connections' TIME_WAIT is no one's
            try:
                probe.bind(("127.0.0.1", port))
            except OSError as e:
                if e.errno == errno.EADDRINUSE:
                    taken.append(port)
            finally:
                probe.close()
        return taken

    def stop(self):
        ok = self._stop_postfix()
        ok = self._stop_dovecot() and ok
        self._started = False
        return ok

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # ---- helpers ---------------------------------------------------------------
    def wait_for_delivery(self, user_address, subject, timeout_s=15):
        """Poll the user's Maildir (new/ and cur/) for a message with this Subject.

        Returns the path of the message file; raises MailStackError on timeout
        (with the tails of both logs)."""
        maildir = self.maildir_of(user_address)
        parser = email.parser.BytesHeaderParser(policy=email.policy.default)
        deadline = time.monotonic() + timeout_s
        while True:
            for sub in ("new", "cur"):
                d = os.path.join(maildir, sub)
                try:
                    names = os.listdir(d)
                except OSError:
                    continue
                for name in names:
                    path = os.path.join(d, name)
                    try:
                        with open(path, "rb") as f:
                            msg = parser.parse(f)
                    except OSError:
                        continue
                    if str(msg.get("Subject", "")) == subject:
                        return path
            if time.monotonic() >= deadline:
                raise MailStackError(
                    "no message with Subject %r in %s after %s s\n---- postfix log ----\n%s"
                    "---- dovecot log ----\n%s" % (subject, maildir, timeout_s,
                                                   _tail(self._postfix_log, 30),
                                                   _tail(self._dovecot_log, 30)))
            time.sleep(0.1)


# ---- CLI ----------------------------------------------------------------------
def _cli_stop(workdir):
    workdir = os.path.abspath(workdir)
    m = MailStack(workdir, "", "")
    ok = m.stop()
    if not ok:
        print("mail_sandbox: dovecot or postfix did not exit", file=sys.stderr)
        return 1
    return 0


def _cli_start(args):
    workdir = os.path.abspath(args.dir)
    _cli_stop(workdir)      # never leave an older instance of this dir running
    extra = ""
    if args.dovecot_extra_conf:
        with open(args.dovecot_extra_conf) as f:
            extra = f.read()
    m = MailStack(workdir, args.ldap_uri, args.ldap_base, policy_service=args.policy_service,
                  dovecot_extra_conf=extra)
    try:
        m.start()
    except Exception as e:  # noqa: BLE001 - report everything, exit 1
        print("mail_sandbox: start failed: %s" % e, file=sys.stderr)
        for path in (m.dovecot_log_path, m.postfix_log_path):
            print("---- %s ----" % path, file=sys.stderr)
            print(_tail(path), file=sys.stderr)
        m.stop()
        return 1
    lines = m.env_lines()
    with open(os.path.join(workdir, "mail.env"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    sys.stdout.flush()
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description="private Dovecot + Postfix for mailgrant tests")
    sub = ap.add_subparsers(dest="cmd", required=True)
    st = sub.add_parser("start", help="start dovecot and postfix detached")
    st.add_argument("--dir", required=True)
    st.add_argument("--ldap-uri", required=True)
    st.add_argument("--ldap-base", required=True)
    st.add_argument("--policy-service", help="inet:HOST:PORT or unix:/PATH for check_policy_service")
    st.add_argument("--dovecot-extra-conf", help="file whose text is appended to dovecot.conf")
    sp = sub.add_parser("stop", help="stop dovecot and postfix (idempotent)")
    sp.add_argument("--dir", required=True)
    args = ap.parse_args(argv)
    if args.cmd == "start":
        return _cli_start(args)
    return _cli_stop(args.dir)


if __name__ == "__main__":
    sys.exit(main())
