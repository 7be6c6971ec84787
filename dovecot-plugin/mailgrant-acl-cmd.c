/* mailgrant-acl-cmd.c -- IMAP ACL commands (RFC 4314) next to LDAP grants: GETACL
 * lists the grants' grantees (from the core's Decider::grantees_of) after the local
 * entries; SETACL/DELETEACL of an identifier whose access comes from LDAP is refused.
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

struct acl_object_list_iter *mailgrant_object_list_init(struct acl_object *aclobj)
{
	struct mailbox_list *list = aclobj->backend->list;
	struct mailgrant_mailbox_list *mlist = MAILGRANT_LIST_CONTEXT(list);
	struct acl_object_list_iter *iter;
	struct mailgrant_grantee_collect collect;
	struct acl_rights *all;
	struct mailgrant_core *core;
	const char *owner;
	char error[MAILGRANT_ERROR_MAX];
	unsigned int added;
	int ret;

	i_assert(mlist != NULL);
	iter = mlist->acl_vprev.object_list_init(aclobj);
	owner = mailgrant_acl_owner(mlist, list);
	if (iter->failed || owner == NULL || *aclobj->name == '\0')
		return iter;

	collect.pool = iter->pool;
	p_array_init(&collect.rights, iter->pool, MAILGRANT_GRANTEES_INITIAL);
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

int mailgrant_object_update(struct acl_object *aclobj, const struct acl_rights_update *update)
{
	struct mailbox_list *list = aclobj->backend->list;
	struct mailgrant_mailbox_list *mlist = MAILGRANT_LIST_CONTEXT(list);
	struct mailgrant_managed_check check;
	struct mailgrant_core *core;
	const char *owner;
	char error[MAILGRANT_ERROR_MAX];
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

