/* mailgrant-list.c -- the plugin's module context on every mailbox list, and the
 * place where the ACL backend's vfuncs are chained (rights: mailgrant-rights.c; ACL
 * commands: mailgrant-acl-cmd.c) once the ACL plugin has set them up (2.3: in its
 * mail_namespace_storage_added hook; 2.4: already in mailbox_list_created -- both come
 * before the storage-added hook of a module loaded after lib01_acl). The list's own
 * iter_init/iter_next go to mailgrant-team.c (team mailboxes' special-use folders).
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

struct mailgrant_mailbox_list_module mailgrant_mailbox_list_module =
	MODULE_CONTEXT_INIT(&mailbox_list_module_register);

static void mailgrant_mailbox_list_deinit(struct mailbox_list *list)
{
	struct mailgrant_mailbox_list *mlist = MAILGRANT_LIST_CONTEXT(list);

	hash_table_destroy(&mlist->applied);
	mlist->module_ctx.super.deinit(list);
}

void mailgrant_mailbox_list_created(struct mailbox_list *list)
{
	struct mailbox_list_vfuncs *v = list->vlast;
	struct mailgrant_mailbox_list *mlist;

	mlist = p_new(list->pool, struct mailgrant_mailbox_list, 1);
	mlist->module_ctx.super = *v;
	list->vlast = &mlist->module_ctx.super;
	v->deinit = mailgrant_mailbox_list_deinit;
	/* team mailboxes (mailgrant-team.c): below the ACL plugin's listing, which filters
	   what we flag */
	v->iter_init = mailgrant_team_iter_init;
	v->iter_next = mailgrant_team_iter_next;
	hash_table_create(&mlist->applied, list->pool, 0, str_hash, strcmp);
	MODULE_CONTEXT_SET(list, mailgrant_mailbox_list_module, mlist);
}

void mailgrant_mail_namespace_storage_added(struct mail_namespace *ns)
{
	struct acl_mailbox_list *alist = ACL_LIST_CONTEXT(ns->list);
	struct mailgrant_mailbox_list *mlist = MAILGRANT_LIST_CONTEXT(ns->list);
	struct acl_backend *backend;

	if (alist == NULL || mlist == NULL || mlist->wrapped)
		return;
	backend = alist->rights.backend;
	/* The backend's table, copied and partly replaced (2.3: a struct in the backend,
	   2.4: a const pointer to the driver's table; mailgrant-compat.h). */
	mlist->acl_vprev = MAILGRANT_ACL_V(backend);
	mlist->acl_v = mlist->acl_vprev;
	mlist->acl_v.object_refresh_cache = mailgrant_object_refresh_cache;
	mlist->acl_v.nonowner_lookups_iter_init = mailgrant_nonowner_lookups_iter_init;
	mlist->acl_v.nonowner_lookups_iter_next = mailgrant_nonowner_lookups_iter_next;
	mlist->acl_v.nonowner_lookups_iter_deinit = mailgrant_nonowner_lookups_iter_deinit;
	mlist->acl_v.object_list_init = mailgrant_object_list_init;
	mlist->acl_v.object_update = mailgrant_object_update;
	MAILGRANT_ACL_SET_V(backend, &mlist->acl_v);
	mlist->backend = backend;
	mlist->wrapped = TRUE;
	/* Someone else's mailbox seen by this user: a shared namespace's owner, or the
	   user's own namespace when logged in as MAILBOX*GRANTEE. */
	if (ns->owner != NULL && !acl_backend_user_is_owner(backend))
		mlist->owner = p_strdup(ns->list->pool, ns->owner->username);
}

