#!/usr/bin/env python3
"""Private slapd for mailgrant integration tests (Python 3 standard library only).

Starts an OpenLDAP slapd listening on 127.0.0.1:<free port> (plus a private
ldapi socket) whose every file lives in one work directory, with the schemas
core, cosine, inetorgperson, misc and the project's mailgrant schema, one mdb
database (suffix dc=example,dc=com by default) and the indexes recommended in
ldap-schema/README.md.

Two configuration formats:

  conf      a generated slapd.conf that `include`s ldap-schema/mailgrant.schema
  cnconfig  a slapd.d built with `slapadd -n0` from generated config LDIF; the
            mailgrant schema is then loaded into the running server with
            `ldapadd -Y EXTERNAL -H ldapi://...  -f ldap-schema/mailgrant.ldif`,
            exactly as an admin would on Debian. accesslog=True then applies
            ldap-schema/accesslog.ldif (slapd's accesslog overlay, cn=accesslog) the
            same way, with this instance's paths, suffix and rootdn as the reader.

Python API:

    with Slapd("/tmp/x", fmt="cnconfig") as s:     # start() on enter, stop() on exit
        s.load_ldif("tests/fixtures/org.ldif")
        s.uri, s.port, s.base, s.rootdn, s.rootpw, s.ldapi_uri

    a, b = provider_pair("/tmp/p1", "/tmp/p2")    # two Slapd, not started, ports fixed
    a.start(); b.start()    # N-Way Multi-Provider: each replicates from the other

CLI (used by the C++ and shell integration tests):

    slapd_sandbox.py start --dir DIR [--format conf|cnconfig] [--ldif FILE]...
                           [--memberof] [--acl-file FILE] [--suffix DN] [--accesslog]
                           [--syncprov] [--log-filters]
        starts slapd detached, writes DIR/slapd.env and DIR/rootpw, prints the
        env lines (LDAP_URI, LDAP_BASE, LDAP_ROOTDN, LDAP_ROOTPW), exits 0;
        on failure prints slapd's log and exits 1.
    slapd_sandbox.py stop --dir DIR        (idempotent)
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
SCHEMA_DIR = os.path.join(REPO_ROOT, "ldap-schema")
MAILGRANT_SCHEMA = os.path.join(SCHEMA_DIR, "mailgrant.schema")
MAILGRANT_LDIF = os.path.join(SCHEMA_DIR, "mailgrant.ldif")
ACCESSLOG_LDIF = os.path.join(SCHEMA_DIR, "accesslog.ldif")

SYSTEM_SCHEMA_DIR = "/etc/ldap/schema"
MODULE_PATH = "/usr/lib/ldap"
SLAPD = shutil.which("slapd", path="/usr/sbin:/usr/bin:/sbin:" + os.environ.get("PATH", "")) or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd", path="/usr/sbin:/usr/bin:/sbin:" + os.environ.get("PATH", "")) or "/usr/sbin/slapadd"

# nis is not needed: groupOfNames and groupOfUniqueNames are in core.
SYSTEM_SCHEMAS = ["core", "cosine", "inetorgperson", "misc"]

# Indexes for the filters mailgrant sends (see ldap-schema/README.md).
INDEXES = [
    "objectClass eq",
    "uid eq",
    "mail eq",
    "mailLocalAddress eq",
    "cn eq",
    "member eq",
    "uniqueMember eq",
    "mailGrantee eq",
    "mailGrantNotBefore eq",
    "mailGrantNotAfter eq",
    "mailGrantSend pres",   # a cold send decision asks (mailGrantSend=*)
]
MEMBEROF_INDEXES = ["memberOf eq"]

START_TIMEOUT_S = 10.0

# slapd's debug levels: "stats" for the operations (tests count " SRCH base=" lines).
# slapd 2.5 and 2.6 log "<= mdb_equality_candidates: (attr) not indexed" only at level
# "filter" (older releases logged it at every level), so with "stats" alone no test can
# see that warning: an instance started with log_filters (CLI --log-filters; every one
# when $MAILGRANT_SLAPD_LOG_FILTERS is 1) adds "filter". Not by default: that level also
# logs each entry tested against each filter term (1.8 million lines for one LOGIN + LIST
# over 600 sharers in tests/dovecot-plugin/test_login_search_count.py), and a slapd that
# slow makes the tests with tight timeouts fail.
DEBUG_LEVELS = "stats"
FILTER_DEBUG_LEVELS = "stats,filter"
LOG_FILTERS_ENV = "MAILGRANT_SLAPD_LOG_FILTERS"
UNINDEXED = "not indexed"
# Where every stopped instance that logged filters appends the searches slapd ran without
# an index: each warning with the SRCH line it belongs to (the survey of
# ldap-schema/README.md, "Indexes").
UNINDEXED_REPORT_ENV = "MAILGRANT_UNINDEXED_REPORT"
STOP_TIMEOUT_S = 5.0
KILL_TIMEOUT_S = 3.0
TOOL_TIMEOUT_S = 30.0
PRELOAD_TIMEOUT_S = 1800.0  # slapadd of a bench's million entries

DEFAULT_ROOTPW = "sandbox-secret"


class SlapdError(RuntimeError):
    pass


def _free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def acl_conf_to_olc(text):
    """slapd.conf database ACL text -> (olcAccess values, {olc attribute: value}).

    Understands comments, continuation lines (leading whitespace), "access to"
    rules and "add_content_acl on|off".
    """
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if line[0] in " \t":
            if not lines:
                raise SlapdError("ACL text starts with a continuation line: %r" % line)
            lines[-1] += " " + stripped
        else:
            lines.append(stripped)
    rules, attrs = [], {}
    for r in lines:
        m = re.match(r"access\s+(to\s.*)$", r)
        if m:
            rules.append(m.group(1))
            continue
        m = re.match(r"add_content_acl\s+(on|off|yes|no|true|false)$", r, re.I)
        if m:
            attrs["olcAddContentAcl"] = "TRUE" if m.group(1).lower() in ("on", "yes", "true") else "FALSE"
            continue
        raise SlapdError("not understood in ACL text: %r" % r)
    return rules, attrs


def _all_threads_stopped(pid):
    """True when every thread of pid is in state T (stopped) per /proc."""
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return False
    for tid in tasks:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in ("T", "t"):
            return False
    return True


def _pid_alive(pid):
    """True if pid exists, is not a zombie, and is a slapd."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        # state is the field after the ")" closing the command name
        state = stat.rsplit(")", 1)[1].split()[0]
        if state in ("Z", "X"):
            return False
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read().split(b"\0")[0]
        return os.path.basename(cmd) == b"slapd"
    except (OSError, IndexError):
        return False


def _kill_pid(pid, popen=None):
    """SIGTERM, bounded wait, SIGKILL, bounded wait. Returns True if gone."""
    def gone():
        if popen is not None:
            return popen.poll() is not None
        return not _pid_alive(pid)

    if gone():
        return True
    for sig, timeout in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, KILL_TIMEOUT_S)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if gone():
                return True
            time.sleep(0.05)
    return gone()


class Slapd:
    def __init__(self, workdir, fmt="conf", suffix="dc=example,dc=com", acl=None,
                 memberof=False, rootpw=DEFAULT_ROOTPW, tls=None, accesslog=False, syncprov=False,
                 port=None, server_id=None, peer_uri=None, maxsize=104857600, log_filters=False):
        if fmt not in ("conf", "cnconfig"):
            raise ValueError("fmt must be 'conf' or 'cnconfig'")
        self.workdir = os.path.abspath(workdir)
        self.fmt = fmt
        self.suffix = suffix
        self.acl = acl            # slapd.conf-style "access to ..." text, or None
        self.memberof = memberof
        self.log_filters = log_filters or os.environ.get(LOG_FILTERS_ENV) == "1"
        # {"cert": PEM, "key": PEM, "ca": PEM} enables StartTLS (conf format only)
        self.tls = tls
        if tls and fmt != "conf":
            raise ValueError("tls is supported with fmt='conf' only")
        self.accesslog = accesslog
        # RFC 4533 sync provider on the database (what ldap-schema/README.md says a site
        # enables for mailgrant-policyd's cache.follow_changes); conf format only.
        self.syncprov = syncprov
        if syncprov and fmt != "conf":
            raise ValueError("syncprov is supported with fmt='conf' only")
        if accesslog and fmt != "cnconfig":
            raise ValueError("accesslog is supported with fmt='cnconfig' only")
        # One provider of an N-Way Multi-Provider pair (README "Several servers"): its own
        # serverID, syncprov, and one syncrepl from the provider at peer_uri (which uses the
        # same suffix and rootdn credentials). provider_pair() builds both ends.
        self.server_id = server_id
        self.peer_uri = peer_uri
        if (server_id is None) != (peer_uri is None):
            raise ValueError("server_id and peer_uri go together")
        if peer_uri and not (syncprov and fmt == "conf"):
            raise ValueError("a multi-provider member needs syncprov=True and fmt='conf'")
        self._rootpw = rootpw
        # back-mdb's map size in bytes (the database's ceiling): the default fits every
        # test; bench/cli_scale.py's million grants need more.
        self.maxsize = int(maxsize)
        # A fixed port makes the URI known before start() (the peer's syncrepl names it).
        self._fixed_port = port
        self._port = port
        self._proc = None
        self.log_path = os.path.join(self.workdir, "slapd.log")
        self.pid_path = os.path.join(self.workdir, "slapd.pid")
        self.db_dir = os.path.join(self.workdir, "db")
        self.conf_path = os.path.join(self.workdir, "slapd.conf")
        self.confdir = os.path.join(self.workdir, "slapd.d")
        self.config_ldif_path = os.path.join(self.workdir, "config.ldif")
        self.socket_path = os.path.join(self.workdir, "ldapi")
        self.rootpw_path = os.path.join(self.workdir, "rootpw")

    # ---- properties -----------------------------------------------------
    @property
    def port(self):
        return self._port

    @property
    def uri(self):
        return "ldap://127.0.0.1:%d" % self._port

    @property
    def ldapi_uri(self):
        return "ldapi://" + urllib.parse.quote(self.socket_path, safe="")

    @property
    def base(self):
        return self.suffix

    @property
    def rootdn(self):
        return "cn=admin," + self.suffix

    @property
    def rootpw(self):
        return self._rootpw

    @property
    def pid(self):
        return self._proc.pid if self._proc else None

    # ---- config generation ----------------------------------------------
    def _acl_olc(self):
        return acl_conf_to_olc(self.acl) if self.acl else ([], {})

    def _write_conf(self):
        lines = ["# generated by tests/harness/slapd_sandbox.py"]
        for s in SYSTEM_SCHEMAS:
            lines.append("include %s/%s.schema" % (SYSTEM_SCHEMA_DIR, s))
        lines.append("include %s" % MAILGRANT_SCHEMA)
        if self.server_id is not None:
            lines.append("serverID %d" % self.server_id)
        lines += [
            "pidfile %s" % self.pid_path,
            "argsfile %s" % os.path.join(self.workdir, "slapd.args"),
            "modulepath %s" % MODULE_PATH,
            "moduleload back_mdb",
        ]
        if self.memberof:
            lines.append("moduleload memberof")
        if self.syncprov:
            lines.append("moduleload syncprov")
        if self.tls:
            lines += ["TLSCACertificateFile %s" % self.tls["ca"],
                      "TLSCertificateFile %s" % self.tls["cert"],
                      "TLSCertificateKeyFile %s" % self.tls["key"]]
        lines += [
            "",
            "database config",
            'access to * by dn.exact="gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth" manage by * break',
            "",
            "database mdb",
            'suffix "%s"' % self.suffix,
            'rootdn "%s"' % self.rootdn,
            "rootpw %s" % self._rootpw,
            "directory %s" % self.db_dir,
            "maxsize %d" % self.maxsize,
        ]
        for ix in INDEXES + (MEMBEROF_INDEXES if self.memberof else []):
            lines.append("index %s" % ix)
        if self.acl:
            lines.append("# ACL supplied by the test")
            lines.append(self.acl.rstrip("\n"))
        if self.memberof:
            lines.append("overlay memberof")
        if self.peer_uri:
            # slapd 2.5/2.6 keyword (2.4 called it mirrormode); it must follow syncrepl.
            lines += ['syncrepl rid=%03d provider=%s bindmethod=simple binddn="%s" credentials=%s '
                      'searchbase="%s" type=refreshAndPersist retry="1 +" timeout=1 network-timeout=1'
                      % (self.server_id, self.peer_uri, self.rootdn, self._rootpw, self.suffix),
                      "multiprovider on"]
        if self.syncprov:
            lines += ["index entryCSN,entryUUID eq", "overlay syncprov"]
        with open(self.conf_path, "w") as f:
            f.write("\n".join(lines) + "\n")

    def _write_config_ldif(self):
        peercred = "gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth"
        parts = [
            "dn: cn=config\nobjectClass: olcGlobal\ncn: config\n"
            "olcPidFile: %s\nolcArgsFile: %s\n" % (self.pid_path, os.path.join(self.workdir, "slapd.args")),
            "dn: cn=module{0},cn=config\nobjectClass: olcModuleList\ncn: module{0}\n"
            "olcModulePath: %s\nolcModuleLoad: back_mdb\n" % MODULE_PATH
            + ("olcModuleLoad: memberof\n" if self.memberof else ""),
            "dn: cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: schema\n",
        ]
        for s in SYSTEM_SCHEMAS:
            parts.append("include: file://%s/%s.ldif\n" % (SYSTEM_SCHEMA_DIR, s))
        parts.append("dn: olcDatabase={-1}frontend,cn=config\nobjectClass: olcDatabaseConfig\n"
                     "objectClass: olcFrontendConfig\nolcDatabase: {-1}frontend\n")
        parts.append("dn: olcDatabase={0}config,cn=config\nobjectClass: olcDatabaseConfig\n"
                     "olcDatabase: {0}config\nolcAccess: {0}to * by dn.exact=%s manage by * break\n" % peercred)
        db = ("dn: olcDatabase={1}mdb,cn=config\nobjectClass: olcDatabaseConfig\n"
              "objectClass: olcMdbConfig\nolcDatabase: {1}mdb\n"
              "olcSuffix: %s\nolcRootDN: %s\nolcRootPW: %s\nolcDbDirectory: %s\n"
              "olcDbMaxSize: 104857600\n"
              % (self.suffix, self.rootdn, self._rootpw, self.db_dir))
        # Indexes on mailgrant attributes are added after the schema is loaded
        # (see _post_schema_config): slapadd -n0 does not know them yet.
        for ix in [i for i in INDEXES if not i.startswith("mailGrant")] + \
                (MEMBEROF_INDEXES if self.memberof else []):
            db += "olcDbIndex: %s\n" % ix
        # The ACL may name mailgrant classes/attributes too: added with the indexes.
        parts.append(db)
        if self.memberof:
            parts.append("dn: olcOverlay={0}memberof,olcDatabase={1}mdb,cn=config\n"
                         "objectClass: olcOverlayConfig\nobjectClass: olcMemberOf\n"
                         "olcOverlay: {0}memberof\n")
        with open(self.config_ldif_path, "w") as f:
            f.write("# generated by tests/harness/slapd_sandbox.py\n")
            f.write("\n".join(parts))

    # ---- running tools --------------------------------------------------
    def _run(self, argv, input_text=None, check=True, timeout=TOOL_TIMEOUT_S):
        try:
            p = subprocess.run(argv, input=input_text, capture_output=True, text=True,
                               timeout=timeout)
        except subprocess.TimeoutExpired:
            raise SlapdError("timed out: %s" % " ".join(argv))
        if check and p.returncode != 0:
            raise SlapdError("%s failed (exit %d):\n%s%s" % (
                " ".join(argv), p.returncode, p.stdout, p.stderr))
        return p

    def _log_tail(self, n=60):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no slapd log)"

    # ---- lifecycle ------------------------------------------------------
    def _prepare(self):
        os.makedirs(self.workdir, exist_ok=True)
        for p in (self.db_dir, self.confdir):
            if os.path.exists(p):
                shutil.rmtree(p)
        os.makedirs(self.db_dir, mode=0o700)
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        fd = os.open(self.rootpw_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self._rootpw)
        os.chmod(self.rootpw_path, 0o600)
        if self.fmt == "conf":
            self._write_conf()
            self._run([SLAPD, "-Tt", "-u", "-f", self.conf_path])
        else:
            self._write_config_ldif()
            os.makedirs(self.confdir, mode=0o700)
            self._run([SLAPADD, "-n0", "-F", self.confdir, "-l", self.config_ldif_path])

    def _answers(self):
        p = subprocess.run(["ldapsearch", "-x", "-H", self.uri, "-b", "", "-s", "base",
                            "-o", "nettimeout=2", "-l", "2", "1.1"],
                           capture_output=True, text=True, timeout=5)
        return p.returncode == 0

    def _spawn(self, detach):
        urls = "%s/ %s" % (self.uri, self.ldapi_uri)
        argv = [SLAPD, "-d", FILTER_DEBUG_LEVELS if self.log_filters else DEBUG_LEVELS, "-h", urls]
        argv += ["-f", self.conf_path] if self.fmt == "conf" else ["-F", self.confdir]
        log = open(self.log_path, "ab")
        try:
            self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT,
                                          start_new_session=detach, close_fds=True)
        finally:
            log.close()
        with open(os.path.join(self.workdir, "harness.pid"), "w") as f:
            f.write("%d\n" % self._proc.pid)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            try:
                if self._answers():
                    return True
            except subprocess.TimeoutExpired:
                pass
            time.sleep(0.1)
        return False

    def start(self, detach=False, preload=None):
        """Starts slapd; `preload`: an LDIF file loaded first with `slapadd -q` (offline,
        conf format only: much faster than ldapadd for a large directory, no overlays)."""
        self._prepare()
        if preload:
            if self.fmt != "conf":
                raise ValueError("preload is supported with fmt='conf' only")
            self._run([SLAPADD, "-q", "-f", self.conf_path, "-l", preload], timeout=PRELOAD_TIMEOUT_S)
        ok = False
        for _attempt in range(3):   # a free port can be taken between probe and bind
            self._port = self._fixed_port or _free_port()
            with open(self.log_path, "w"):
                pass
            if self._spawn(detach):
                ok = True
                break
            self._kill()
        if not ok:
            raise SlapdError("slapd did not start within %.0f s; log:\n%s"
                             % (START_TIMEOUT_S, self._log_tail()))
        try:
            if self.fmt == "cnconfig":
                self.config_add(MAILGRANT_LDIF)
                self._post_schema_config()
                if self.accesslog:
                    self._enable_accesslog()
        except Exception:
            self.stop()
            raise
        return self

    def _post_schema_config(self):
        ldif = "dn: olcDatabase={1}mdb,cn=config\nchangetype: modify\nadd: olcDbIndex\n"
        for ix in INDEXES:
            if ix.startswith("mailGrant"):
                ldif += "olcDbIndex: %s\n" % ix
        rules, attrs = self._acl_olc()
        for name, value in attrs.items():
            ldif += "-\nreplace: %s\n%s: %s\n" % (name, name, value)
        if rules:
            ldif += "-\nadd: olcAccess\n"
            for i, rule in enumerate(rules):
                ldif += "olcAccess: {%d}%s\n" % (i, rule)
        self._run(["ldapmodify", "-Q", "-Y", "EXTERNAL", "-H", self.ldapi_uri], input_text=ldif)

    def _enable_accesslog(self):
        """ldap-schema/accesslog.ldif as shipped, but for this instance: its own log
        directory and suffix; the rootdn reads the log where the service account would."""
        logdir = os.path.join(self.workdir, "accesslog")
        if os.path.exists(logdir):
            shutil.rmtree(logdir)
        os.makedirs(logdir, mode=0o700)
        with open(ACCESSLOG_LDIF) as f:
            ldif = f.read()
        ldif = (ldif.replace("/var/lib/ldap/accesslog", logdir)
                .replace("cn=mailgrant,ou=services,dc=example,dc=com", self.rootdn)
                .replace("dc=example,dc=com", self.suffix))
        self._run(["ldapmodify", "-Q", "-Y", "EXTERNAL", "-H", self.ldapi_uri], input_text=ldif)

    def _kill(self):
        if self._proc is not None:
            _kill_pid(self._proc.pid, self._proc)
            try:
                self._proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
            self._proc = None

    def stop(self):
        was_running = self._proc is not None
        self._kill()
        if was_running:
            report_unindexed(self.workdir)
        for p in (os.path.join(self.workdir, "harness.pid"), self.socket_path):
            try:
                os.unlink(p)
            except OSError:
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # ---- data -----------------------------------------------------------
    def pause(self, timeout_s=5):
        """SIGSTOP slapd (a hung LDAP server) and wait until every thread is stopped:
        kill() returns before the stop takes effect, and slapd may answer meanwhile."""
        os.kill(self.pid, signal.SIGSTOP)
        deadline = time.time() + timeout_s
        while not _all_threads_stopped(self.pid):
            if time.time() > deadline:
                raise RuntimeError("slapd %d did not stop within %d s" % (self.pid, timeout_s))
            time.sleep(0.01)

    def resume(self):
        os.kill(self.pid, signal.SIGCONT)

    def load_ldif(self, path):
        """ldapadd the LDIF file as rootdn (online, so overlays such as memberof see it)."""
        return self._run(["ldapadd", "-x", "-H", self.uri, "-D", self.rootdn,
                          "-y", self.rootpw_path, "-f", path])

    def config_add(self, path):
        """ldapadd -Y EXTERNAL over the private ldapi socket (cn=config admin)."""
        return self._run(["ldapadd", "-Q", "-Y", "EXTERNAL", "-H", self.ldapi_uri, "-f", path])

    def config_modify(self, path):
        """ldapmodify -Y EXTERNAL over the private ldapi socket (cn=config admin)."""
        return self._run(["ldapmodify", "-Q", "-Y", "EXTERNAL", "-H", self.ldapi_uri, "-f", path])

    def env_lines(self):
        return ["LDAP_URI=%s" % self.uri, "LDAP_BASE=%s" % self.base,
                "LDAP_ROOTDN=%s" % self.rootdn, "LDAP_ROOTPW=%s" % self.rootpw]


def provider_pair(dir1, dir2, **kwargs):
    """Two Slapd (not started) that replicate to each other: OpenLDAP's N-Way
    Multi-Provider setup as README "Several servers" tells sites to run it (serverID 1
    and 2, syncprov, one syncrepl each pointing at the other). Both ports are chosen
    first, since each configuration names the other's URI. Start both; load data on one."""
    port1 = _free_port()
    port2 = _free_port()
    for _ in range(10):  # the kernel rarely hands out the same free port twice in a row
        if port2 != port1:
            break
        port2 = _free_port()
    uri = "ldap://127.0.0.1:%d"
    return (Slapd(dir1, syncprov=True, port=port1, server_id=1, peer_uri=uri % port2, **kwargs),
            Slapd(dir2, syncprov=True, port=port2, server_id=2, peer_uri=uri % port1, **kwargs))


# ---- CLI ------------------------------------------------------------------
def unindexed_searches(log_path):
    """[(SRCH line, warning)] for each "not indexed" warning in a slapd log: the search
    it belongs to is the last SRCH line of the same thread before it."""
    found, last_search = [], {}
    try:
        with open(log_path, errors="replace") as f:
            for line in f:
                fields = line.split(" ", 2)
                thread = fields[1] if len(fields) > 2 else ""
                if " SRCH base=" in line:
                    last_search[thread] = line.rstrip("\n")
                elif UNINDEXED in line:
                    found.append((last_search.get(thread, "(no SRCH line before it)"), line.rstrip("\n")))
    except OSError:
        pass
    return found


def report_unindexed(workdir):
    """Appends this instance's unindexed searches to $MAILGRANT_UNINDEXED_REPORT/<dir>.log
    (nothing when the variable is unset or there are none)."""
    report_dir = os.environ.get(UNINDEXED_REPORT_ENV)
    if not report_dir:
        return
    found = unindexed_searches(os.path.join(workdir, "slapd.log"))
    if not found:
        return
    os.makedirs(report_dir, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", os.path.abspath(workdir).strip("/"))
    with open(os.path.join(report_dir, name + ".log"), "a") as f:
        for search, warning in found:
            f.write("%s\n    %s\n" % (search, warning))


def _cli_stop(workdir):
    workdir = os.path.abspath(workdir)
    pids = set()
    for name in ("harness.pid", "slapd.pid"):
        try:
            with open(os.path.join(workdir, name)) as f:
                pids.add(int(f.read().strip()))
        except (OSError, ValueError):
            pass
    ok, was_running = True, False
    for pid in pids:
        if _pid_alive(pid):
            was_running = True
            ok = _kill_pid(pid) and ok
    for name in ("harness.pid", "slapd.pid", "ldapi"):
        try:
            os.unlink(os.path.join(workdir, name))
        except OSError:
            pass
    if was_running:
        report_unindexed(workdir)
    if not ok:
        print("slapd did not exit", file=sys.stderr)
        return 1
    return 0


def _cli_start(args):
    workdir = os.path.abspath(args.dir)
    _cli_stop(workdir)   # never leave an older instance of this dir running
    acl = None
    if args.acl_file:
        with open(args.acl_file) as f:
            acl = f.read()
    s = Slapd(workdir, fmt=args.format, suffix=args.suffix, acl=acl, memberof=args.memberof,
              accesslog=args.accesslog, syncprov=args.syncprov, log_filters=args.log_filters)
    try:
        s.start(detach=True)
        for path in args.ldif or []:
            s.load_ldif(path)
    except Exception as e:  # noqa: BLE001 - report everything, exit 1
        print("slapd_sandbox: start failed: %s" % e, file=sys.stderr)
        print("---- slapd log (%s) ----" % s.log_path, file=sys.stderr)
        print(s._log_tail(), file=sys.stderr)
        s.stop()
        return 1
    lines = s.env_lines()
    with open(os.path.join(workdir, "slapd.env"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    sys.stdout.flush()
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description="private slapd for mailgrant tests")
    sub = ap.add_subparsers(dest="cmd", required=True)
    st = sub.add_parser("start", help="start slapd detached")
    st.add_argument("--dir", required=True)
    st.add_argument("--format", choices=("conf", "cnconfig"), default="conf")
    st.add_argument("--ldif", action="append", help="LDIF file to ldapadd as rootdn (repeatable)")
    st.add_argument("--memberof", action="store_true", help="enable the memberof overlay")
    st.add_argument("--acl-file", help="slapd.conf-style access rules for the database")
    st.add_argument("--suffix", default="dc=example,dc=com")
    st.add_argument("--accesslog", action="store_true",
                    help="slapd's accesslog overlay (ldap-schema/accesslog.ldif; --format cnconfig)")
    st.add_argument("--syncprov", action="store_true", help="the syncprov overlay (RFC 4533; --format conf)")
    st.add_argument("--log-filters", action="store_true",
                    help='debug level "stats,filter": slapd logs "not indexed" warnings (much more output)')
    sp = sub.add_parser("stop", help="stop slapd (idempotent)")
    sp.add_argument("--dir", required=True)
    args = ap.parse_args(argv)
    if args.cmd == "start":
        return _cli_start(args)
    return _cli_stop(args.dir)


if __name__ == "__main__":
    sys.exit(main())
