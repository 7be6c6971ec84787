#!/usr/bin/env python3
"""Package test (issue 15): README "Install from the packages (Debian 12 and 13)" followed
literally on a fresh Debian root with Debian's own configuration, then upgraded, removed
and purged.

  1. make-root.sh DIST: the cached stock root the deployment test uses (Debian's slapd,
     Dovecot, Postfix; the build tools and debhelper/lintian); the test works on a copy.
  2. In that copy, in private mount, PID and network namespaces (test_deploy.py's way):
     tests/deploy/baseline-site.sh (the site), then every ```sh block of the README
     section in order: dpkg-buildpackage + lintian (no errors, or the block fails),
     `apt-get install` of the built packages, the LDAP, password, Dovecot, Postfix steps,
     the first grants. A list of the root's files is taken between building and
     installing. Then tests/deploy/verify.py: real clients, each decision matched with
     the deciding component's log line, against the INSTALLED binaries (the build tree's
     are never on PATH; the checks below make sure what runs is the package's), and the
     README demo's story (examples/demo/demo.py) with the installed binaries.
  3. Upgrade: the admin edits /etc/mailgrant/mailgrant.yaml; a rebuilt version
     (0.1.0+upgradetest1) ships a changed mailgrant.yaml; `apt-get install` with
     --force-confold keeps the admin's edit (the new file lands as .dpkg-dist), keeps the
     password file and the owner/mode overrides; verify.py passes again.
  4. Remove: the Dovecot drop-in's link goes, Dovecot's configuration is valid without
     the plugin, /etc/mailgrant stays. Purge: nothing the packages or their scripts made
     is left (the file list is compared with the one taken before installing), apart
     from what Debian policy allows (the system user) and the site's own data.
Needs root, mmdebstrap (installed by make-root.sh) and Debian's package archive for the
first root. usage: test_packages.py [bookworm|trixie]
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_deploy import readme_script, readme_steps, run_in_stock_root  # noqa: E402

SECTION = "## Install from the packages (Debian 12 and 13)"
DISTS = ("bookworm", "trixie")
RUN_TIMEOUT_S = 2400
PACKAGES = "mailgrant-common mailgrant-dovecot-plugin mailgrant-policyd mailgrant-cli mailgrant-ldap-schema"
UPGRADE_VERSION = "0.1.0+upgradetest1"

# The root's files outside what a run creates anyway: the source tree and the packages
# built from it (/usr/src), dpkg's and apt's own state, caches, logs, runtime files.
SNAPSHOT = r"""find / -xdev \( -path /usr/src -o -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/cache \
  -o -path /var/log -o -path /proc -o -path /dev -o -path /run -o -path /tmp -o -path /root -o -path /sys \) -prune \
  -o -print | LC_ALL=C sort"""
# Changed between install and purge by the site and the README's admin steps, not by the
# packages: slapd's configuration and data (schema loaded by the admin, grants), the
# mail itself, Dovecot's and Postfix's runtime state, the system user (policy allows).
SITE_DATA = ("/etc/ldap/slapd.d/", "/var/lib/ldap/", "/var/vmail/", "/var/mail/", "/home/",
             "/var/lib/dovecot/", "/var/lib/postfix/", "/var/spool/postfix/")


# The README demo's story (examples/demo/demo.py, its own private stack on free ports next
# to the site) run with the INSTALLED binaries: demo.py takes a build directory, so this
# one holds links to what the packages installed. The Dovecot modules are copies (the
# same bytes): on 2.4 the harness mounts its module overlay over Dovecot's module dir,
# where a link back into that dir would point at itself.
DEMO = r"""
echo '== the demo story with the installed binaries (examples/demo/demo.py)'
b=/tmp/mailgrant-installed   # not /root (0700): the demo's LDA runs as the mail user
mkdir -p $b/cli $b/postfix-policyd $b/dovecot-plugin
chmod 0755 $b $b/*
ln -sf /usr/bin/mailgrant $b/cli/mailgrant
ln -sf /usr/sbin/mailgrant-policyd $b/postfix-policyd/mailgrant-policyd
ln -sf /usr/libexec/mailgrant/mailgrant-checkpassword $b/dovecot-plugin/mailgrant-checkpassword
cp /usr/lib/dovecot/modules/lib20_mailgrant_plugin.so $b/dovecot-plugin/
for sub in settings auth mailgrant; do
  for so in /usr/lib/dovecot/modules/$sub/lib*mailgrant*.so; do
    [ -e "$so" ] || continue
    mkdir -p $b/dovecot-plugin/$sub && cp "$so" $b/dovecot-plugin/$sub/
  done
done
cd /usr/src/mailgrant
MAILGRANT_DEMO_DIR=/tmp/mailgrant-demo python3 examples/demo/demo.py start $b > /root/demo.log 2>&1 ||
  { tail -60 /root/demo.log; exit 1; }
MAILGRANT_DEMO_DIR=/tmp/mailgrant-demo python3 examples/demo/demo.py stop >> /root/demo.log 2>&1
grep -c '\[ok\]' /root/demo.log
echo 'ok    the demo story passed with the installed binaries'
"""


def test_steps():
    """The test's own steps after the README's: upgrade, remove, purge (shell)."""
    return r"""
echo '== upgrade: the admin edits the YAML; a rebuilt version changes the shipped one'
sed -i 's/^  ttl_s: 30 /  ttl_s: 20 /' /etc/mailgrant/mailgrant.yaml
grep -q '^  ttl_s: 20 ' /etc/mailgrant/mailgrant.yaml
secret_before=$(sha256sum /etc/mailgrant/ldap.secret)
cd /usr/src/mailgrant
printf '# upgrade-test: a line the new version adds\n' >> examples/mailgrant.yaml
{ printf 'mailgrant (%(v)s) unstable; urgency=medium\n\n  * Upgrade test build.\n\n'
  printf ' -- mailgrant developers <dev@mailgrant.org>  Sun, 29 Nov 2026 12:00:00 +0000\n\n'
  cat debian/changelog; } > debian/changelog.new && mv debian/changelog.new debian/changelog
dpkg-buildpackage -us -uc -b -nc -j"$(nproc)" > /root/rebuild.log 2>&1 || { tail -50 /root/rebuild.log; exit 1; }
cd /usr/src
apt-get install -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  ./mailgrant-common_%(v)s_all.deb ./mailgrant-dovecot-plugin_%(v)s_*.deb ./mailgrant-policyd_%(v)s_*.deb \
  ./mailgrant-cli_%(v)s_*.deb ./mailgrant-ldap-schema_%(v)s_all.deb
for p in %(packages)s; do
  test "$(dpkg-query -W -f '${Version}' $p)" = %(v)s || { echo "FAIL $p not upgraded"; exit 1; }
done
grep -q '^  ttl_s: 20 ' /etc/mailgrant/mailgrant.yaml || { echo 'FAIL the admin edit was lost'; exit 1; }
! grep -q upgrade-test /etc/mailgrant/mailgrant.yaml || { echo 'FAIL the new YAML replaced the edited one'; exit 1; }
grep -q upgrade-test /etc/mailgrant/mailgrant.yaml.dpkg-dist || { echo 'FAIL no mailgrant.yaml.dpkg-dist'; exit 1; }
test "$(sha256sum /etc/mailgrant/ldap.secret)" = "$secret_before" || { echo 'FAIL password file changed'; exit 1; }
test "$(stat -c '%%U:%%G %%a' /etc/mailgrant/mailgrant.yaml)" = 'root:mailgrant 640' || { echo 'FAIL YAML owner/mode'; exit 1; }
test "$(stat -c '%%U:%%G %%a' /etc/mailgrant/ldap.secret)" = 'root:mailgrant 640' || { echo 'FAIL secret owner/mode'; exit 1; }
test -L /etc/dovecot/conf.d/90-mailgrant.conf || { echo 'FAIL the upgrade removed the enabled drop-in'; exit 1; }
echo 'ok    upgrade kept the admin edit (new file as .dpkg-dist), the password file and the owner/mode'
# systemd restarts the enabled unit after the upgrade (dh_installsystemd); the stand-in:
systemctl restart mailgrant-policyd
systemctl restart dovecot
echo '== verify after the upgrade (tests/deploy/verify.py)'
python3 /usr/src/mailgrant/tests/deploy/verify.py

test -d /var/lib/dovecot/last-login || { echo 'FAIL no last-login dict after install'; exit 1; }
echo '== remove'
systemctl stop mailgrant-policyd   # systemd's prerm stop, which the stand-in cannot run
apt-get remove -y %(packages)s
test ! -e /etc/dovecot/conf.d/90-mailgrant.conf || { echo 'FAIL drop-in still enabled after remove'; exit 1; }
doveconf -n > /dev/null || { echo 'FAIL Dovecot configuration broken after remove'; exit 1; }
test -f /etc/mailgrant/mailgrant.yaml || { echo 'FAIL remove took the conffile'; exit 1; }
echo 'ok    remove: drop-in disabled, Dovecot configuration valid, /etc/mailgrant kept'

echo '== purge (dpkg -P: apt no longer knows packages installed from files once removed)'
dpkg -P %(packages)s
test ! -e /etc/mailgrant || { echo 'FAIL /etc/mailgrant left after purge:'; ls -la /etc/mailgrant; exit 1; }
test ! -e /run/mailgrant || { echo 'FAIL /run/mailgrant left after purge'; exit 1; }
# dpkg's state and Dovecot's directory are outside the file-list comparison: asked here.
test -z "$(dpkg-statoverride --list | grep mailgrant)" || { echo 'FAIL statoverrides left after purge'; exit 1; }
test ! -e /var/lib/dovecot/last-login || { echo 'FAIL last-login dict left after purge'; exit 1; }
test -z "$(dpkg -l | grep mailgrant)" || { echo 'FAIL dpkg still lists a mailgrant package'; exit 1; }
%(snapshot)s > /root/after-purge.txt
echo 'ok    purge'
""" % {"v": UPGRADE_VERSION, "packages": PACKAGES, "snapshot": SNAPSHOT}


def script(steps):
    # The installed binaries only: /usr/local (the deployment test's home) stays empty.
    # The root's file list is taken once the packages are built, before they are installed.
    lines = readme_script("Install from the packages", steps,
                          after_block=lambda n: [SNAPSHOT + " > /root/before-install.txt"] if n == 1 else [])
    lines += ["echo '== the installed binaries are the packages (nothing in /usr/local)'",
              "for f in /usr/bin/mailgrant /usr/sbin/mailgrant-policyd; do dpkg -S $f; done",
              "test -z \"$(ls /usr/local/bin /usr/local/sbin | grep mailgrant)\"",
              "echo '== verify (tests/deploy/verify.py)'", "python3 /usr/src/mailgrant/tests/deploy/verify.py",
              # ldap.server_state_file's directory, made by mailgrant-common for every process
              "test \"$(stat -c '%U:%G %a' /run/mailgrant)\" = 'root:mailgrant 2770'",
              DEMO]
    lines += [test_steps()]
    return "\n".join(lines) + "\n"


def leftovers(root):
    """Paths present after purge that were not there before installing, outside the
    site's own data; and paths the purge took that were there before."""
    def read(name):
        with open(os.path.join(root, "root", name)) as f:
            return set(f.read().splitlines())
    before, after = read("before-install.txt"), read("after-purge.txt")
    added = sorted(p for p in after - before if not (p + "/").startswith(SITE_DATA))
    removed = sorted(p for p in before - after if not (p + "/").startswith(SITE_DATA))
    return added, removed


def main():
    dist = sys.argv[1] if len(sys.argv) > 1 else "bookworm"
    if dist not in DISTS:
        print("usage: test_packages.py [%s]" % "|".join(DISTS))
        return 2
    if os.geteuid() != 0:
        print("test_packages.py: needs root")
        return 1
    steps = readme_steps(SECTION)

    def nothing_left(root):
        added, removed = leftovers(root)
        if added or removed:
            return "after purge, left behind: %s; taken away: %s" % (added[:50], removed[:50])
        return None

    if run_in_stock_root(dist, script(steps), "%d README blocks, upgrade, remove, purge" % len(steps),
                         check=nothing_left, timeout_s=RUN_TIMEOUT_S):
        return 1
    print("package test passed: build, lintian, install, README steps, upgrade, remove, purge (%s)" % dist)
    return 0


if __name__ == "__main__":
    sys.exit(main())
