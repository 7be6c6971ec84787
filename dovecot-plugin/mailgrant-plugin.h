/* mailgrant-plugin.h -- what the Dovecot glue files share (private to the plugin).
 *
 * One .c per concern, all over the C ABI of mailgrant-core.h:
 *   mailgrant-plugin.c   module entry: hooks and the dict driver registered, torn down
 *   mailgrant-config.c   which configuration, the core handle, rate-limited error log
 *   mailgrant-list.c     module context per mailbox list, chaining the ACL backend vfuncs
 *   mailgrant-rights.c   LDAP rights added to the ACL cache (MYRIGHTS, SELECT, LIST)
 *   mailgrant-acl-cmd.c  GETACL shows LDAP grants; SETACL/DELETEACL written through to LDAP
 *   mailgrant-imap.c     the reason of a refused SETACL/DELETEACL in the tagged NO
 *   mailgrant-login.c    per-collaborator (MAILBOX*GRANTEE) logins need a grant
 *   mailgrant-team.c     team mailboxes: top-level folders by grants on '*', the
 *                        special-use folders created when first needed and their
 *                        SPECIAL-USE flags in LIST
 *   mailgrant-dict.c     the sharing map (2.3 acl_shared_dict = mailgrant:, 2.4
 *                        acl_sharing_map { dict mailgrant { } }): who shares with a user
 *   mailgrant-compat.[ch] every Dovecot 2.3 / 2.4 difference (settings, master user,
 *                        ACL vfunc table, dict init/lookup signatures, str_begins)
 *   mailgrant-settings.c 2.4 only: the typed setting mailgrant_config, also linked into
 *                        libmailgrant_settings.so (mailgrant-settings-module.c) for the
 *                        config process
 *
 * Built against Dovecot 2.3.19 (Debian 12) and 2.4.1 (Debian 13) from this one tree; the
 * rest of the glue uses the same API on both (checked against 2.4.1's acl-api-private.h,
 * acl-cache.h, imap-client.h, dict-private.h). Where the two differ, it goes through
 * mailgrant-compat.h.
 */
#ifndef MAILGRANT_PLUGIN_H
#define MAILGRANT_PLUGIN_H

#include "lib.h"
#include "hash.h"
#include "module-context.h"
#include "mailbox-list-private.h"
#include "acl-api-private.h"

#include "mailgrant-core.h"
#include "mailgrant-compat.h"

/* ---- limits, named once ---- */
/* Messages from the core (one log line each). */
#define MAILGRANT_ERROR_MAX 512
/* RFC 4314 letters of one grant: "lrswipkxtea" and room to spare. */
#define MAILGRANT_LETTERS_MAX 32
/* Initial sizes (growable): grantees of a folder, owners sharing with a user. */
#define MAILGRANT_GRANTEES_INITIAL 4
#define MAILGRANT_OWNERS_INITIAL 8
#define MAILGRANT_DICT_POOL_SIZE 1024

/* ---- mailgrant-list.c ---- */
/* A team mailbox's special-use folder as this namespace names it (mailgrant-team.c). */
struct mailgrant_team_folder {
	const char *name;        /* "Drafts": as the mailbox's members and grants spell it */
	const char *vname;       /* "shared/support@example.com/Drafts" */
	const char *special_use; /* \Drafts (RFC 6154) */
};

enum mailgrant_team_state {
	MAILGRANT_TEAM_UNKNOWN = 0, /* not asked yet (or the last answer was an error) */
	MAILGRANT_TEAM_NO,          /* not a team mailbox, or not ours to extend */
	MAILGRANT_TEAM_YES,         /* team_folders is filled in */
};

/* mailgrant-rights.c: one folder's last answer, so a rights refresh that changes nothing
   (most of them: Dovecot refreshes a folder's ACL object several times per command)
   costs a hash lookup and a few bit tests, not a folder-name conversion, a parse of the
   letters and an ACL cache update. */
struct mailgrant_applied {
	/* the folder as grants spell it (mailgrant_folder_of, which depends on the name only) */
	const char *folder;
	/* the letters last added, and their indexes in this backend's ACL cache */
	char letters[MAILGRANT_LETTERS_MAX];
	unsigned int right_idx[MAILGRANT_LETTERS_MAX];
	unsigned int right_count;
};

struct mailgrant_mailbox_list {
	union mailbox_list_module_context module_ctx;
	/* the ACL backend's vfuncs before ours (called from ours), and the table the
	   backend calls now (2.4 points at it; 2.3 copies it in) */
	struct acl_backend_vfuncs acl_vprev, acl_v;
	/* the mailbox (owner) whose folders this list shows; NULL = not ours to extend */
	const char *owner;
	/* ACL object name -> what mailgrant-rights.c last added to the ACL cache */
	HASH_TABLE(char *, struct mailgrant_applied *) applied;
	/* the ACL backend (its ACL user is the person working the mailbox) */
	struct acl_backend *backend;
	/* mailgrant-team.c: is `owner` a team mailbox, and its special-use folders */
	enum mailgrant_team_state team_state;
	ARRAY(struct mailgrant_team_folder) team_folders;
	/* > 0 while a folder of this list is created: Dovecot then copies the parent's ACL
	   entries to it, and the LDAP ones must not be written back (mailgrant-acl-cmd.c) */
	unsigned int creating;
	bool wrapped;
};

#define MAILGRANT_LIST_CONTEXT(obj) MODULE_CONTEXT(obj, mailgrant_mailbox_list_module)
extern MODULE_CONTEXT_DEFINE(mailgrant_mailbox_list_module, &mailbox_list_module_register);

void mailgrant_mailbox_list_created(struct mailbox_list *list);
void mailgrant_mail_namespace_storage_added(struct mail_namespace *ns);
/* The folder name as users and grants spell it (no namespace prefix). */
const char *mailgrant_folder_of(struct mailbox_list *list, const char *objname);

/* ---- mailgrant-team.c ---- */
/* List vfuncs: the special-use folders are made on the first listing and flagged in it. */
struct mailbox_list_iterate_context *
mailgrant_team_iter_init(struct mailbox_list *list, const char *const *patterns,
			 enum mailbox_list_iter_flags flags);
const struct mailbox_info *mailgrant_team_iter_next(struct mailbox_list_iterate_context *ctx);
/* mailbox_allocated hook: opening a folder makes the special-use folders too; CREATE of
   a top-level folder is logged with the core's reason. */
void mailgrant_team_mailbox_allocated(struct mailbox *box);
/* The letters LDAP grants give the ACL user on the namespace root of mlist->owner. */
const char *mailgrant_team_root_letters(struct mailgrant_mailbox_list *mlist, struct mailbox_list *list,
					const char *user);

/* ---- mailgrant-config.c ---- */
const char *mailgrant_config_path(const char *setting);
struct mailgrant_core *mailgrant_get_core(const char *config_path);
struct mailgrant_core *mailgrant_user_core(struct mail_user *user);
/* The core this process has open, or NULL (never opens one). */
struct mailgrant_core *mailgrant_open_core(void);
/* An IMAP command ended (its tagged reply): a namespace answer pinned for it is done. */
void mailgrant_command_done(void);
/* The last mail user's configuration, for the dict driver (NULL = none yet). */
void mailgrant_remember_user_config(struct mail_user *user);
/* The same from a mailgrant_config value (NULL/"" = unset) read elsewhere (2.4 dict). */
void mailgrant_remember_config(const char *setting);
const char *mailgrant_remembered_user_config(void);
/* A path an older drop-in gave in acl_shared_dict = mailgrant:<path> (first one wins). */
void mailgrant_set_dict_config_path(const char *path);
void mailgrant_log_failure(int ret, const char *what, const char *error);
void mailgrant_config_deinit(void);

/* ---- mailgrant-rights.c ---- */
const char *const *mailgrant_letters_to_names(pool_t pool, const char *letters);
int mailgrant_object_refresh_cache(struct acl_object *aclobj);
struct acl_mailbox_list_context *mailgrant_nonowner_lookups_iter_init(struct acl_backend *backend);
bool mailgrant_nonowner_lookups_iter_next(struct acl_mailbox_list_context *ctx, const char **name_r);
int mailgrant_nonowner_lookups_iter_deinit(struct acl_mailbox_list_context *ctx);

/* ---- mailgrant-acl-cmd.c ---- */
struct acl_object_list_iter *mailgrant_object_list_init(struct acl_object *aclobj);
int mailgrant_object_update(struct acl_object *aclobj, const struct acl_rights_update *update);

/* ---- mailgrant-imap.c ---- */
void mailgrant_imap_init(void);
void mailgrant_imap_deinit(void);
/* TRUE in the imap process (SETACL/DELETEACL are written through to LDAP there). */
bool mailgrant_imap_active(void);
/* A listing of `list` starts: in a LIST whose patterns reach a shared namespace, the
   first one (the user's own folders, which Dovecot lists first) asks the service for the
   user's namespace ahead. Nothing outside an imap process's LIST. */
void mailgrant_imap_list_iter_init(struct mailbox_list *list, const char *const *patterns);
/* The tagged NO of the current SETACL/DELETEACL: "NO [resp_code] text" instead of
   imap_acl's generic text; resp_code NULL forgets a previous one. */
void mailgrant_imap_set_reply(const char *resp_code, const char *text);

/* ---- mailgrant-login.c ---- */
void mailgrant_mail_user_created(struct mail_user *user);

/* ---- mailgrant-dict.c ---- */
extern struct dict mailgrant_dict_driver;
/* A dict of this driver; uri_path = a configuration path the 2.3 URI named (NULL: none). */
struct dict *mailgrant_dict_create(const struct dict *driver, const char *uri_path);

#endif
