/* mailgrant-dict.c -- a dict driver named "mailgrant" that answers "who shares with
 * user X" from LDAP grants, so those owners appear in the shared namespace. Dovecot's
 * ACL plugin opens it as its sharing map: 2.3 acl_shared_dict = mailgrant:, 2.4
 * acl_sharing_map { dict mailgrant { } } (a dict's driver is its name there). The
 * vfuncs whose signatures differ (init, lookup) are in mailgrant-compat.c.
 */
#include "lib.h"
#include "array.h"
#include "hash.h"
#include "ioloop.h"
#include "str.h"
#include "mail-user.h"
#include "mail-namespace.h"
#include "mail-storage-hooks.h"
#include "mailbox-list-private.h"
#include "dict-private.h"
#include "acl-api-private.h"
#include "acl-cache.h"
#include "acl-plugin.h"

#include "mailgrant-plugin.h"

#define MAILGRANT_SHARED_USER_PREFIX DICT_PATH_SHARED "shared-boxes/user/"

struct mailgrant_dict {
	struct dict dict;
	char *config_path; /* from the 2.3 URI; NULL = none given (always in 2.4) */
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

struct dict *mailgrant_dict_create(const struct dict *driver, const char *uri_path)
{
	struct mailgrant_dict *dict = i_new(struct mailgrant_dict, 1);

	dict->dict = *driver;
	dict->config_path = i_strdup(uri_path);
	return &dict->dict;
}

/* The configuration for a dict lookup: the user's (mailgrant_config), which a path in
   the URI does not override -- two paths would mean two LDAP setups in one process. */
static const char *mailgrant_dict_config(struct mailgrant_dict *dict)
{
	static bool mailgrant_dict_path_warned = FALSE;
	const char *path = mailgrant_remembered_user_config() != NULL ?
		mailgrant_remembered_user_config() : mailgrant_config_path(NULL);

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
	char error[MAILGRANT_ERROR_MAX];
	pool_t pool;
	int ret;

	pool = pool_alloconly_create("mailgrant dict iterate", MAILGRANT_DICT_POOL_SIZE);
	iter = p_new(pool, struct mailgrant_dict_iterate_context, 1);
	iter->ctx.dict = _dict;
	iter->pool = pool;
	iter->path = p_strdup(pool, path);
	p_array_init(&iter->keys, pool, MAILGRANT_OWNERS_INITIAL);

	/* Only "shared/shared-boxes/user/<login>/" is ours: "anyone" and groups are
	   covered by the user's own lookup (groups are resolved in LDAP). */
	if (mailgrant_str_begins(path, MAILGRANT_SHARED_USER_PREFIX)) {
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

struct dict mailgrant_dict_driver = {
	.name = "mailgrant",
	.v = {
		.init = mailgrant_dict_compat_init,
		.deinit = mailgrant_dict_deinit,
		.lookup = mailgrant_dict_compat_lookup,
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

