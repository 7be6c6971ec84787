/* mailgrant-acl-cmd.c -- IMAP ACL commands (RFC 4314) next to LDAP grants: GETACL
 * lists the grants' grantees (from the core's Decider::grantees_of) after the local
 * entries; SETACL/DELETEACL in the imap process are written through to LDAP grants
 * (core: SelfService) and never to the local ACL file, so no share made from a client
 * lives outside LDAP. Elsewhere (doveadm acl) local entries are still written, except
 * for an identifier whose access on the folder comes from LDAP.
 *
 * 2.3: the backend's object_update vfunc is reached through imap_acl's cmd_setacl /
 * cmd_deleteacl -> acl_mailbox_update_acl -> acl_object_update, i.e. only after
 * imap_acl opened the folder and acl_mailbox_right_lookup(ACL_STORAGE_RIGHT_ADMIN)
 * said the actor holds the `a` right (the ACL check the write-through relies on).
 * 2.4.1: the same path (imap_acl_cmd_setacl -> acl_mailbox_open_as_admin ->
 * cmd_acl_mailbox_update -> acl_mailbox_update_acl).
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
	/* while a folder is created, the ACL plugin lists its parent's entries to copy
	   them: LDAP's are not copies but follow the grants' patterns */
	if (iter->failed || owner == NULL || *aclobj->name == '\0' || mlist->creating > 0)
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

/* Outside the imap process (doveadm acl): SETACL/DELETEACL for an identifier whose
   rights on this folder come from LDAP would only change the local half of its rights
   (the LDAP half is added on every refresh), so "remove bob" would silently leave bob
   in. Refuse those; other identifiers get local entries as without the plugin. */
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

static int mailgrant_object_update_local(struct mailgrant_mailbox_list *mlist, const char *owner,
					 struct acl_object *aclobj,
					 const struct acl_rights_update *update)
{
	struct mailbox_list *list = aclobj->backend->list;
	struct mailgrant_managed_check check;
	struct mailgrant_core *core;
	char error[MAILGRANT_ERROR_MAX];
	int ret = 0;

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
			mailgrant_log_failure(ret2, t_strdup_printf("ACL update on %s of %s", folder, owner),
					      error);
			ret = -1;
		} else if (check.managed) {
			i_info("mailgrant: refused ACL update for %s on %s of %s: "
			       "its access is managed in LDAP (change the mailGrant entry below %s)",
			       check.identifier, folder, owner, owner);
			ret = -1;
		}
	} T_END;
	return ret < 0 ? -1 : mlist->acl_vprev.object_update(aclobj, update);
}

/* Dovecot's right names (acl-api.h) as RFC 4314 letters; imap_acl has already expanded
   the obsolete c and d. */
static const struct {
	const char *name;
	char letter;
} mailgrant_right_letters[] = {
	{ MAIL_ACL_LOOKUP, 'l' }, { MAIL_ACL_READ, 'r' }, { MAIL_ACL_WRITE_SEEN, 's' },
	{ MAIL_ACL_WRITE, 'w' }, { MAIL_ACL_INSERT, 'i' }, { MAIL_ACL_POST, 'p' },
	{ MAIL_ACL_CREATE, 'k' }, { MAIL_ACL_DELETE, 'x' }, { MAIL_ACL_WRITE_DELETED, 't' },
	{ MAIL_ACL_EXPUNGE, 'e' }, { MAIL_ACL_ADMIN, 'a' },
};

/* Letters of `names` in canonical order ("" for none); NULL + *bad_r for a right name
   that has no letter (a Dovecot extension). */
static const char *mailgrant_names_to_letters(const char *const *names, const char **bad_r)
{
	string_t *str = t_str_new(MAILGRANT_LETTERS_MAX);
	unsigned int i, j;

	for (j = 0; names != NULL && names[j] != NULL; j++) {
		for (i = 0; i < N_ELEMENTS(mailgrant_right_letters); i++) {
			if (strcmp(names[j], mailgrant_right_letters[i].name) == 0)
				break;
		}
		if (i == N_ELEMENTS(mailgrant_right_letters)) {
			*bad_r = names[j];
			return NULL;
		}
	}
	for (i = 0; i < N_ELEMENTS(mailgrant_right_letters); i++) {
		for (j = 0; names != NULL && names[j] != NULL; j++) {
			if (strcmp(names[j], mailgrant_right_letters[i].name) == 0) {
				str_append_c(str, mailgrant_right_letters[i].letter);
				break;
			}
		}
	}
	return str_c(str);
}

/* The RFC 4314 identifier for the core: address/login, "$group", anyone,
   authenticated (the core refuses those two); NULL for what LDAP grants cannot hold. */
static const char *mailgrant_update_identifier(const struct acl_rights *rights)
{
	switch (rights->id_type) {
	case ACL_ID_USER:
		return rights->identifier;
	case ACL_ID_GROUP:
		return t_strconcat("$", rights->identifier, NULL);
	case ACL_ID_ANYONE:
		return "anyone";
	case ACL_ID_AUTHENTICATED:
		return "authenticated";
	default:
		return NULL; /* owner, !$group overrides */
	}
}

/* A refusal decided here, before the core: to the client (with its reason) and log. */
static int mailgrant_refuse(struct mailbox_list *list, const char *resp_code,
			    enum mail_error error, const char *what, const char *reason)
{
	i_info("mailgrant: refused %s: %s", what, reason);
	mailbox_list_set_error(list, error, reason);
	mailgrant_imap_set_reply(resp_code, reason);
	return -1;
}

/* SETACL/DELETEACL from an IMAP client, after imap_acl's admin check: written through
   to LDAP, never to the local ACL file. Returns 0 when LDAP has the change, -1 with
   the reason left for the client (mailgrant-imap.c) otherwise. */
static int mailgrant_object_update_ldap(const char *owner, struct acl_object *aclobj,
					const struct acl_rights_update *update)
{
	struct mailbox_list *list = aclobj->backend->list;
	struct mailgrant_core *core;
	const char *actor, *folder, *identifier, *letters, *rights, *bad = NULL, *what, *cmd;
	char error[MAILGRANT_ERROR_MAX];
	int remove = 0, ret;

	actor = acl_backend_get_acl_username(aclobj->backend);
	if (actor == NULL)
		actor = list->ns->user->username;
	folder = mailgrant_folder_of(list, aclobj->name);
	identifier = mailgrant_update_identifier(&update->rights);
	cmd = update->modify_mode == ACL_MODIFY_MODE_CLEAR ? "DELETEACL" : "SETACL";
	what = t_strdup_printf("%s by %s on %s of %s for %s", cmd, actor, folder, owner,
			       identifier != NULL ? identifier : acl_rights_get_id(&update->rights));

	if (identifier == NULL) {
		return mailgrant_refuse(list, "CANNOT", MAIL_ERROR_PARAMS, what,
			"sharing is kept in LDAP: only a person (address) or a group ($name) "
			"can be given access");
	}
	if (update->rights.neg_rights != NULL || update->neg_modify_mode == ACL_MODIFY_MODE_CLEAR) {
		return mailgrant_refuse(list, "CANNOT", MAIL_ERROR_PARAMS, what,
			"sharing is kept in LDAP: negative rights cannot be stored there");
	}
	letters = mailgrant_names_to_letters(update->rights.rights, &bad);
	if (letters == NULL) {
		return mailgrant_refuse(list, "CANNOT", MAIL_ERROR_PARAMS, what,
			t_strdup_printf("right '%s' cannot be stored in LDAP", bad));
	}
	switch (update->modify_mode) {
	case ACL_MODIFY_MODE_CLEAR:
		rights = "";
		remove = 1;
		break;
	case ACL_MODIFY_MODE_REPLACE:
		rights = letters;
		remove = *letters == '\0' ? 1 : 0; /* RFC 4314: SETACL x "" removes x */
		break;
	case ACL_MODIFY_MODE_ADD:
		rights = t_strconcat("+", letters, NULL);
		break;
	case ACL_MODIFY_MODE_REMOVE:
		rights = t_strconcat("-", letters, NULL);
		break;
	default:
		i_unreached();
	}
	if (!remove && update->modify_mode != ACL_MODIFY_MODE_REPLACE && *letters == '\0')
		return 0; /* "+" / "-" with no letters: nothing changes */

	core = mailgrant_user_core(list->ns->user);
	if (core == NULL) {
		/* no configuration (already logged): nothing can be written */
		mailbox_list_set_error(list, MAIL_ERROR_TEMP, "mailgrant configuration not loaded");
		mailgrant_imap_set_reply("UNAVAILABLE",
			"Sharing cannot be changed now (directory configuration unavailable)");
		return -1;
	}
	mailgrant_imap_set_reply(NULL, NULL);
	ret = mailgrant_core_change_acl(core, actor, owner, folder, identifier, rights, remove,
					error, sizeof(error));
	if (!remove)
		what = t_strdup_printf("%s rights %s", what, rights);
	switch (ret) {
	case 0:
		i_info("mailgrant: %s: %s", what, error);
		/* this process's own view (the actor may be a grantee) is asked again */
		acl_cache_flush(aclobj->backend->cache, aclobj->name);
		return 0;
	case MAILGRANT_CORE_REFUSED:
		return mailgrant_refuse(list, "NOPERM", MAIL_ERROR_PERM, what, error);
	case MAILGRANT_CORE_BAD_INPUT:
		return mailgrant_refuse(list, "CANNOT", MAIL_ERROR_PARAMS, what, error);
	default:
		/* LDAP trouble: logged every time (writes are rare and a person waits) */
		i_error("mailgrant: %s failed: %s", what, error);
		mailbox_list_set_error(list, MAIL_ERROR_TEMP, error);
		mailgrant_imap_set_reply("UNAVAILABLE",
			"Sharing cannot be changed now (directory unavailable), try again later");
		return -1;
	}
}

int mailgrant_object_update(struct acl_object *aclobj, const struct acl_rights_update *update)
{
	struct mailbox_list *list = aclobj->backend->list;
	struct mailgrant_mailbox_list *mlist = MAILGRANT_LIST_CONTEXT(list);
	const char *owner;
	int ret;

	i_assert(mlist != NULL);
	owner = mailgrant_acl_owner(mlist, list);
	/* Creating a folder: the ACL plugin copies the parent's local entries to it
	   (object_list_init leaves LDAP's out then). Not a SETACL by the person: written
	   locally, as without the plugin. */
	if (mlist->creating > 0)
		return mlist->acl_vprev.object_update(aclobj, update);
	/* public namespaces (no owner) and the namespace root are not LDAP mailboxes */
	if (!mailgrant_imap_active() || owner == NULL || *aclobj->name == '\0')
		return mailgrant_object_update_local(mlist, owner, aclobj, update);
	T_BEGIN {
		ret = mailgrant_object_update_ldap(owner, aclobj, update);
	} T_END;
	return ret;
}
