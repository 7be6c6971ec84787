"""The sandboxes of bench/imap_bench.py: the LDAP entries (the bench's people and grants,
N sharers for (b)), the stock side's Dovecot configuration and ACL files, the mail both
sides read, and what the bench reads from the running servers (CPU time from /proc, slapd's
searches from its stats log, the filesystem the mail is on). The workloads and the
verdicts are imap_bench.py's.
"""
import os
import pwd
import re
import subprocess
import tempfile
import time

SERVICE_DN = "cn=mailgrant,ou=services,dc=example,dc=com"
SERVICE_PW = "service-pw"
# ldap-schema/README.md "Size limits": a site whose service follows changes (syncprov) lets
# the service account's sync refresh read more than slapd's default 500 entries.
LIMITS = ('limits dn.exact="%s" size.prtotal=unlimited size.soft=unlimited size.hard=unlimited '
          'time.soft=unlimited time.hard=unlimited\n' % SERVICE_DN)
OWNER, READER, SOLO = "benchowner@example.com", "benchreader@example.com", "benchsolo@example.com"
FOLDER = "Team"
SHARED = "shared/%s/%s" % (OWNER, FOLDER)
MESSAGES = 20
RIGHTS = "lrs"   # DESIGN.md: reader = lrs


def person_dn(uid):
    return "uid=%s,ou=people,dc=example,dc=com" % uid


def person(uid):
    return ("dn: %s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: %s\nmail: %s@example.com\n"
            "userPassword: %s-pw\n\n" % (person_dn(uid), uid, uid, uid, uid, uid))


def password(address):
    return address.split("@")[0] + "-pw"


def bench_ldif(sharer_ns):
    out = ["dn: ou=services,dc=example,dc=com\nobjectClass: organizationalUnit\nou: services\n\n",
           "dn: %s\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: mailgrant\n"
           "userPassword: %s\n\n" % (SERVICE_DN, SERVICE_PW)]
    out += [person(a.split("@")[0]) for a in (OWNER, READER, SOLO)]
    out.append("dn: cn=bench-team,%s\nobjectClass: mailGrant\ncn: bench-team\nmailGrantee: %s\n"
               "mailGrantFolder: %s\nmailGrantRights: reader\n\n" % (person_dn("benchowner"), person_dn("benchreader"),
                                                                     FOLDER))
    out += [person("u%d" % n) for n in sharer_ns]
    for i in range(max(sharer_ns, default=0)):
        out.append(person("sharer-%d" % i))
        out.append("dn: cn=share,%s\nobjectClass: mailGrant\ncn: share\n%smailGrantFolder: INBOX\n"
                   "mailGrantRights: reader\n\n"
                   % (person_dn("sharer-%d" % i), "".join("mailGrantee: %s\n" % person_dn("u%d" % n)
                                                          for n in sharer_ns if i < n)))
    return "".join(out)


# ---- the stock configuration: the drop-in's Dovecot part without mailgrant -------------
def stock_conf(work, shared_dict):
    from mail_sandbox import dovecot_conf
    last_login = os.path.join(work, "last-login", "last-login.db")
    return dovecot_conf("""
mail_plugins = $mail_plugins acl
protocol imap {
  mail_plugins = $mail_plugins imap_acl last_login
}
namespace mailgrant_shared {
  type = shared
  separator = /
  prefix = shared/%%u/
  location = maildir:%%h/Maildir:INDEXPVT=~/Maildir/shared/%%u
  list = children
  subscriptions = no
}
plugin {
  acl = vfile
  acl_shared_dict = file:{dict}
  last_login_dict = proxy::lastlogin
}
dict {
  lastlogin = file:{last_login}
}
""".replace("{dict}", shared_dict).replace("{last_login}", last_login), """
mail_plugins {
  acl = yes
}
protocol imap {
  mail_plugins {
    imap_acl = yes
    last_login = yes
  }
}
acl_driver = vfile
acl_sharing_map {
  dict file {
    dict_file_path = {dict}
  }
}
last_login {
  dict proxy {
    dict_proxy_name = lastlogin
  }
}
dict_server {
  dict lastlogin {
    driver = file
    dict_file_path = {last_login}
  }
}
namespace mailgrant_shared {
  type = shared
  separator = /
  prefix = shared/$user/
  mail_driver = maildir
  mail_path = %{owner_home}/Maildir
  mail_index_private_path = ~/Maildir/shared/%{owner_user}
  list = children
  subscriptions = no
}
""".replace("{dict}", shared_dict).replace("{last_login}", last_login))


def write_acl(folder_dir, name, grantees):
    """A stock share as `doveadm acl set` leaves it: the folder's dovecot-acl file and the
    owner's dovecot-acl-list naming it ("<mtime of the ACL file> <folder>", Dovecot's
    vfile format). Without the list, the owner's first LIST by anyone rebuilds it and
    rewrites the owner's entries in the shared dict file, once per owner: minutes for
    1,000 owners (quadratic with the file dict), which a site pays once, when sharing."""
    acl = os.path.join(folder_dir, "dovecot-acl")
    with open(acl, "w") as f:
        f.write("".join("user=%s %s\n" % (g, RIGHTS) for g in grantees))
    maildir = folder_dir if name == "INBOX" else os.path.dirname(folder_dir)
    with open(os.path.join(maildir, "dovecot-acl-list"), "w") as f:
        f.write("%d %s\n" % (int(os.stat(acl).st_mtime), name))


def fill_mail(stack, sharer_ns, stock, shared_dict):
    """The same mailboxes in both stacks; on the stock one also the dovecot-acl files and
    the shared dict naming every share."""
    def maildir(address, folder=None):
        base = stack.maildir_of(address)
        path = base if folder is None else os.path.join(base, "." + folder)
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(path, sub), exist_ok=True)
        return path

    for address, folder in ((OWNER, FOLDER), (SOLO, None)):
        path = maildir(address, folder)
        for i in range(MESSAGES):
            with open(os.path.join(path, "cur", "%d.M%dP1.bench:2," % (1700000000 + i, i)), "w") as f:
                f.write("From: Sender %d <sender%d@example.org>\nTo: %s\nSubject: benchmark message %d\n"
                        "Date: Tue, 14 Nov 2023 10:00:%02d +0000\nMessage-ID: <bench-%d@example.org>\n\n%s"
                        % (i, i, address, i, i % 60, i, "benchmark body line\n" * 40))
    maildir(READER)
    dict_lines = []
    for i in range(max(sharer_ns, default=0)):
        path = maildir("sharer-%d@example.com" % i)
        grantees = ["u%d@example.com" % n for n in sharer_ns if i < n]
        if stock:
            write_acl(path, "INBOX", grantees)
            dict_lines += ["shared/shared-boxes/user/%s/sharer-%d@example.com\n1\n" % (g, i) for g in grantees]
    if stock:
        write_acl(maildir(OWNER, FOLDER), FOLDER, [READER])
        dict_lines.append("shared/shared-boxes/user/%s/%s\n1\n" % (READER, OWNER))
        with open(shared_dict, "w") as f:
            f.write("".join(dict_lines))
    mail = pwd.getpwnam("mail")
    for path in [stack.mail_dir] + ([os.path.dirname(shared_dict)] if stock else []):
        for dirpath, _dirs, files in os.walk(path):
            os.chown(dirpath, mail.pw_uid, mail.pw_gid)
            for name in files:
                os.chown(os.path.join(dirpath, name), mail.pw_uid, mail.pw_gid)


def _stat_fields(pid):
    """/proc/PID/stat's fields after the ')' (the command name may hold spaces), or None
    if the process is gone: [7] minflt, [8] cminflt, [11] utime, [12] stime, [13] cutime,
    [14] cstime."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _stat_ticks(pid, children=False):
    """utime + stime of pid (all its threads), with cutime + cstime (the children it
    reaped) when `children`; 0 if it is gone."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0
    ticks = int(fields[11]) + int(fields[12])
    return ticks + (int(fields[13]) + int(fields[14]) if children else 0)


def reaped_faults(pid):
    """Minor page faults of the children `pid` reaped (cminflt in /proc/PID/stat): for a
    Dovecot master, its per-login imap processes. Unlike CPU time, an exact count that
    repeats from round to round (about 25 us each on this VM), so a difference of 1% of a
    LOGIN + LIST shows in it where whole-cycle timing cannot see it (session 22)."""
    fields = _stat_fields(pid)
    return int(fields[8]) if fields else 0


def dovecot_cpu_s(master_pid):
    """CPU seconds of a Dovecot so far: {"reaped": the children its master reaped (the
    per-login imap processes, in login-heavy), NAME: each live child kind (imap-login,
    auth, config, ...) with what it reaped, "master": the master itself}."""
    hz = os.sysconf("SC_CLK_TCK")
    out = {"master": _stat_ticks(master_pid) / hz,
           "reaped": (_stat_ticks(master_pid, children=True) - _stat_ticks(master_pid)) / hz}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                text = f.read()
            name = text.split("(", 1)[1].rsplit(")", 1)[0]
            ppid = int(text.rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == master_pid:
            out[name] = out.get(name, 0.0) + _stat_ticks(int(entry), children=True) / hz
    return out


def searches_during(slapd, action):
    """(result of action(), LDAP searches slapd logged meanwhile); a short bounded wait
    lets the last lines of the stats log be written."""
    start = os.path.getsize(slapd.log_path)
    result = action()

    def count():
        with open(slapd.log_path, "rb") as f:
            f.seek(start)
            return len(re.findall(rb" SRCH base=", f.read()))
    n, deadline = count(), time.monotonic() + 2
    while time.monotonic() < deadline:
        time.sleep(0.2)
        again = count()
        if again == n:
            break
        n = again
    return result, n


def fs_type(path):
    """The filesystem type under path as `stat -f` names it ("tmpfs", "ext2/ext3" for
    ext4 too, ...; it works in a chroot, where /proc/self/mountinfo may not show "/").
    It matters here: a tmpfs never keeps a negative lookup, so each stat of a file that
    does not exist allocates and frees a dentry. Dovecot 2.4.1's vfile stats a folder's
    dovecot-acl at every rights refresh (its cache_secs is never set from acl_cache_ttl),
    19 times per session-heavy cycle; a folder shared through a grant has no such file,
    the stock side's has. On tmpfs that alone cost the grant side about 10% of (a)
    session-heavy (0.85 against 0.95 on ext4, same build, Debian 13); mail stores are
    not on tmpfs, so the default keeps the sandboxes off it."""
    try:
        out = subprocess.run(["stat", "-f", "-c", "%T", path], capture_output=True, text=True,
                             timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = ""
    return out or "unknown"


def sandbox_parent():
    """The temporary directory, unless it is a tmpfs (scripts/in-root mounts one on /tmp)
    and /var/tmp is not."""
    tmp = tempfile.gettempdir()
    if fs_type(tmp) == "tmpfs" and os.path.isdir("/var/tmp") and fs_type("/var/tmp") != "tmpfs":
        return "/var/tmp"
    return tmp
