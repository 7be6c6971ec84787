/* mailgrant-compat.h -- every difference between Dovecot 2.3 (Debian 12: 2.3.19.1) and
 * Dovecot 2.4 (Debian 13: 2.4.1) that the glue meets, named once. The other glue files
 * are written against these names only; mailgrant-compat.c holds the few functions whose
 * bodies differ. No decision is made here: decisions stay in the C++ core.
 *
 *   concern                    2.3                                2.4
 *   str prefix test            str_begins(h, n)                   str_begins_with(h, n)
 *   ACL backend vfuncs         struct acl_backend_vfuncs v        const struct ... *v
 *                              (copied, patched in place)         (pointed at a patched copy,
 *                                                                  as mail-crypt-acl does)
 *   mailgrant_config           plugin { } via                     a global setting, read with
 *                              mail_user_plugin_getenv()          settings_get() (the config
 *                                                                  process learns it from
 *                                                                  libmailgrant_settings.so)
 *   per-collaborator login     plugin env "master_user"; the      userdb field master_user
 *                              ACL plugin's acl_user follows it   (2.4.1 drops it: restored,
 *                                                                  acl_user set from it)
 *   dict driver init           (driver, uri, dict_settings, ...)  (driver, event, ...): no URI,
 *                                                                  settings via the event
 *   dict driver lookup         const char **value_r               const char *const **values_r
 *   sharing map                acl_shared_dict = mailgrant:       acl_sharing_map {
 *                                                                   dict mailgrant { } }
 *
 * Checked and the same on both, so not here (team mailboxes, mailgrant-team.c): the ACL
 * plugin's CREATE check on the parent (the namespace root "" for a top-level folder),
 * MAILBOX_FLAG_IGNORE_ACLS leaving a mailbox unchecked, mailbox_info.special_use and the
 * iterate context's specialuse_info, mailbox_exists()/mailbox_create(). Neither version
 * has a special-use setting for an owner's folder inside a shared namespace (2.3:
 * mailbox_settings_find(ns, vname); 2.4: settings of the folder's event), hence the
 * plugin's iter_next on both.
 */
#ifndef MAILGRANT_COMPAT_H
#define MAILGRANT_COMPAT_H

#include "lib.h" /* config.h: DOVECOT_VERSION_MAJOR / DOVECOT_VERSION_MINOR (both versions) */

#if DOVECOT_VERSION_MAJOR > 2 || (DOVECOT_VERSION_MAJOR == 2 && DOVECOT_VERSION_MINOR >= 4)
#  define MAILGRANT_DOVECOT_24 1
#else
#  define MAILGRANT_DOVECOT_24 0
#endif

struct mail_user;
struct event;
struct dict;
struct dict_settings;
struct dict_op_settings;

/* ---- strings ---- */
#if MAILGRANT_DOVECOT_24
#  define mailgrant_str_begins(haystack, needle) str_begins_with(haystack, needle)
#else
#  define mailgrant_str_begins(haystack, needle) str_begins(haystack, needle)
#endif

/* ---- ACL backend vfuncs ----
   MAILGRANT_ACL_V(backend): the backend's current vfunc table (an lvalue struct).
   MAILGRANT_ACL_SET_V(backend, vnew): make the backend call the table *vnew, which must
   live as long as the backend (it is in the mailbox list's pool). */
#if MAILGRANT_DOVECOT_24
#  define MAILGRANT_ACL_V(backend) (*(backend)->v)
#  define MAILGRANT_ACL_SET_V(backend, vnew) ((backend)->v = (vnew))
#else
#  define MAILGRANT_ACL_V(backend) ((backend)->v)
#  define MAILGRANT_ACL_SET_V(backend, vnew) ((backend)->v = *(vnew))
#endif

/* ---- settings ---- */
/* The user's mailgrant_config setting; NULL or "" = not set. Data stack. */
const char *mailgrant_compat_user_config(struct mail_user *user);
/* The person who authenticated for this user with MAILBOX*GRANTEE (Dovecot's master-user
   syntax): GRANTEE; NULL for an ordinary login. */
const char *mailgrant_compat_master_user(struct mail_user *user);
/* From the mail_user_created hook, before the grant check: makes GRANTEE the ACL user as
   2.3 does by itself (2.4.1 loses it: mailgrant-compat.c). -1 + error: refuse the user. */
int mailgrant_compat_user_created(struct mail_user *user, const char **error_r);

/* ---- dict driver (the vfuncs whose signatures changed) ---- */
#if MAILGRANT_DOVECOT_24
int mailgrant_dict_compat_init(const struct dict *driver, struct event *event,
			       struct dict **dict_r, const char **error_r);
int mailgrant_dict_compat_lookup(struct dict *dict, const struct dict_op_settings *set,
				 pool_t pool, const char *key, const char *const **values_r,
				 const char **error_r);
#else
int mailgrant_dict_compat_init(struct dict *driver, const char *uri,
			       const struct dict_settings *set,
			       struct dict **dict_r, const char **error_r);
int mailgrant_dict_compat_lookup(struct dict *dict, const struct dict_op_settings *set,
				 pool_t pool, const char *key, const char **value_r,
				 const char **error_r);
#endif

#endif
