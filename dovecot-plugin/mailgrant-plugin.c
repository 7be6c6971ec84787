/* mailgrant-plugin.c -- the Dovecot module entry of mailgrant (2.3 and 2.4): adds rights from
 * LDAP grants to what the ACL plugin computes, lists the owners who share with a user
 * in the shared namespace, and refuses per-collaborator (master user) logins without a
 * grant. Each concern has its own file (see mailgrant-plugin.h); all decisions come
 * from the C++ core through mailgrant-core.h.
 *
 * The configuration is named once, by mailgrant_config (the sharing map's dict
 * "mailgrant" carries no path). A configuration that cannot be loaded gives one error line per
 * process and interval: shared folders and per-collaborator logins are unavailable,
 * the user's own mailbox works as without the plugin.
 */
#include "lib.h"
#include "mail-user.h"
#include "mail-storage-hooks.h"
#include "dict-private.h"

#include "mailgrant-plugin.h"

const char *mailgrant_plugin_version = DOVECOT_ABI_VERSION;
const char *mailgrant_plugin_dependencies[] = { "acl", NULL };

void mailgrant_plugin_init(struct module *module);
void mailgrant_plugin_deinit(void);

static struct mail_storage_hooks mailgrant_mail_storage_hooks = {
	.mail_user_created = mailgrant_mail_user_created,
	.mailbox_list_created = mailgrant_mailbox_list_created,
	.mail_namespace_storage_added = mailgrant_mail_namespace_storage_added,
	.mailbox_allocated = mailgrant_team_mailbox_allocated,
};

void mailgrant_plugin_init(struct module *module)
{
	mail_storage_hooks_add(module, &mailgrant_mail_storage_hooks);
	dict_driver_register(&mailgrant_dict_driver);
	mailgrant_imap_init();
}

void mailgrant_plugin_deinit(void)
{
	mailgrant_imap_deinit();
	dict_driver_unregister(&mailgrant_dict_driver);
	mail_storage_hooks_remove(&mailgrant_mail_storage_hooks);
	mailgrant_config_deinit();
}
