/* mailgrant-rights.c -- LDAP rights in Dovecot's ACL cache (chained after the ACL
 * backend's vfuncs by mailgrant-list.c, the way mail-crypt-acl-plugin extends the ACL
 * plugin in 2.3):
 *  - object_refresh_cache: after vfile has rebuilt its cache, the LDAP rights of
 *    acl_user on this folder are ADDed to the cached "my rights" (so MYRIGHTS, SELECT,
 *    LIST and every mailbox operation obey them). When rights must shrink, the cache is
 *    first rebuilt from vfile's own entries. A refresh whose answer is the one the cache
 *    already holds changes nothing (struct mailgrant_applied). The namespace root (name "") gets the
 *    core's rights on the mailbox's top level instead (mailgrant-team.c).
 *  - nonowner_lookups_iter_init/next/deinit: for views of another user's mailbox, an
 *    empty iteration that reports failure, so LIST does not use vfile's acllist fast
 *    path (which knows nothing of LDAP) and checks each folder's rights instead. vfile
 *    is not asked at all: each rebuild of an owner's dovecot-acl-list (once per owner,
 *    on the first rights check) rebuilds the sharing dict, which iterates this user's
 *    every shared namespace -- through vfile, that read every other owner's list too,
 *    N^2 reads for N owners: a user with 1,000 sharers waited 18 s for their first LIST
 *    (4 s now, as stock Dovecot; bench/imap_bench.py (b), "the user's first LIST").
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

/* The core's letters as Dovecot's right names; the ACL plugin's own parser, so both
   read letters alike. The core only produces letters Dovecot knows. */
const char *const *mailgrant_letters_to_names(pool_t pool, const char *letters)
{
	const char *const *names, *error;

	names = acl_right_names_parse(pool, letters, &error);
	if (names == NULL) {
		i_error("mailgrant: rights '%s' from the core: %s", letters, error);
		names = p_new(pool, const char *, 1);
	}
	return names;
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
const char *mailgrant_folder_of(struct mailbox_list *list, const char *objname)
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

/* objname's record in this list, made (with its folder name) on first use. */
static struct mailgrant_applied *mailgrant_applied_get(struct mailgrant_mailbox_list *mlist,
						       struct mailbox_list *list, const char *objname)
{
	struct mailgrant_applied *rec = hash_table_lookup(mlist->applied, objname);

	if (rec == NULL) {
		rec = p_new(list->pool, struct mailgrant_applied, 1);
		rec->folder = p_strdup(list->pool, mailgrant_folder_of(list, objname));
		hash_table_insert(mlist->applied, p_strdup(list->pool, objname), rec);
	}
	return rec;
}

/* Does the cache's "my rights" of this object still hold every right last added? vfile
   rebuilds the entry from its files when they change (and after a flush), which drops
   ours; a bit test per right tells, where re-adding them would parse the letters and
   update the cache on every refresh. */
static bool mailgrant_rights_still_cached(struct acl_object *aclobj, const struct mailgrant_applied *rec)
{
	const struct acl_mask *mask = acl_cache_get_my_rights(aclobj->backend->cache, aclobj->name);
	unsigned int i;

	if (mask == NULL)
		return FALSE;
	for (i = 0; i < rec->right_count; i++) {
		if (!acl_cache_mask_isset(mask, rec->right_idx[i]))
			return FALSE;
	}
	return TRUE;
}

static void mailgrant_apply_rights(struct acl_object *aclobj, struct mailgrant_applied *rec,
				   const char *letters)
{
	struct acl_backend *backend = aclobj->backend;
	struct acl_rights_update ru;
	const char *const *names;
	unsigned int i;

	if (strcmp(rec->letters, letters) == 0 &&
	    (*letters == '\0' || mailgrant_rights_still_cached(aclobj, rec)))
		return; /* nothing new, nothing lost */
	if (!mailgrant_letters_subset(rec->letters, letters)) {
		/* rights were revoked: start again from vfile's own entries */
		acl_object_rebuild_cache(aclobj);
	}
	rec->right_count = 0;
	if (*letters != '\0') {
		/* vfile leaves a negative entry when nothing matched: it cannot be
		   updated, so drop it (vfile re-reads its files next time). */
		if (acl_cache_get_my_rights(backend->cache, aclobj->name) == NULL &&
		    acl_cache_get_validity(backend->cache, aclobj->name) != NULL)
			acl_cache_flush(backend->cache, aclobj->name);
		names = mailgrant_letters_to_names(pool_datastack_create(), letters);
		i_zero(&ru);
		ru.modify_mode = ACL_MODIFY_MODE_ADD;
		ru.neg_modify_mode = ACL_MODIFY_MODE_REMOVE; /* with NULL neg_rights: no change */
		ru.rights.id_type = ACL_ID_USER;
		ru.rights.identifier = acl_backend_get_acl_username(backend);
		ru.rights.rights = names;
		acl_cache_update(backend->cache, aclobj->name, &ru);
		for (i = 0; i < N_ELEMENTS(rec->right_idx) && names[i] != NULL; i++)
			rec->right_idx[i] = acl_cache_right_lookup(backend->cache, names[i]);
		rec->right_count = i;
	}
	i_strocpy(rec->letters, letters, sizeof(rec->letters));
}

int mailgrant_object_refresh_cache(struct acl_object *aclobj)
{
	struct mailbox_list *list = aclobj->backend->list;
	struct mailgrant_mailbox_list *mlist = MAILGRANT_LIST_CONTEXT(list);
	struct mailgrant_applied *rec;
	struct mailgrant_core *core;
	const char *user;
	char letters[MAILGRANT_LETTERS_MAX], error[MAILGRANT_ERROR_MAX];
	int ret, ret2;

	i_assert(mlist != NULL);
	ret = mlist->acl_vprev.object_refresh_cache(aclobj);
	if (ret < 0 || mlist->owner == NULL || acl_backend_user_is_owner(aclobj->backend))
		return ret;

	user = acl_backend_get_acl_username(aclobj->backend);
	if (user == NULL)
		return ret;
	T_BEGIN {
		rec = mailgrant_applied_get(mlist, list, aclobj->name);
		core = mailgrant_user_core(list->ns->user);
		if (*aclobj->name == '\0') {
			/* the namespace root: the parent of top-level folders (mailgrant-team.c) */
			i_strocpy(letters, mailgrant_team_root_letters(mlist, list, user), sizeof(letters));
		} else if (core == NULL) {
			letters[0] = '\0'; /* no configuration: grants nothing (already logged) */
		} else if ((ret2 = mailgrant_core_folder_rights(core, user, mlist->owner, rec->folder,
								letters, sizeof(letters),
								error, sizeof(error))) < 0) {
			mailgrant_log_failure(ret2, t_strdup_printf("rights of %s on %s of %s", user,
								    rec->folder, mlist->owner), error);
			letters[0] = '\0'; /* fail safe: LDAP trouble grants nothing */
		}
		mailgrant_apply_rights(aclobj, rec, letters);
	} T_END;
	return ret;
}

struct acl_mailbox_list_context *mailgrant_nonowner_lookups_iter_init(struct acl_backend *backend)
{
	struct mailgrant_mailbox_list *mlist = MAILGRANT_LIST_CONTEXT(backend->list);
	struct acl_mailbox_list_context *ctx;

	i_assert(mlist != NULL);
	if (mlist->owner == NULL)
		return mlist->acl_vprev.nonowner_lookups_iter_init(backend);
	ctx = i_new(struct acl_mailbox_list_context, 1);
	ctx->backend = backend;
	ctx->failed = TRUE;
	return ctx;
}

bool mailgrant_nonowner_lookups_iter_next(struct acl_mailbox_list_context *ctx, const char **name_r)
{
	struct mailgrant_mailbox_list *mlist = MAILGRANT_LIST_CONTEXT(ctx->backend->list);

	i_assert(mlist != NULL);
	if (mlist->owner == NULL)
		return mlist->acl_vprev.nonowner_lookups_iter_next(ctx, name_r);
	return FALSE;
}

int mailgrant_nonowner_lookups_iter_deinit(struct acl_mailbox_list_context *ctx)
{
	struct mailgrant_mailbox_list *mlist = MAILGRANT_LIST_CONTEXT(ctx->backend->list);

	i_assert(mlist != NULL);
	if (mlist->owner == NULL)
		return mlist->acl_vprev.nonowner_lookups_iter_deinit(ctx);
	/* ours (iter_init above): fail, so LIST checks every folder of this owner */
	i_free(ctx);
	return -1;
}
