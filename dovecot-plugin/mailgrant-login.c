/* mailgrant-login.c -- per-collaborator logins (MAILBOX*GRANTEE, Dovecot's master
 * user syntax) open the mailbox only with a grant; every mail user's configuration is
 * remembered here for the dict driver, which cannot read user settings itself.
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

/* Per-collaborator login (MAILBOX*GRANTEE, Dovecot's master-user syntax): the grantee
   authenticated with their own password; only a grant lets them in. */
void mailgrant_mail_user_created(struct mail_user *user)
{
	const char *master, *cerror;
	struct mailgrant_core *core;
	char error[MAILGRANT_ERROR_MAX];
	int ret;

	if (user->autocreated)
		return;
	/* 2.4: the grantee as ACL user, before any mailbox list exists (mailgrant-compat.c) */
	if (mailgrant_compat_user_created(user, &cerror) < 0) {
		i_error("mailgrant: %s", cerror);
		user->error = p_strdup_printf(user->pool, "mailgrant: %s", cerror);
		return;
	}
	master = mailgrant_compat_master_user(user);
	/* for the dict driver, which cannot read the user's settings itself */
	mailgrant_remember_user_config(user);
	if (master == NULL || *master == '\0' || strcmp(master, user->username) == 0)
		return;
	core = mailgrant_get_core(mailgrant_remembered_user_config());
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

