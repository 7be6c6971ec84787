/* mailgrant-compat.c -- the functions whose bodies differ between Dovecot 2.3 and 2.4
 * (the table is in mailgrant-compat.h): where mailgrant_config and the per-collaborator
 * login's grantee are read (and, 2.4.1, the grantee made the ACL user again), and the
 * dict driver's init and lookup, whose signatures changed. Each does the same thing on
 * both versions.
 */
#include "lib.h"
#include "mail-user.h"
#include "dict-private.h"

#include "mailgrant-compat.h"
#if MAILGRANT_DOVECOT_24
#  include "settings.h"
#  include "mail-storage-service.h"
#  include "acl-api-private.h" /* acl_setting_parser_info */
#  include "mailgrant-settings.h"
#endif

#include "mailgrant-plugin.h"

#if MAILGRANT_DOVECOT_24

/* 2.4: the global setting, through the settings of `event` (a user's, or a child of it
   such as the dict's inside acl_sharing_map). NULL when unset or unreadable (logged:
   the default configuration path is used, as with the setting unset). */
static const char *mailgrant_event_config(struct event *event)
{
	const struct mailgrant_settings *set;
	const char *error, *path;

	if (settings_get(event, &mailgrant_setting_parser_info, 0, &set, &error) < 0) {
		e_error(event, "mailgrant: mailgrant_config: %s", error);
		return NULL;
	}
	path = t_strdup(set->mailgrant_config);
	settings_free(set);
	return path;
}

const char *mailgrant_compat_user_config(struct mail_user *user)
{
	return mailgrant_event_config(user->event);
}

/* 2.4.1: lib-storage takes mail_user->master_user (and %{master_user}) from a "master="
   userdb field, which the auth process sends only when proxying. A login through
   auth_master_user_separator (MAILBOX*GRANTEE) reaches the mail process with
   "master_user=GRANTEE" instead (seen in 2.4.1; upstream unchanged up to 2.4.4). */
const char *mailgrant_compat_master_user(struct mail_user *user)
{
	const char *const *field, *value;

	if (user->master_user != NULL && *user->master_user != '\0')
		return user->master_user;
	for (field = user->userdb_fields; field != NULL && *field != NULL; field++) {
		if (str_begins(*field, "master_user=", &value) && *value != '\0')
			return value;
	}
	return NULL;
}

/* ...so the ACL plugin's default acl_user = %{master_user} expands to "" and the grantee
   would get the mailbox owner's rights (all of them, "a" included). Here, before any
   mailbox list (and its ACL backend) exists, the grantee becomes master_user and, where
   acl_user came out empty, acl_user -- what 2.3 did by itself. An explicit acl_user is
   left alone. */
int mailgrant_compat_user_created(struct mail_user *user, const char **error_r)
{
	const struct acl_settings *set;
	struct settings_instance *instance;
	const char *master = mailgrant_compat_master_user(user), *error;
	bool empty;

	if (master == NULL || (user->master_user != NULL && *user->master_user != '\0'))
		return 0;
	if (user->service_user == NULL) {
		/* no settings instance to override acl_user in: refuse rather than leave it
		   empty (an empty acl_user is the owner) */
		*error_r = t_strdup_printf("cannot make %s the ACL user of %s", master, user->username);
		return -1;
	}
	user->master_user = p_strdup(user->pool, master);
	if (settings_get(user->event, &acl_setting_parser_info, 0, &set, &error) < 0) {
		*error_r = t_strdup_printf("acl settings: %s", error);
		return -1;
	}
	empty = *set->acl_user == '\0';
	settings_free(set);
	if (!empty)
		return 0;
	if (strpbrk(master, "%{}") != NULL) {
		/* never expanded into something else: refuse rather than guess */
		*error_r = t_strdup_printf("login name %s cannot be used as acl_user", master);
		return -1;
	}
	instance = mail_storage_service_user_get_settings_instance(user->service_user);
	settings_override(instance, "acl_user", master, SETTINGS_OVERRIDE_TYPE_USERDB);
	return 0;
}

/* 2.4: acl_sharing_map { dict mailgrant { } } -- no URI any more; the dict's event sees
   the global mailgrant_config. The ACL plugin creates this dict from the user's
   mail_user_created hook, before ours runs: the path is remembered for the user here. */
int mailgrant_dict_compat_init(const struct dict *driver, struct event *event,
			       struct dict **dict_r, const char **error_r ATTR_UNUSED)
{
	mailgrant_remember_config(mailgrant_event_config(event));
	*dict_r = mailgrant_dict_create(driver, NULL);
	return 0;
}

int mailgrant_dict_compat_lookup(struct dict *dict ATTR_UNUSED,
				 const struct dict_op_settings *set ATTR_UNUSED,
				 pool_t pool ATTR_UNUSED, const char *key ATTR_UNUSED,
				 const char *const **values_r, const char **error_r ATTR_UNUSED)
{
	/* only iteration is used (who shares with a user): nothing to look up */
	*values_r = NULL;
	return 0;
}

#else

const char *mailgrant_compat_user_config(struct mail_user *user)
{
	/* 2.3: plugin { mailgrant_config = ... } */
	return mail_user_plugin_getenv(user, "mailgrant_config");
}

const char *mailgrant_compat_master_user(struct mail_user *user)
{
	/* 2.3: the auth process's master_user userdb field, in the plugin environment (the
	   ACL plugin takes acl_user from it by itself) */
	return mail_user_plugin_getenv(user, "master_user");
}

int mailgrant_compat_user_created(struct mail_user *user ATTR_UNUSED,
				  const char **error_r ATTR_UNUSED)
{
	return 0;
}

/* 2.3: acl_shared_dict = mailgrant:[<path>]. The URI normally carries no path
   ("mailgrant:" or "mailgrant:default"): the driver uses mailgrant_config, like the rest
   of the plugin. An older drop-in's "mailgrant:<path>" still works where
   mailgrant_config is unset. */
int mailgrant_dict_compat_init(struct dict *driver, const char *uri,
			       const struct dict_settings *set ATTR_UNUSED,
			       struct dict **dict_r, const char **error_r ATTR_UNUSED)
{
	const char *path = NULL;

	if (*uri != '\0' && strcmp(uri, "default") != 0) {
		path = uri;
		/* Opened before mail_user_created runs: mailgrant_config_path() sees it there. */
		mailgrant_set_dict_config_path(uri);
	}
	*dict_r = mailgrant_dict_create(driver, path);
	return 0;
}

int mailgrant_dict_compat_lookup(struct dict *dict ATTR_UNUSED,
				 const struct dict_op_settings *set ATTR_UNUSED,
				 pool_t pool ATTR_UNUSED, const char *key ATTR_UNUSED,
				 const char **value_r, const char **error_r ATTR_UNUSED)
{
	/* only iteration is used (who shares with a user): nothing to look up */
	*value_r = NULL;
	return 0;
}

#endif
