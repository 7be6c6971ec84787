/* mailgrant-config.c -- which configuration the plugin uses, the one core handle per
 * mail process (opened on first use, reopened when the path changes), and the error
 * log that says once per interval what the user loses while LDAP or the configuration
 * is broken. A configuration that cannot be loaded is not retried on every command.
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

/* A mail user's mailgrant_config, resolved once when the user is created: on 2.4 each
   read is a settings_get() (a settings lookup and a pool), and the rights of every
   folder a command touches ask for it (bench (a) session-heavy on 2.4: 0.80 of stock). */
struct mailgrant_user {
	union mail_user_module_context module_ctx;
	const char *config_path;
};
#define MAILGRANT_USER_CONTEXT(obj) MODULE_CONTEXT(obj, mailgrant_user_module)
static MODULE_CONTEXT_DEFINE_INIT(mailgrant_user_module, &mail_user_module_register);

static struct mailgrant_core *mailgrant_core;
static char *mailgrant_core_path;
static time_t mailgrant_last_error_log;
/* The configuration that could not be loaded, and when: not retried on every command
   (each retry would re-read the file and log again), only once per log interval. */
static char *mailgrant_failed_path;
static time_t mailgrant_failed_at;
/* The path the last mail user's settings resolved to (mailgrant_user_created; 2.4: also
   the dict's init). The 2.3 dict driver cannot see the user's settings: Dovecot's ACL
   plugin opens acl_shared_dict before our mail_user_created hook runs (lib01_acl sorts
   first) and passes only the URI. */
static char *mailgrant_user_config_path;
/* An explicit path from an older drop-in's acl_shared_dict = mailgrant:<path>. */
static char *mailgrant_dict_config_path;

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
void mailgrant_log_failure(int ret, const char *what, const char *error)
{
	if (ret == MAILGRANT_CORE_BAD_INPUT)
		i_info("mailgrant: %s: refused: %s", what, error);
	else
		mailgrant_log_error(what, error);
}

/* Which configuration to use: mailgrant_config (the one place the drop-in names it),
   else a path an older drop-in gave in acl_shared_dict, else the default. */
const char *mailgrant_config_path(const char *setting)
{
	if (setting != NULL && *setting != '\0')
		return setting;
	if (mailgrant_dict_config_path != NULL)
		return mailgrant_dict_config_path;
	return mailgrant_core_default_config_path();
}

struct mailgrant_core *mailgrant_get_core(const char *config_path)
{
	char error[MAILGRANT_ERROR_MAX];

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
	/* an imap process sees where each command ends (mailgrant-imap.c) */
	if (mailgrant_imap_active())
		mailgrant_core_pin_per_command(mailgrant_core);
	return mailgrant_core;
}

struct mailgrant_core *mailgrant_open_core(void)
{
	return mailgrant_core;
}

void mailgrant_command_done(void)
{
	/* only a core already open: a command's end never loads one */
	if (mailgrant_core != NULL)
		mailgrant_core_command_done(mailgrant_core);
}

/* The configuration `user`'s settings name (2.3: plugin { mailgrant_config = ... }; 2.4:
   the global setting, read through compat), or the default. */
static const char *mailgrant_user_setting_path(struct mail_user *user)
{
	return mailgrant_config_path(mailgrant_compat_user_config(user));
}

struct mailgrant_core *mailgrant_user_core(struct mail_user *user)
{
	struct mailgrant_user *muser = MAILGRANT_USER_CONTEXT(user);

	if (muser != NULL)
		return mailgrant_get_core(muser->config_path);
	/* a user our mail_user_created hook did not see (autocreated): read it now */
	return mailgrant_get_core(mailgrant_user_setting_path(user));
}

void mailgrant_remember_config(const char *setting)
{
	const char *path = mailgrant_config_path(setting);

	if (mailgrant_user_config_path != NULL && strcmp(mailgrant_user_config_path, path) == 0)
		return;
	i_free(mailgrant_user_config_path);
	mailgrant_user_config_path = i_strdup(path);
}

void mailgrant_remember_user_config(struct mail_user *user)
{
	struct mailgrant_user *muser = MAILGRANT_USER_CONTEXT(user);
	const char *path = mailgrant_user_setting_path(user);

	if (muser == NULL) {
		muser = p_new(user->pool, struct mailgrant_user, 1);
		MODULE_CONTEXT_SET(user, mailgrant_user_module, muser);
	}
	muser->config_path = p_strdup(user->pool, path);
	mailgrant_remember_config(path);
}

const char *mailgrant_remembered_user_config(void)
{
	return mailgrant_user_config_path;
}

void mailgrant_set_dict_config_path(const char *path)
{
	if (mailgrant_dict_config_path == NULL)
		mailgrant_dict_config_path = i_strdup(path);
}

void mailgrant_config_deinit(void)
{
	if (mailgrant_core != NULL) {
		mailgrant_core_close(mailgrant_core);
		mailgrant_core = NULL;
		i_free(mailgrant_core_path);
	}
	i_free(mailgrant_failed_path);
	i_free(mailgrant_user_config_path);
	i_free(mailgrant_dict_config_path);
}
