#!/usr/bin/env python3
"""The plugin's core library when its LDAP side cannot be loaded (issue 19's split).

libmailgrant_core.so (core_abi.cpp over the core without libldap) loads its LDAP side,
libmailgrant_local.so, from its own directory when it must talk to LDAP itself. This
copies the core library ALONE into a temporary directory and drives its C ABI with
ctypes, as the plugin's loader does:
 - without the service (service.listen empty) the core cannot work: mailgrant_core_open
   fails with a message naming the missing library, not the configuration, and the
   process goes on;
 - with the service, opening works (no LDAP needed), a SETACL fails with that message
   for that command only, and the next question still goes to the service -- the
   breaker was not opened by the missing writer (its error names the service, whose
   socket does not exist here, not the library);
 - a libmailgrant_local.so from another build is refused with "restart Dovecot".
No LDAP server or Dovecot is needed: nothing here may reach LDAP.

usage: test_core_library.py (env MAILGRANT_CORE_LIBRARY, MAILGRANT_LOCAL_LIBRARY)
"""
import ctypes
import os
import shutil
import tempfile
import unittest

CORE = os.environ.get("MAILGRANT_CORE_LIBRARY", "")
LOCAL = os.environ.get("MAILGRANT_LOCAL_LIBRARY", "")

CONFIG = """ldap:
  uris: [ldap://127.0.0.1:9]
  base: dc=example,dc=com
  bind_dn: cn=nobody,dc=example,dc=com
  bind_password_file: {secret}
  operation_timeout_ms: 500
  network_timeout_ms: 500
{service}"""


class CoreLibraryTest(unittest.TestCase):
    def setUp(self):
        if not CORE or not os.path.exists(CORE):
            self.skipTest("MAILGRANT_CORE_LIBRARY not built")
        self.tmp = tempfile.mkdtemp(prefix="mailgrant-core-lib-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        with open(os.path.join(self.tmp, "secret"), "w") as f:
            f.write("pw")

    def load(self, with_local=None):
        """The core library copied into its own directory (with `with_local` beside it)."""
        d = tempfile.mkdtemp(dir=self.tmp)
        path = os.path.join(d, "libmailgrant_core.so")
        shutil.copy(CORE, path)
        if with_local:
            shutil.copy(with_local, os.path.join(d, "libmailgrant_local.so"))
        lib = ctypes.CDLL(path, mode=os.RTLD_LOCAL)
        lib.mailgrant_core_open.restype = ctypes.c_void_p
        lib.mailgrant_core_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
        lib.mailgrant_core_change_acl.argtypes = [ctypes.c_void_p] + [ctypes.c_char_p] * 5 + [
            ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]
        lib.mailgrant_core_folder_rights.argtypes = [ctypes.c_void_p] + [ctypes.c_char_p] * 3 + [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
        lib.mailgrant_core_close.argtypes = [ctypes.c_void_p]
        return lib

    def config(self, service):
        path = os.path.join(self.tmp, "mailgrant-%s.yaml" % ("service" if service else "local"))
        extra = "service:\n  listen: unix:%s/no-such-socket\n" % self.tmp if service else ""
        with open(path, "w") as f:
            f.write(CONFIG.format(secret=os.path.join(self.tmp, "secret"), service=extra))
        return path.encode()

    def test_without_the_service_open_names_the_missing_library(self):
        lib = self.load()
        error = ctypes.create_string_buffer(1024)
        core = lib.mailgrant_core_open(self.config(service=False), error, len(error))
        self.assertIsNone(core)
        self.assertIn(b"libmailgrant_local.so", error.value)
        self.assertNotIn(b"mailgrant-local.yaml:", error.value)   # not a configuration error

    def test_with_the_service_a_missing_writer_fails_only_that_command(self):
        lib = self.load()
        error = ctypes.create_string_buffer(1024)
        core = lib.mailgrant_core_open(self.config(service=True), error, len(error))
        self.assertTrue(core, error.value)
        try:
            rc = lib.mailgrant_core_change_acl(core, b"alice@example.com", b"alice@example.com", b"Board",
                                               b"bob@example.com", b"lr", 0, error, len(error))
            self.assertEqual(rc, -1)
            self.assertIn(b"libmailgrant_local.so", error.value)
            letters = ctypes.create_string_buffer(64)
            rc = lib.mailgrant_core_folder_rights(core, b"bob@example.com", b"alice@example.com", b"Board",
                                                  letters, len(letters), error, len(error))
            self.assertEqual(rc, -1)
            self.assertEqual(letters.value, b"")
            # Asked the service (absent here); the breaker did not answer with the writer's failure.
            self.assertNotIn(b"libmailgrant_local.so", error.value)
            self.assertIn(b"no-such-socket", error.value)
        finally:
            lib.mailgrant_core_close(core)

    def test_an_ldap_side_from_another_build_is_refused(self):
        if not LOCAL or not os.path.exists(LOCAL):
            self.skipTest("MAILGRANT_LOCAL_LIBRARY not built")
        local = ctypes.CDLL(LOCAL, mode=os.RTLD_LOCAL)
        new = local.mailgrant_local_core_new
        new.restype = ctypes.c_void_p
        new.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
        error = ctypes.create_string_buffer(1024)
        self.assertIsNone(new(b"0.0.0-19700101T000000Z", None, None, error, len(error)))
        self.assertIn(b"restart Dovecot", error.value)
        self.assertIn(b"0.0.0-19700101T000000Z", error.value)


if __name__ == "__main__":
    unittest.main()
