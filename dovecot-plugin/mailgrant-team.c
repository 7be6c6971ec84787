/* mailgrant-team.c -- team (shared) mailboxes in Dovecot (issue 17), translating the
 * core's answers (core/team_mailbox.h); nothing is decided here.
 *
 *  - Top-level folders. Dovecot's ACL plugin checks CREATE (k) on a new folder's parent,
 *    and a top-level folder's parent is the namespace root (acl_object_init_from_parent
 *    -> vfile: acl_backend_get_default_object(), name ""). mailgrant-rights.c adds the
 *    core's root rights there (mailgrant_team_root_letters). A CREATE of a top-level
 *    folder, allowed or refused, is logged here with the core's reason.
 *  - Special-use folders. When a member first lists, or has opened, a folder of a shared
 *    mailbox in this session, the core says whether it is a team mailbox and which
 *    folders it must have; missing ones are created in the owner's storage with
 *    MAILBOX_FLAG_IGNORE_ACLS (the ACL plugin leaves such a mailbox unchecked: the member's
 *    own rights do not matter for this internal create only). Failure is logged, never
 *    passed on to the member's command.
 *  - SPECIAL-USE in LIST. Stock Dovecot takes the flags from mailbox { special_use }
 *    settings of the namespace (mailbox_list_iter_next_call), which a shared namespace
 *    does not have for its owners' folders: iter_next adds them to the mailbox_info when
 *    the client asked for them (LIST (SPECIAL-USE), RETURN (SPECIAL-USE), plain LIST).
 *    This list's iter_next runs below the ACL plugin's, which then drops what the member
 *    may not see, so only visible folders are ever flagged. Same API on 2.3 and 2.4
 *    (mailbox_info.special_use, mailbox_list_iterate_context.specialuse_info).
 *
 * The mailbox vfuncs open and create_box are wrapped at the OUTSIDE (box->v itself, not
 * the vlast chain): hooks of modules loaded after lib01_acl sit inside the ACL plugin's,
 * and a refused CREATE never reaches them, nor does the ACL plugin's copying of the
 * parent's ACL entries, which runs after the inner create returned.
 */
#include "lib.h"
#include "array.h"
#include "str.h"
#include "mail-user.h"
#include "mail-namespace.h"
#include "mail-storage-private.h"
#include "mailbox-list-private.h"
#include "acl-api-private.h"

#include "mailgrant-plugin.h"

struct mailgrant_mailbox {
	union mailbox_module_context module_ctx;
	/* the outermost vfuncs as they were before ours (the ACL plugin's, where it checks) */
	struct mailbox_vfuncs outer;
};

#define MAILGRANT_BOX_CONTEXT(obj) MODULE_CONTEXT(obj, mailgrant_storage_module)
static MODULE_CONTEXT_DEFINE_INIT(mailgrant_storage_module, &mail_storage_module_register);

/* The person working the mailbox (the ACL user), NULL when not known. */
static const char *mailgrant_team_user(struct mailgrant_mailbox_list *mlist)
{
	return mlist->backend == NULL ? NULL : acl_backend_get_acl_username(mlist->backend);
}

const char *mailgrant_team_root_letters(struct mailgrant_mailbox_list *mlist, struct mailbox_list *list,
					const char *user)
{
	struct mailgrant_core *core = mailgrant_user_core(list->ns->user);
	char letters[MAILGRANT_LETTERS_MAX], message[MAILGRANT_ERROR_MAX];
	int ret;

	if (core == NULL)
		return ""; /* no configuration: grants nothing (already logged) */
	ret = mailgrant_core_root_rights(core, user, mlist->owner, letters, sizeof(letters),
					 message, sizeof(message));
	if (ret < 0) {
		mailgrant_log_failure(ret, t_strdup_printf("rights of %s on the top level of %s",
							   user, mlist->owner), message);
		return ""; /* fail safe */
	}
	return t_strdup(letters);
}

/* ---- special-use folders ---- */

struct mailgrant_team_collect {
	struct mailbox_list *list;
	struct mailgrant_mailbox_list *mlist;
};

/* A folder name of the mailbox ('/'-separated, as grants spell it) as this namespace's
   vname. */
static const char *mailgrant_team_vname(struct mail_namespace *ns, const char *name)
{
	string_t *str = t_str_new(128);
	char sep = mail_namespace_get_sep(ns);

	str_append(str, ns->prefix);
	for (; *name != '\0'; name++)
		str_append_c(str, *name == '/' ? sep : *name);
	return str_c(str);
}

static void mailgrant_team_collect_folder(void *context, const char *name, const char *special_use)
{
	struct mailgrant_team_collect *collect = context;
	struct mailgrant_team_folder *folder = array_append_space(&collect->mlist->team_folders);
	pool_t pool = collect->list->pool;

	folder->name = p_strdup(pool, name);
	folder->vname = p_strdup(pool, mailgrant_team_vname(collect->list->ns, name));
	folder->special_use = p_strdup(pool, special_use);
}

static void mailgrant_team_create_missing(struct mailbox_list *list, struct mailgrant_mailbox_list *mlist,
					  const char *user)
{
	const struct mailgrant_team_folder *folder;
	string_t *created = t_str_new(64);
	enum mailbox_existence existence;
	struct mailbox *box;

	array_foreach(&mlist->team_folders, folder) {
		box = mailbox_alloc(list, folder->vname, MAILBOX_FLAG_IGNORE_ACLS);
		if (mailbox_exists(box, FALSE, &existence) < 0) {
			i_error("mailgrant: team mailbox %s: cannot look for %s: %s", mlist->owner,
				folder->name, mailbox_get_last_internal_error(box, NULL));
		} else if (existence == MAILBOX_EXISTENCE_NONE) {
			if (mailbox_create(box, NULL, FALSE) == 0) {
				if (str_len(created) > 0)
					str_append(created, ", ");
				str_append(created, folder->name);
			} else if (mailbox_get_last_mail_error(box) != MAIL_ERROR_EXISTS) {
				/* another session made it meanwhile: nothing to say */
				i_error("mailgrant: team mailbox %s: cannot create %s (for %s): %s",
					mlist->owner, folder->name, user,
					mailbox_get_last_internal_error(box, NULL));
			}
		}
		mailbox_free(&box);
	}
	if (str_len(created) > 0) {
		i_info("mailgrant: created special-use folders %s in team mailbox %s "
		       "(first opened by %s)", str_c(created), mlist->owner, user);
	}
}

/* Once per mailbox list (session and shared mailbox): is this a team mailbox, and are
   its special-use folders there? An error leaves the question open for the next
   listing or open (the breaker keeps that cheap, the log rate-limited). */
static void mailgrant_team_prepare(struct mailbox_list *list)
{
	struct mailgrant_mailbox_list *mlist = MAILGRANT_LIST_CONTEXT(list);
	struct mailgrant_team_collect collect;
	struct mailgrant_core *core;
	const char *user;
	char message[MAILGRANT_ERROR_MAX];
	int ret;

	if (mlist == NULL || mlist->owner == NULL || mlist->team_state != MAILGRANT_TEAM_UNKNOWN)
		return;
	/* decided before anything is created: creating opens folders of this list */
	mlist->team_state = MAILGRANT_TEAM_NO;
	user = mailgrant_team_user(mlist);
	core = mailgrant_user_core(list->ns->user);
	if (user == NULL || core == NULL)
		return;
	if (!array_is_created(&mlist->team_folders))
		p_array_init(&mlist->team_folders, list->pool, 4);
	array_clear(&mlist->team_folders);
	collect.list = list;
	collect.mlist = mlist;
	T_BEGIN {
		ret = mailgrant_core_team_folders(core, user, mlist->owner, mailgrant_team_collect_folder,
						  &collect, message, sizeof(message));
		if (ret < 0) {
			mailgrant_log_failure(ret, t_strdup_printf("team folders of %s for %s",
								   mlist->owner, user), message);
			array_clear(&mlist->team_folders);
			mlist->team_state = MAILGRANT_TEAM_UNKNOWN;
		} else if (ret > 0) {
			mlist->team_state = MAILGRANT_TEAM_YES;
			mailgrant_team_create_missing(list, mlist, user);
		}
	} T_END;
}

struct mailbox_list_iterate_context *
mailgrant_team_iter_init(struct mailbox_list *list, const char *const *patterns,
			 enum mailbox_list_iter_flags flags)
{
	struct mailgrant_mailbox_list *mlist = MAILGRANT_LIST_CONTEXT(list);

	i_assert(mlist != NULL);
	/* RAW_LIST: Dovecot's own bookkeeping, not a member looking at the mailbox */
	if ((flags & MAILBOX_LIST_ITER_RAW_LIST) == 0) {
		mailgrant_team_prepare(list);
		/* a LIST starting on the user's own folders asks for the namespace ahead */
		mailgrant_imap_list_iter_init(list, patterns);
	}
	return mlist->module_ctx.super.iter_init(list, patterns, flags);
}

const struct mailbox_info *mailgrant_team_iter_next(struct mailbox_list_iterate_context *ctx)
{
	struct mailgrant_mailbox_list *mlist = MAILGRANT_LIST_CONTEXT(ctx->list);
	const struct mailgrant_team_folder *folder;
	const struct mailbox_info *info;

	i_assert(mlist != NULL);
	info = mlist->module_ctx.super.iter_next(ctx);
	if (info == NULL || mlist->team_state != MAILGRANT_TEAM_YES ||
	    (ctx->flags & MAILBOX_LIST_ITER_RETURN_SPECIALUSE) == 0 || info->special_use != NULL)
		return info;
	array_foreach(&mlist->team_folders, folder) {
		if (strcmp(folder->vname, info->vname) == 0) {
			/* the context's own slot for "this info with special_use added" */
			ctx->specialuse_info = *info;
			ctx->specialuse_info.special_use = folder->special_use;
			return &ctx->specialuse_info;
		}
	}
	return info;
}

/* ---- mailbox vfuncs ---- */

/* After the member's own open succeeded (its rights were asked first, and their failure
   is what the log reports while LDAP is down). */
static int mailgrant_team_open(struct mailbox *box)
{
	struct mailgrant_mailbox *mbox = MAILGRANT_BOX_CONTEXT(box);

	if (mbox->outer.open(box) < 0)
		return -1;
	if ((box->flags & MAILBOX_FLAG_IGNORE_ACLS) == 0)
		mailgrant_team_prepare(box->list);
	return 0;
}

static void mailgrant_team_log_top_level(struct mailgrant_mailbox_list *mlist, struct mailbox *box,
					 const char *folder, bool created)
{
	struct mailgrant_core *core = mailgrant_user_core(box->list->ns->user);
	const char *user = mailgrant_team_user(mlist), *why;
	char letters[MAILGRANT_LETTERS_MAX], message[MAILGRANT_ERROR_MAX];

	if (user == NULL)
		return;
	if (core == NULL)
		why = "mailgrant configuration not loaded";
	else if (mailgrant_core_root_rights(core, user, mlist->owner, letters, sizeof(letters),
					    message, sizeof(message)) < 0)
		why = t_strdup_printf("rights unavailable: %s", message);
	else
		why = message;
	if (created)
		i_info("mailgrant: %s created top-level folder %s in %s: %s", user, folder, mlist->owner, why);
	else
		i_info("mailgrant: refused CREATE of top-level folder %s in %s by %s: %s", folder,
		       mlist->owner, user, why);
}

static int mailgrant_team_create_box(struct mailbox *box, const struct mailbox_update *update,
				     bool directory)
{
	struct mailgrant_mailbox *mbox = MAILGRANT_BOX_CONTEXT(box);
	struct mailgrant_mailbox_list *mlist = MAILGRANT_LIST_CONTEXT(box->list);
	const char *folder = NULL;
	int ret;

	if (mlist->owner != NULL && (box->flags & MAILBOX_FLAG_IGNORE_ACLS) == 0 &&
	    !mailbox_is_autocreated(box)) {
		folder = mailgrant_folder_of(box->list, box->name);
		if (strcmp(folder, "INBOX") == 0 ||
		    strchr(folder, mail_namespace_get_sep(box->list->ns)) != NULL)
			folder = NULL; /* not at the top level: the parent's own rights decide */
	}
	mlist->creating++;
	ret = mbox->outer.create_box(box, update, directory);
	mlist->creating--;
	if (folder != NULL && (ret == 0 || mailbox_get_last_mail_error(box) == MAIL_ERROR_PERM)) T_BEGIN {
		mailgrant_team_log_top_level(mlist, box, folder, ret == 0);
	} T_END;
	return ret;
}

void mailgrant_team_mailbox_allocated(struct mailbox *box)
{
	struct mailgrant_mailbox_list *mlist = MAILGRANT_LIST_CONTEXT(box->list);
	struct mailgrant_mailbox *mbox;

	if (mlist == NULL)
		return;
	/* every folder, the user's own too: the creating count (mailgrant-acl-cmd.c) keeps
	   the ACL plugin's copying of a parent's entries from becoming LDAP writes */
	mbox = p_new(box->pool, struct mailgrant_mailbox, 1);
	mbox->outer = box->v;
	box->v.open = mailgrant_team_open;
	box->v.create_box = mailgrant_team_create_box;
	MODULE_CONTEXT_SET(box, mailgrant_storage_module, mbox);
}
