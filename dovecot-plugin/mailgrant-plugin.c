/* mailgrant-plugin.c -- Dovecot 2.3 glue: adds rights from LDAP grants to what the ACL
 * plugin computes, lists the owners who share with a user in the shared namespace, and
 * refuses per-collaborator (master user) logins without a grant.
 *
 * All decisions come from the C++ core through mailgrant-core.h. This file only hooks
 * into Dovecot, the way mail-crypt-acl-plugin extends the ACL plugin in 2.3: it chains
 * the ACL backend's vfuncs after the ACL plugin has set them up.
 *
 *  - object_refresh_cache: after vfile has rebuilt its cache, the LDAP rights of
 *    acl_user on this folder are ADDed to the cached "my rights" (so MYRIGHTS, SELECT,
 *    LIST and every mailbox operation obey them). When rights must shrink, the cache is
 *    first rebuilt from vfile's own entries.
 *  - nonowner_lookups_iter_deinit: reports failure for views of another user's mailbox,
 *    so LIST does not use vfile's acllist fast path (which knows nothing of LDAP) and
 *    checks each folder's rights instead.
 *  - a dict driver "mailgrant" for acl_shared_dict: answers "who shares with user X".
 *
 * The configuration is named once, by mailgrant_config (acl_shared_dict = mailgrant:
 * carries no path). A configuration that cannot be loaded gives one error line per
 * process and interval: shared folders and per-collaborator logins are unavailable,
 * the user's own mailbox works as without the plugin.
 */
#include "lib.h"
#include "array.h"
#include "hash.h"
#include "ioloop.h"
#include "str.h"
#include "module-dir.h"
#include "mail-user.h"
#include "mail-namespace.h"
#include "mail-storage-hooks.h"
#include "mailbox-list-private.h"
#include "dict-private.h"
#include "acl-api-private.h"
#include "acl-cache.h"
#include "acl-plugin.h"

#include "mailgrant-core.h"

#define MAILGRANT_DEFAULT_CONFIG "/etc/mailgrant/mailgrant.yaml"
#define MAILGRANT_LIST_CONTEXT(obj) MODULE_CONTEXT(obj, mailgrant_mailbox_list_module)

struct mailgrant_mailbox_list {
	union mailbox_list_module_context module_ctx;
	struct acl_backend_vfuncs acl_vprev;
	/* the mailbox (owner) whose folders this list shows; NULL = not ours to extend */
	const char *owner;
	/* folder -> rights letters last added to the ACL cache */
	HASH_TABLE(char *, char *) applied;
	bool wrapped;
};

const char *mailgrant_plugin_version = DOVECOT_ABI_VERSION;
const char *mailgrant_plugin_dependencies[] = { "acl", NULL };

void mailgrant_plugin_init(struct module *module);
void mailgrant_plugin_deinit(void);

static MODULE_CONTEXT_DEFINE_INIT(mailgrant_mailbox_list_module, &mailbox_list_module_register);

static struct mailgrant_core *mailgrant_core;
static char *mailgrant_core_path;
static time_t mailgrant_last_error_log;
/* The configuration that could not be loaded, and when: not retried on every command
   (each retry would re-read the file and log again), only once per log interval. */
static char *mailgrant_failed_path;
static time_t mailgrant_failed_at;
/* The path the last mail user's settings resolved to (mailgrant_user_created). The dict
   driver cannot see the user's settings: Dovecot's ACL plugin opens acl_shared_dict
   before our mail_user_created hook runs (lib01_acl sorts first) and passes only the URI. */
static char *mailgrant_user_config_path;
/* An explicit path from an older drop-in's acl_shared_dict = mailgrant:<path>. */
static char *mailgrant_dict_config_path;
static bool mailgrant_dict_path_warned;

/* ---- core handle and rate-limited error log ---- */

/* One clear line per interval (the cache TTL), not one per command. `consequence` says
   what the user loses meanwhile. */
static void mailgrant_log_error_as(const char *what, const char *error, const char *consequence)
{
	int interval = mailgrant_core_log_interval(mailgrant_core);

	if (ioloop_time - mailgrant_last_error_log < interval)
		return;
	mailgrant_last_error_log = ioloop_time;
	i_error("mailgrant: %s: %s (%s; the user's own mailbox is not affected)",
		what, error, consequence);
}

static void mailgrant_log_error(const char *what, const char *error)
{
	mailgrant_log_error_as(what, error, "shared access is denied until LDAP answers");
}

/* After a failed call: LDAP trouble goes to the rate-limited log; bad input (a name
   from the client that can never match) is that call's own problem, logged as such. */
static void mailgrant_log_failure(int ret, const char *what, const char *error)
{
	if (ret == MAILGRANT_CORE_BAD_INPUT)
		i_info("mailgrant: %s: refused: %s", what, error);
	else
		mailgrant_log_error(what, error);
}

/* Which configuration to use: mailgrant_config (the one place the drop-in names it),
   else a path an older drop-in gave in acl_shared_dict, else the default. */
static const char *mailgrant_config_path(const char *setting)
{
	if (setting != NULL && *setting != '\0')
		return setting;
	if (mailgrant_dict_config_path != NULL)
		return mailgrant_dict_config_path;
	return MAILGRANT_DEFAULT_CONFIG;
}

static struct mailgrant_core *mailgrant_get_core(const char *config_path)
{
	char error[512];

	if (mailgrant_core != NULL && strcmp(mailgrant_core_path, config_path) == 0)
		return mailgrant_core;
	if (mailgrant_failed_path != NULL && strcmp(mailgrant_failed_path, config_path) == 0 &&
	    ioloop_time - mailgrant_failed_at < mailgrant_core_log_interval(NULL))
		return NULL; /* already logged: shared access stays off until it loads */
	if (mailgrant_core != NULL) {
		mailgrant_core_close(mailgrant_core);
		mailgrant_core = NULL;
		i_free(mailgrant_core_path);
	}
	i_free(mailgrant_failed_path);
	mailgrant_core = mailgrant_core_open(config_path, error, sizeof(error));
	if (mailgrant_core == NULL) {
		mailgrant_failed_path = i_strdup(config_path);
		mailgrant_failed_at = ioloop_time;
		mailgrant_last_error_log = 0; /* this line is never suppressed by an earlier one */
		mailgrant_log_error_as("cannot load the configuration", error,
				       "shared folders and per-collaborator logins are unavailable "
				       "until it loads");
		return NULL;
	}
	mailgrant_core_path = i_strdup(config_path);
	return mailgrant_core;
}

static struct mailgrant_core *mailgrant_user_core(struct mail_user *user)
{
	return mailgrant_get_core(mailgrant_config_path(
		mail_user_plugin_getenv(user, "mailgrant_config")));
}

/* ---- rights ---- */

static const char *const *mailgrant_letters_to_names(pool_t pool, const char *letters)
{
	ARRAY_TYPE(const_string) names;
	const char *name;

	p_array_init(&names, pool, 12);
	for (; *letters != '\0'; letters++) {
		switch (*letters) {
		case 'l': name = MAIL_ACL_LOOKUP; break;
		case 'r': name = MAIL_ACL_READ; break;
		case 'w': name = MAIL_ACL_WRITE; break;
		case 's': name = MAIL_ACL_WRITE_SEEN; break;
		case 't': name = MAIL_ACL_WRITE_DELETED; break;
		case 'i': name = MAIL_ACL_INSERT; break;
		case 'p': name = MAIL_ACL_POST; break;
		case 'e': name = MAIL_ACL_EXPUNGE; break;
		case 'k': name = MAIL_ACL_CREATE; break;
		case 'x': name = MAIL_ACL_DELETE; break;
		case 'a': name = MAIL_ACL_ADMIN; break;
		default: continue;
		}
		array_push_back(&names, &name);
	}
	array_append_zero(&names);
	return array_front(&names);
}

static bool mailgrant_letters_subset(const char *small, const char *big)
{
	for (; *small != '\0'; small++) {
		if (strchr(big, *small) == NULL)
			return FALSE;
	}
	return TRUE;
}

/* The folder name as users and grants spell it: the vname without the namespace prefix.
   A shared namespace shows the owner's INBOX as the bare prefix ("shared/alice"), so
   INBOX is recognised by its storage name first. */
static const char *mailgrant_folder_of(struct mailbox_list *list, const char *objname)
{
	struct mail_namespace *ns = list->ns;
	const char *vname;

	if (strcasecmp(objname, "INBOX") == 0)
		return "INBOX";
	vname = mailbox_list_get_vname(list, objname);
	if (ns->prefix_len > 0 && strncmp(vname, ns->prefix, ns->prefix_len) == 0)
		vname += ns->prefix_len;
	else if (ns->prefix_len > 0 && strlen(vname) == ns->prefix_len - 1 &&
		 strncmp(vname, ns->prefix, ns->prefix_len - 1) == 0)
		return "INBOX";
	return *vname == '\0' ? "INBOX" : vname;
}

static void mailgrant_apply_rights(struct mailgrant_mailbox_list *mlist,
				   struct acl_object *aclobj, const char *letters)
{
	struct acl_backend *backend = aclobj->backend;
	struct acl_rights_update ru;
	char *prev = hash_table_lookup(mlist->applied, aclobj->name);

	if (prev == NULL && *letters == '\0')
		return;
	if (prev != NULL && !mailgrant_letters_subset(prev, letters)) {
		/* rights were revoked: start again from vfile's own entries */
		acl_object_rebuild_cache(aclobj);
	}
	if (*letters != '\0') {
		/* vfile leaves a negative entry when nothing matched: it cannot be
		   updated, so drop it (vfile re-reads its files next time). */
		if (acl_cache_get_my_rights(backend->cache, aclobj->name) == NULL &&
		    acl_cache_get_validity(backend->cache, aclobj->name) != NULL)
			acl_cache_flush(backend->cache, aclobj->name);
		i_zero(&ru);
		ru.modify_mode = ACL_MODIFY_MODE_ADD;
		ru.neg_modify_mode = ACL_MODIFY_MODE_REMOVE; /* with NULL neg_rights: no change */
		ru.rights.id_type = ACL_ID_USER;
		ru.rights.identifier = acl_backend_get_acl_username(backend);
		ru.rights.rights = mailgrant_letters_to_names(pool_datastack_create(), letters);
		acl_cache_update(backend->cache, aclobj->name, &ru);
	}
	if (prev == NULL || strcmp(prev, letters) != 0) {
		struct mailbox_list *list = backend->list;
		char *key = prev == NULL ? p_strdup(list->pool, aclobj->name) : NULL;

		if (key == NULL) {
			char *old_key, *old_value;
			if (!hash_table_lookup_full(mlist->applied, aclobj->name, &old_key, &old_value))
				i_unreached();
			key = old_key;
		}
		hash_table_update(mlist->applied, key, p_strdup(list->pool, letters));
	}
}

static int mailgrant_object_refresh_cache(struct acl_object *aclobj)
{
	struct mailbox_list *list = aclobj->backend->list;
	struct mailgrant_mailbox_list *mlist = MAILGRANT_LIST_CONTEXT(list);
	struct mailgrant_core *core;
	const char *user, *folder;
	char letters[32], error[512];
	int ret, ret2;

	i_assert(mlist != NULL);
	ret = mlist->acl_vprev.object_refresh_cache(aclobj);
	if (ret < 0 || mlist->owner == NULL || *aclobj->name == '\0' ||
	    acl_backend_user_is_owner(aclobj->backend))
		return ret;

	user = acl_backend_get_acl_username(aclobj->backend);
	if (user == NULL)
		return ret;
	T_BEGIN {
		folder = mailgrant_folder_of(list, aclobj->name);
		core = mailgrant_user_core(list->ns->user);
		if (core == NULL) {
			letters[0] = '\0'; /* no configuration: grants nothing (already logged) */
		} else if ((ret2 = mailgrant_core_folder_rights(core, user, mlist->owner, folder,
								letters, sizeof(letters),
								error, sizeof(error))) < 0) {
			mailgrant_log_failure(ret2, t_strdup_printf("rights of %s on %s of %s", user,
								    folder, mlist->owner), error);
			letters[0] = '\0'; /* fail safe: LDAP trouble grants nothing */
		}
		mailgrant_apply_rights(mlist, aclobj, letters);
	} T_END;
	return ret;
}

static int mailgrant_nonowner_lookups_iter_deinit(struct acl_mailbox_list_context *ctx)
{
	struct mailgrant_mailbox_list *mlist = MAILGRANT_LIST_CONTEXT(ctx->backend->list);
	bool extend = mlist != NULL && mlist->owner != NULL;
	int ret;

	i_assert(mlist != NULL);
	ret = mlist->acl_vprev.nonowner_lookups_iter_deinit(ctx);
	/* vfile's list of "mailboxes visible to others" knows nothing of LDAP
	   grants: make LIST check every folder of this owner instead. */
	return extend ? -1 : ret;
}

/* Whose folders an ACL listing or update is about: the shared owner (or the mailbox of
   a per-collaborator login), else the namespace's own user. */
static const char *mailgrant_acl_owner(const struct mailgrant_mailbox_list *mlist,
				       struct mailbox_list *list)
{
	if (mlist->owner != NULL)
		return mlist->owner;
	return list->ns->owner != NULL ? list->ns->owner->username : NULL;
}

/* GETACL: the owner (or an admin) sees the LDAP grants on a folder next to the local
   ACL entries, as user=<address> and $<group> identifiers. */
struct mailgrant_grantee_collect {
	pool_t pool;
	ARRAY(struct acl_rights) rights;
};

static void mailgrant_collect_grantee(void *context, int is_group, const char *name,
				      const char *letters)
{
	struct mailgrant_grantee_collect *collect = context;
	struct acl_rights *right = array_append_space(&collect->rights);

	right->id_type = is_group ? ACL_ID_GROUP : ACL_ID_USER;
	right->identifier = p_strdup(collect->pool, name);
	right->rights = mailgrant_letters_to_names(collect->pool, letters);
}

static struct acl_object_list_iter *mailgrant_object_list_init(struct acl_object *aclobj)
{
	struct mailbox_list *list = aclobj->backend->list;
	struct mailgrant_mailbox_list *mlist = MAILGRANT_LIST_CONTEXT(list);
	struct acl_object_list_iter *iter;
	struct mailgrant_grantee_collect collect;
	struct acl_rights *all;
	struct mailgrant_core *core;
	const char *owner;
	char error[512];
	unsigned int added;
	int ret;

	i_assert(mlist != NULL);
	iter = mlist->acl_vprev.object_list_init(aclobj);
	owner = mailgrant_acl_owner(mlist, list);
	if (iter->failed || owner == NULL || *aclobj->name == '\0')
		return iter;

	collect.pool = iter->pool;
	p_array_init(&collect.rights, iter->pool, 4);
	core = mailgrant_user_core(list->ns->user);
	if (core == NULL)
		return iter; /* no configuration (already logged): the local entries only */
	T_BEGIN {
		ret = mailgrant_core_folder_grantees(core, owner,
						     mailgrant_folder_of(list, aclobj->name),
						     mailgrant_collect_grantee, &collect,
						     error, sizeof(error));
		if (ret < 0)
			mailgrant_log_failure(ret, t_strdup_printf("grants on %s", owner), error);
	} T_END;
	added = array_count(&collect.rights);
	if (added == 0)
		return iter;
	all = p_new(iter->pool, struct acl_rights, iter->count + added);
	if (iter->count > 0)
		memcpy(all, iter->rights, sizeof(*all) * iter->count);
	memcpy(all + iter->count, array_front(&collect.rights), sizeof(*all) * added);
	iter->rights = all;
	iter->count += added;
	iter->empty = FALSE;
	return iter;
}

/* SETACL/DELETEACL for an identifier whose rights on this folder come from LDAP would
   only change the local half of its rights (the LDAP half is added on every refresh),
   so "remove bob" would silently leave bob in. Refuse, and say why in the log: Dovecot's
   imap_acl answers any refusal with its generic error text. */
struct mailgrant_managed_check {
	const char *identifier;
	bool is_group;
	bool managed;
};

static void mailgrant_check_managed(void *context, int is_group, const char *name,
				    const char *letters ATTR_UNUSED)
{
	struct mailgrant_managed_check *check = context;

	if ((is_group != 0) == check->is_group && strcasecmp(name, check->identifier) == 0)
		check->managed = TRUE;
}

static int mailgrant_object_update(struct acl_object *aclobj, const struct acl_rights_update *update)
{
	struct mailbox_list *list = aclobj->backend->list;
	struct mailgrant_mailbox_list *mlist = MAILGRANT_LIST_CONTEXT(list);
	struct mailgrant_managed_check check;
	struct mailgrant_core *core;
	const char *owner;
	char error[512];
	int ret = 0;

	i_assert(mlist != NULL);
	owner = mailgrant_acl_owner(mlist, list);
	if (owner == NULL || *aclobj->name == '\0' || update->rights.identifier == NULL ||
	    (update->rights.id_type != ACL_ID_USER && update->rights.id_type != ACL_ID_GROUP))
		return mlist->acl_vprev.object_update(aclobj, update);

	i_zero(&check);
	check.identifier = update->rights.identifier;
	check.is_group = update->rights.id_type == ACL_ID_GROUP;
	core = mailgrant_user_core(list->ns->user);
	if (core == NULL)
		return -1; /* cannot tell (no configuration, already logged): refuse */
	T_BEGIN {
		const char *folder = mailgrant_folder_of(list, aclobj->name);
		int ret2 = mailgrant_core_folder_grantees(core, owner, folder,
							  mailgrant_check_managed, &check,
							  error, sizeof(error));

		if (ret2 < 0) {
			/* cannot tell: refuse rather than create a half-local grant */
			mailgrant_log_failure(ret2, t_strdup_printf("SETACL on %s of %s", folder, owner),
					      error);
			ret = -1;
		} else if (check.managed) {
			i_info("mailgrant: refused SETACL/DELETEACL for %s on %s of %s: "
			       "its access is managed in LDAP (change the mailGrant entry below %s)",
			       check.identifier, folder, owner, owner);
			ret = -1;
		}
	} T_END;
	return ret < 0 ? -1 : mlist->acl_vprev.object_update(aclobj, update);
}

/* ---- hooks ---- */

static void mailgrant_mailbox_list_deinit(struct mailbox_list *list)
{
	struct mailgrant_mailbox_list *mlist = MAILGRANT_LIST_CONTEXT(list);

	hash_table_destroy(&mlist->applied);
	mlist->module_ctx.super.deinit(list);
}

static void mailgrant_mailbox_list_created(struct mailbox_list *list)
{
	struct mailbox_list_vfuncs *v = list->vlast;
	struct mailgrant_mailbox_list *mlist;

	mlist = p_new(list->pool, struct mailgrant_mailbox_list, 1);
	mlist->module_ctx.super = *v;
	list->vlast = &mlist->module_ctx.super;
	v->deinit = mailgrant_mailbox_list_deinit;
	hash_table_create(&mlist->applied, list->pool, 0, str_hash, strcmp);
	MODULE_CONTEXT_SET(list, mailgrant_mailbox_list_module, mlist);
}

static void mailgrant_mail_namespace_storage_added(struct mail_namespace *ns)
{
	struct acl_mailbox_list *alist = ACL_LIST_CONTEXT(ns->list);
	struct mailgrant_mailbox_list *mlist = MAILGRANT_LIST_CONTEXT(ns->list);
	struct acl_backend *backend;

	if (alist == NULL || mlist == NULL || mlist->wrapped)
		return;
	backend = alist->rights.backend;
	mlist->acl_vprev = backend->v;
	backend->v.object_refresh_cache = mailgrant_object_refresh_cache;
	backend->v.nonowner_lookups_iter_deinit = mailgrant_nonowner_lookups_iter_deinit;
	backend->v.object_list_init = mailgrant_object_list_init;
	backend->v.object_update = mailgrant_object_update;
	mlist->wrapped = TRUE;
	/* Someone else's mailbox seen by this user: a shared namespace's owner, or the
	   user's own namespace when logged in as MAILBOX*GRANTEE. */
	if (ns->owner != NULL && !acl_backend_user_is_owner(backend))
		mlist->owner = p_strdup(ns->list->pool, ns->owner->username);
}

/* Per-collaborator login (MAILBOX*GRANTEE, Dovecot's master-user syntax): the grantee
   authenticated with their own password; only a grant lets them in. */
static void mailgrant_mail_user_created(struct mail_user *user)
{
	const char *master = mail_user_plugin_getenv(user, "master_user");
	struct mailgrant_core *core;
	char error[512];
	int ret;

	if (user->autocreated)
		return;
	/* for the dict driver, which cannot read the user's settings itself */
	i_free(mailgrant_user_config_path);
	mailgrant_user_config_path = i_strdup(mailgrant_config_path(
		mail_user_plugin_getenv(user, "mailgrant_config")));
	if (master == NULL || *master == '\0' || strcmp(master, user->username) == 0)
		return;
	core = mailgrant_get_core(mailgrant_user_config_path);
	ret = core == NULL ? -1 :
		mailgrant_core_may_open_mailbox(core, master, user->username, error, sizeof(error));
	if (ret > 0)
		return;
	if (ret < 0) {
		if (core != NULL)
			mailgrant_log_failure(ret, t_strdup_printf("login of %s to %s", master,
								   user->username), error);
		user->error = p_strdup_printf(user->pool,
			"mailgrant: cannot check the grant of %s on %s right now", master, user->username);
	} else {
		i_info("mailgrant: refused login of %s to %s: no grant in LDAP", master, user->username);
		user->error = p_strdup_printf(user->pool,
			"mailgrant: %s has no grant on %s", master, user->username);
	}
}

static struct mail_storage_hooks mailgrant_mail_storage_hooks = {
	.mail_user_created = mailgrant_mail_user_created,
	.mailbox_list_created = mailgrant_mailbox_list_created,
	.mail_namespace_storage_added = mailgrant_mail_namespace_storage_added,
};

/* ---- dict driver for acl_shared_dict = mailgrant: ----
   The URI normally carries no path ("mailgrant:" or "mailgrant:default"): the driver
   uses mailgrant_config, like the rest of the plugin. An older drop-in's
   "mailgrant:<path>" still works where mailgrant_config is unset. */

#define MAILGRANT_SHARED_USER_PREFIX DICT_PATH_SHARED "shared-boxes/user/"

struct mailgrant_dict {
	struct dict dict;
	char *config_path; /* from the URI; NULL = none given */
};

struct mailgrant_dict_iterate_context {
	struct dict_iterate_context ctx;
	pool_t pool;
	const char *path;
	ARRAY_TYPE(const_string) keys;
	unsigned int next;
	char *error;
};

struct mailgrant_dict_transaction_context {
	struct dict_transaction_context ctx;
};

static int mailgrant_dict_init(struct dict *driver, const char *uri,
			       const struct dict_settings *set ATTR_UNUSED,
			       struct dict **dict_r, const char **error_r ATTR_UNUSED)
{
	struct mailgrant_dict *dict = i_new(struct mailgrant_dict, 1);

	dict->dict = *driver;
	if (*uri != '\0' && strcmp(uri, "default") != 0) {
		dict->config_path = i_strdup(uri);
		/* Opened before mail_user_created runs: mailgrant_config_path() sees it there. */
		if (mailgrant_dict_config_path == NULL)
			mailgrant_dict_config_path = i_strdup(uri);
	}
	*dict_r = &dict->dict;
	return 0;
}

/* The configuration for a dict lookup: the user's (mailgrant_config), which a path in
   the URI does not override -- two paths would mean two LDAP setups in one process. */
static const char *mailgrant_dict_config(struct mailgrant_dict *dict)
{
	const char *path = mailgrant_user_config_path != NULL ? mailgrant_user_config_path :
		mailgrant_config_path(NULL);

	if (dict->config_path != NULL && strcmp(dict->config_path, path) != 0 &&
	    !mailgrant_dict_path_warned) {
		mailgrant_dict_path_warned = TRUE;
		i_warning("mailgrant: acl_shared_dict names %s but mailgrant_config is %s: using %s "
			  "(write acl_shared_dict = mailgrant: to name the configuration once)",
			  dict->config_path, path, path);
	}
	return path;
}

static void mailgrant_dict_deinit(struct dict *_dict)
{
	struct mailgrant_dict *dict = (struct mailgrant_dict *)_dict;

	i_free(dict->config_path);
	i_free(dict);
}

static int mailgrant_dict_lookup(struct dict *dict ATTR_UNUSED,
				 const struct dict_op_settings *set ATTR_UNUSED,
				 pool_t pool ATTR_UNUSED, const char *key ATTR_UNUSED,
				 const char **value_r, const char **error_r ATTR_UNUSED)
{
	*value_r = NULL;
	return 0;
}

static void mailgrant_dict_add_owner(void *context, const char *owner)
{
	struct mailgrant_dict_iterate_context *iter = context;
	const char *key = p_strconcat(iter->pool, iter->path, owner, NULL);

	array_push_back(&iter->keys, &key);
}

static struct dict_iterate_context *
mailgrant_dict_iterate_init(struct dict *_dict, const struct dict_op_settings *set ATTR_UNUSED,
			    const char *path, enum dict_iterate_flags flags ATTR_UNUSED)
{
	struct mailgrant_dict *dict = (struct mailgrant_dict *)_dict;
	struct mailgrant_dict_iterate_context *iter;
	struct mailgrant_core *core;
	const char *login;
	char error[512];
	pool_t pool;
	int ret;

	pool = pool_alloconly_create("mailgrant dict iterate", 1024);
	iter = p_new(pool, struct mailgrant_dict_iterate_context, 1);
	iter->ctx.dict = _dict;
	iter->pool = pool;
	iter->path = p_strdup(pool, path);
	p_array_init(&iter->keys, pool, 8);

	/* Only "shared/shared-boxes/user/<login>/" is ours: "anyone" and groups are
	   covered by the user's own lookup (groups are resolved in LDAP). */
	if (str_begins(path, MAILGRANT_SHARED_USER_PREFIX)) {
		login = t_strcut(path + strlen(MAILGRANT_SHARED_USER_PREFIX), '/');
		/* No configuration: no owners, and no second error line from Dovecot for
		   the one mailgrant_get_core() has logged. */
		core = *login == '\0' ? NULL : mailgrant_get_core(mailgrant_dict_config(dict));
		if (core != NULL &&
		    (ret = mailgrant_core_sharing_owners(core, login, mailgrant_dict_add_owner, iter,
							 error, sizeof(error))) < 0) {
			mailgrant_log_failure(ret, t_strdup_printf("mailboxes shared with %s", login),
					      error);
			iter->error = p_strdup_printf(pool, "mailgrant: mailboxes shared with %s: %s",
						      login, error);
		}
	}
	return &iter->ctx;
}

static bool mailgrant_dict_iterate(struct dict_iterate_context *_iter,
				   const char **key_r, const char *const **values_r)
{
	static const char *const shared_value[] = { "1", NULL };
	struct mailgrant_dict_iterate_context *iter =
		(struct mailgrant_dict_iterate_context *)_iter;

	if (iter->next >= array_count(&iter->keys))
		return FALSE;
	*key_r = array_idx_elem(&iter->keys, iter->next++);
	*values_r = shared_value;
	return TRUE;
}

static int mailgrant_dict_iterate_deinit(struct dict_iterate_context *_iter, const char **error_r)
{
	struct mailgrant_dict_iterate_context *iter =
		(struct mailgrant_dict_iterate_context *)_iter;
	int ret = iter->error == NULL ? 0 : -1;

	if (ret < 0)
		*error_r = t_strdup(iter->error);
	pool_unref(&iter->pool);
	return ret;
}

/* SETACL and `doveadm acl recalc` write here: the answers come from LDAP, so writes
   are accepted and ignored. */
static struct dict_transaction_context *mailgrant_dict_transaction_init(struct dict *dict)
{
	struct mailgrant_dict_transaction_context *ctx =
		i_new(struct mailgrant_dict_transaction_context, 1);

	ctx->ctx.dict = dict;
	return &ctx->ctx;
}

static void mailgrant_dict_transaction_commit(struct dict_transaction_context *ctx,
					      bool async ATTR_UNUSED,
					      dict_transaction_commit_callback_t *callback,
					      void *context)
{
	struct dict_commit_result result = { .ret = DICT_COMMIT_RET_OK };

	i_free(ctx);
	if (callback != NULL)
		callback(&result, context);
}

static void mailgrant_dict_transaction_rollback(struct dict_transaction_context *ctx)
{
	i_free(ctx);
}

static void mailgrant_dict_set(struct dict_transaction_context *ctx ATTR_UNUSED,
			       const char *key ATTR_UNUSED, const char *value ATTR_UNUSED)
{
}

static void mailgrant_dict_unset(struct dict_transaction_context *ctx ATTR_UNUSED,
				 const char *key ATTR_UNUSED)
{
}

static struct dict mailgrant_dict_driver = {
	.name = "mailgrant",
	.v = {
		.init = mailgrant_dict_init,
		.deinit = mailgrant_dict_deinit,
		.lookup = mailgrant_dict_lookup,
		.iterate_init = mailgrant_dict_iterate_init,
		.iterate = mailgrant_dict_iterate,
		.iterate_deinit = mailgrant_dict_iterate_deinit,
		.transaction_init = mailgrant_dict_transaction_init,
		.transaction_commit = mailgrant_dict_transaction_commit,
		.transaction_rollback = mailgrant_dict_transaction_rollback,
		.set = mailgrant_dict_set,
		.unset = mailgrant_dict_unset,
	}
};

/* ---- module ---- */

void mailgrant_plugin_init(struct module *module)
{
	mail_storage_hooks_add(module, &mailgrant_mail_storage_hooks);
	dict_driver_register(&mailgrant_dict_driver);
}

void mailgrant_plugin_deinit(void)
{
	dict_driver_unregister(&mailgrant_dict_driver);
	mail_storage_hooks_remove(&mailgrant_mail_storage_hooks);
	if (mailgrant_core != NULL) {
		mailgrant_core_close(mailgrant_core);
		mailgrant_core = NULL;
		i_free(mailgrant_core_path);
	}
	i_free(mailgrant_failed_path);
	i_free(mailgrant_user_config_path);
	i_free(mailgrant_dict_config_path);
}
