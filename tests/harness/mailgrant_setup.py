"""What every whole-stack run of mailgrant needs besides the daemons themselves
(used by tests/dovecot-plugin and examples/demo): the mailgrant.yaml with its password
file, and a Dovecot configuration that loads the built plugin through the shipped
drop-in of the installed Dovecot: examples/dovecot/90-mailgrant.conf (2.3) or
examples/dovecot/2.4/90-mailgrant.conf (2.4), chosen by mail_sandbox.dovecot_version().

The shipped drop-in is used as it is, except for the site paths it names
(/etc/mailgrant/mailgrant.yaml, /etc/dovecot/dovecot-ldap.conf.ext where named, the
last_login dict file /var/lib/dovecot/last-login/last-login.db), which are pointed into
the sandbox, and the installed path of mailgrant-checkpassword (2.3), which is pointed
at the built one (with "-c CONFIG": the drop-in relies on its default path). The built modules are given to Dovecot without installing them: on 2.3
the plugin through a private mail_plugin_dir; on 2.4, where the settings module and
the auth module (passdb mailgrant) load only from the compiled-in module dir, through
mail_sandbox's private module overlay (dovecot_module_line).
"""
import glob
import os
import subprocess

from mail_sandbox import (DOVECOT_MODULE_DIR, MailStackError, dovecot_24, dovecot_conf,
                          dovecot_module_line)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DROP_IN_23 = os.path.join(ROOT, "examples", "dovecot", "90-mailgrant.conf")
DROP_IN_24 = os.path.join(ROOT, "examples", "dovecot", "2.4", "90-mailgrant.conf")
DOVECOT_MODULES = DOVECOT_MODULE_DIR
# The site paths the drop-ins name (README's layout) and what they become here.
SITE_CONFIG = "/etc/mailgrant/mailgrant.yaml"
SITE_LDAP_CONF = "/etc/dovecot/dovecot-ldap.conf.ext"
SITE_CHECKPASSWORD = "/usr/local/libexec/mailgrant/mailgrant-checkpassword"
SITE_LAST_LOGIN_DICT = "/var/lib/dovecot/last-login/last-login.db"


def last_login_dict_path(work_dir):
    """Where dovecot_conf_with_plugin(work_dir, ...) points the drop-in's last_login dict
    file (read it with `mailgrant report --last-login-dict file:PATH`)."""
    return os.path.join(work_dir, "last-login", "last-login.db")


def drop_in():
    """The shipped drop-in for the installed Dovecot."""
    return dovecot_conf(DROP_IN_23, DROP_IN_24)


def site_drop_in(text, config_path, ldap_conf_path=None, checkpassword_path=None, last_login_path=None):
    """The drop-in's text with its site paths pointed into the sandbox (either drop-in:
    what a drop-in does not name is left alone). The configuration path must be named."""
    if SITE_CONFIG not in text:
        raise MailStackError("the drop-in does not name %s (mailgrant_config)" % SITE_CONFIG)
    text = text.replace(SITE_CONFIG, config_path)
    if ldap_conf_path:
        text = text.replace(SITE_LDAP_CONF, ldap_conf_path)
    if checkpassword_path and SITE_CHECKPASSWORD in text:
        checkpassword = os.path.abspath(checkpassword_path)
        if "mailgrant-checkpassword -c " not in text:  # it reads the default config path
            checkpassword += " -c " + config_path
        text = text.replace(SITE_CHECKPASSWORD, checkpassword)
    if last_login_path:
        text = text.replace(SITE_LAST_LOGIN_DICT, last_login_path)
    return text


def _built_modules(plugin_path):
    """The built modules Dovecot 2.4 must find in its module dir besides the mail plugin:
    [(relpath, path)]. Named by MAILGRANT_DOVECOT_SETTINGS_MODULE and
    MAILGRANT_DOVECOT_AUTH_MODULE (CTest), else found next to the plugin in the build
    dir (a settings module named lib*settings*.so, an auth module libauthdb_*.so)."""
    out = []
    here = os.path.dirname(os.path.abspath(plugin_path))
    for env, subdir, pattern in (("MAILGRANT_DOVECOT_SETTINGS_MODULE", "settings", "lib*settings*.so"),
                                 ("MAILGRANT_DOVECOT_AUTH_MODULE", "auth", "libauthdb_*.so")):
        paths = [os.environ[env]] if os.environ.get(env) else sorted(
            set(glob.glob(os.path.join(here, pattern)) + glob.glob(os.path.join(here, "*", pattern))))
        for path in paths:
            out.append((subdir + "/" + os.path.basename(path), path))
    return out


def write_config(etc_dir, slapd, ttl_s, negative_ttl_s, extra=""):
    """Writes etc_dir/mailgrant.yaml and ldap.secret; returns the config's path.

    Three users read them: the mail user (plugin), Dovecot's auth user (dovecot, runs
    mailgrant-checkpassword) and the policy daemon's user. A deployment gives them a
    common group and mode 0640; this throwaway sandbox makes the secret world-readable."""
    os.makedirs(etc_dir, exist_ok=True)
    os.chmod(etc_dir, 0o755)
    secret = os.path.join(etc_dir, "ldap.secret")
    with open(secret, "w") as f:
        f.write(slapd.rootpw)
    os.chmod(secret, 0o644)
    config = os.path.join(etc_dir, "mailgrant.yaml")
    with open(config, "w") as f:
        f.write("ldap:\n  uris: [%s]\n  base: %s\n  bind_dn: %s\n  bind_password_file: %s\n"
                "  operation_timeout_ms: 1000\n  network_timeout_ms: 1000\n"
                "cache:\n  ttl_s: %d\n  negative_ttl_s: %d\n%s"
                % (slapd.uri, slapd.base, slapd.rootdn, secret, ttl_s, negative_ttl_s, extra))
    os.chmod(config, 0o644)
    return config


def ensure_mailgrant_group():
    """Creates the system group `mailgrant` if this host lacks it: the shipped drop-in gives
    Dovecot's processes that group, and the service's socket (service.socket_group) is
    owned by it, as the package's postinst has it."""
    import grp
    try:
        grp.getgrnam("mailgrant")
    except KeyError:
        subprocess.run(["groupadd", "--system", "mailgrant"], check=True, capture_output=True, timeout=30)


def dovecot_conf_with_plugin(work_dir, plugin_path, config_path, ldap_conf_path, checkpassword_path):
    """Returns Dovecot config text (for MailStack.dovecot_extra_conf) that loads the stock
    modules plus the built plugin and includes the shipped drop-in of the installed
    Dovecot (2.3: with the built mailgrant-checkpassword as its master passdb; 2.4: with
    the built settings and auth modules beside the plugin).

    The drop-in gives Dovecot's processes the group `mailgrant` (as a deployment has it):
    the group is created here if this host lacks it, so the file is used unchanged. Its
    last_login dict file goes to last_login_dict_path(work_dir), in a directory owned by
    Dovecot's dict user (dovecot), as the drop-in asks the admin to create it."""
    import pwd
    ensure_mailgrant_group()
    path = drop_in()
    if not os.path.exists(path):
        raise MailStackError("%s is missing: the drop-in for this Dovecot is not written yet" % path)
    with open(path) as f:
        text = site_drop_in(f.read(), config_path, ldap_conf_path, checkpassword_path,
                            last_login_dict_path(work_dir))
    last_login_dir = os.path.dirname(last_login_dict_path(work_dir))
    os.makedirs(last_login_dir, exist_ok=True)
    dovecot = pwd.getpwnam("dovecot")
    os.chown(last_login_dir, dovecot.pw_uid, dovecot.pw_gid)
    os.chmod(last_login_dir, 0o750)
    drop_in_path = os.path.join(work_dir, "90-mailgrant.conf")
    with open(drop_in_path, "w") as f:
        f.write(text)
    if dovecot_24():
        # 2.4: everything through the private module overlay (mail_sandbox.py)
        lines = [dovecot_module_line("lib20_mailgrant_plugin.so", plugin_path)]
        lines += [dovecot_module_line(rel, p) for rel, p in _built_modules(plugin_path)]
        return "".join(lines) + "!include %s\n" % drop_in_path
    modules = os.path.join(work_dir, "dovecot-modules")
    os.makedirs(modules, exist_ok=True)
    for so in glob.glob(os.path.join(DOVECOT_MODULES, "*.so")):
        link = os.path.join(modules, os.path.basename(so))
        if not os.path.lexists(link):
            os.symlink(so, link)
    link = os.path.join(modules, "lib20_mailgrant_plugin.so")
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(os.path.abspath(plugin_path), link)
    return "mail_plugin_dir = %s\n!include %s\n" % (modules, drop_in_path)


def start_directory(test_class, prefix, acl=None, syncprov=False):
    """For a unittest class's setUpClass: a 0755 temporary directory (daemons running as
    other users must traverse it) and a private slapd in it holding
    tests/fixtures/org.ldif. Cleanups are registered on the class; they run last-in
    first-out, so the directory goes only after slapd (resumed if a test paused it)
    stopped. acl: slapd.conf "access to" text for the database (default: slapd's own,
    read for all). syncprov: load slapd's syncprov overlay (RFC 4533 sync, which
    mailgrant-policyd follows). Returns (directory, slapd)."""
    import shutil
    import tempfile

    from slapd_sandbox import Slapd

    tmp = tempfile.mkdtemp(prefix=prefix)
    os.chmod(tmp, 0o755)
    test_class.addClassCleanup(lambda: shutil.rmtree(tmp, ignore_errors=True))
    slapd = Slapd(os.path.join(tmp, "slapd"), acl=acl, syncprov=syncprov).start()
    test_class.addClassCleanup(slapd.stop)
    test_class.addClassCleanup(slapd.resume)
    slapd.load_ldif(os.path.join(ROOT, "tests", "fixtures", "org.ldif"))
    return tmp, slapd


# The built plugin and checkpassword (CTest passes their paths; by hand: build/).
PLUGIN = os.environ.get("MAILGRANT_DOVECOT_PLUGIN",
                        os.path.join(ROOT, "build", "dovecot-plugin", "lib20_mailgrant_plugin.so"))
CHECKPASSWORD = os.environ.get("MAILGRANT_CHECKPASSWORD",
                               os.path.join(ROOT, "build", "dovecot-plugin", "mailgrant-checkpassword"))


def ldap_apply(slapd, ldif, tool="ldapmodify"):
    """Runs an LDAP tool (ldapmodify, ldapadd, ldapdelete) as slapd's rootdn with `ldif` on stdin."""
    subprocess.run([tool, "-x", "-H", slapd.uri, "-D", slapd.rootdn, "-w", slapd.rootpw],
                   input=ldif.encode(), check=True, capture_output=True, timeout=20)


def plugin_stack(test_class, prefix, ttl_s, negative_ttl_s=1, extra_dovecot_conf="", config_extra="",
                 syncprov=False, **stack_options):
    """For a unittest class's setUpClass: a private slapd (tests/fixtures/org.ldif), the
    mailgrant.yaml for it (config_extra: more YAML sections; "@TMP@" in it stands for
    the directory returned) and a MailStack whose Dovecot
    loads the built plugin through the shipped drop-in, started, with cleanups registered.
    Returns (tmp, slapd, config, stack)."""
    from mail_sandbox import MailStack

    tmp, slapd = start_directory(test_class, prefix, syncprov=syncprov)
    etc = os.path.join(tmp, "etc")
    config = write_config(etc, slapd, ttl_s, negative_ttl_s, config_extra.replace("@TMP@", tmp))
    mail_dir = os.path.join(tmp, "mail")
    os.mkdir(mail_dir)
    os.chmod(mail_dir, 0o755)
    stack = MailStack(mail_dir, slapd.uri, slapd.base, **stack_options)
    stack.dovecot_extra_conf = dovecot_conf_with_plugin(
        etc, PLUGIN, config, stack.dovecot_ldap_conf_path, CHECKPASSWORD) + extra_dovecot_conf
    stack.start()
    test_class.addClassCleanup(stack.stop)
    return tmp, slapd, config, stack


def assert_dovecot_log_clean(log_path, extra=()):
    """For a test class's tearDownClass: Dovecot's log has no Panic, Fatal, segfault or
    failed assertion (nor any of `extra`), whatever the tests themselves checked."""
    with open(log_path) as f:
        log = f.read()
    bad = ("Panic:", "Fatal:", "segfault", "assertion failed") + tuple(extra)
    bad_lines = [line for line in log.splitlines() if any(b in line for b in bad)]
    assert not bad_lines, "Dovecot log has:\n" + "\n".join(bad_lines[:20])
