/* mailgrant-imap.c -- the imap process's own hooks: the reason for a refused
 * SETACL/DELETEACL reaches the IMAP client, and the end of every command (its tagged
 * reply) ends the namespace answer pinned for it (wire_core.h, mgw_core_pin_per_command).
 *
 * 2.3: imap_acl answers every failed acl_object_update with the fixed text
 * MAIL_ERRSTR_CRITICAL_MSG ("NO Internal error occurred...", cmd_acl_mailbox_update),
 * and acl_mailbox_update_acl replaces the storage error with mailbox_set_critical, so
 * no storage error set by an ACL backend ever reaches the client. The write-through
 * (mailgrant-acl-cmd.c) therefore leaves its answer here, and the imap client's
 * send_tagline vfunc (struct imap_client_vfuncs, 2.3) puts it in place of that generic text
 * for the SETACL/DELETEACL it belongs to.
 *
 * 2.4.1 is the same (imap-acl-plugin.c cmd_acl_mailbox_update still answers
 * MAIL_ERRSTR_CRITICAL_MSG; imap_client_created_hook_set and send_tagline unchanged),
 * so this file serves both versions unchanged.
 *
 * LIST asks the service for the user's namespace ahead: Dovecot lists the user's own
 * folders first and reaches the shared namespace, whose sharing dict reads that answer
 * (mailgrant-dict.c), only then -- so the service works while Dovecot lists, instead of
 * the imap process waiting for it afterwards (bench/imap_bench.py (b)). A command
 * pre-hook (command_hook_register, exported by the imap binary in 2.3 and 2.4) marks the
 * LIST; the first listing it starts (mailgrant-team.c's iter_init: the user's own
 * folders) asks, when its patterns reach a shared namespace, so the delimiter query
 * (LIST "" "") asks nothing. The command's end closes an answer left unread; a debug
 * line (log_debug = category=mailgrant) says which it was.
 *
 * This module is loaded by every mail process (imap, lmtp, doveadm, ...). Only the imap
 * binary exports imap_client_created_hook_set: it is looked up at load time, so the
 * same module needs no separate imap_* plugin in the drop-in. Without it (any other
 * process) mailgrant_imap_active() is FALSE and nothing here runs.
 */
#include <dlfcn.h>

#include "lib.h"
#include "imap-common.h"
#include "imap-client.h"

#include "imap-commands.h"
#include "imap-match.h"
#include "mail-namespace.h"

#include "mailgrant-plugin.h"

typedef imap_client_created_func_t *mailgrant_hook_set_func_t(imap_client_created_func_t *new_hook);
typedef void mailgrant_command_hooks_func_t(command_hook_callback_t *pre, command_hook_callback_t *post);

static mailgrant_hook_set_func_t *mailgrant_hook_set;
static imap_client_created_func_t *mailgrant_next_client_created;
static void (*mailgrant_prev_send_tagline)(struct client_command_context *cmd, const char *data);
/* "[RESP-CODE] text" for the next tagged NO of the current SETACL/DELETEACL */
static char *mailgrant_pending_reply;
static mailgrant_command_hooks_func_t *mailgrant_hook_unregister;
/* log_debug = category=mailgrant shows the asking-ahead lines */
static struct event_category mailgrant_event_category = { .name = "mailgrant" };
/* the LIST running, its user, how far it came with asking ahead, and the core's counts
   before it. Both pointers are only compared, never followed: a client that disconnects
   mid-LIST frees them without a tagged reply. */
static struct client_command_context *mailgrant_list_cmd;
static struct mail_user *mailgrant_list_user;
static enum {
	MAILGRANT_LIST_NONE = 0,
	MAILGRANT_LIST_STARTED, /* its pre-hook ran */
	MAILGRANT_LIST_TRIED,   /* its first listing began (asked or not) */
	MAILGRANT_LIST_ASKED,   /* ... and asked ahead */
} mailgrant_list_state;
static unsigned long mailgrant_ahead_used, mailgrant_ahead_dropped;

static bool mailgrant_is_acl_write(const struct client_command_context *cmd)
{
	return cmd->name != NULL &&
		(strcasecmp(cmd->name, "SETACL") == 0 || strcasecmp(cmd->name, "DELETEACL") == 0);
}

static void mailgrant_command_pre(struct client_command_context *cmd)
{
	/* the pre-hook runs each time a long LIST resumes: only its first run starts one */
	if (cmd == mailgrant_list_cmd || cmd->name == NULL || strcasecmp(cmd->name, "LIST") != 0)
		return;
	mailgrant_list_cmd = cmd;
	mailgrant_list_user = cmd->client->user;
	mailgrant_list_state = MAILGRANT_LIST_STARTED;
}

static void mailgrant_command_post(struct client_command_context *cmd ATTR_UNUSED)
{
}

/* Would Dovecot's LIST with `patterns` go into a shared namespace of `user`? The test
   Dovecot's ns_match_next() makes: the prefix without its separator matched as a mailbox
   name (INBOX case-insensitive), YES or CHILDREN; a namespace with list = no only for a
   pattern that names its prefix. */
static bool mailgrant_patterns_reach_shared(struct mail_user *user, const char *const *patterns)
{
	struct mail_namespace *ns;
	const char *const *pattern;

	for (ns = user->namespaces; ns != NULL; ns = ns->next) {
		char sep = mail_namespace_get_sep(ns);
		size_t len = ns->prefix_len;
		const char *prefix;
		bool listable = (ns->flags & (NAMESPACE_FLAG_LIST_PREFIX | NAMESPACE_FLAG_LIST_CHILDREN)) != 0;

		if (ns->type != MAIL_NAMESPACE_TYPE_SHARED || (ns->flags & NAMESPACE_FLAG_AUTOCREATED) != 0 ||
		    len == 0)
			continue;
		if (ns->prefix[len - 1] == sep)
			len--;
		prefix = t_strndup(ns->prefix, len);
		for (pattern = patterns; *pattern != NULL; pattern++) {
			struct imap_match_glob *glob;
			if (!listable && strncmp(ns->prefix, *pattern, ns->prefix_len) != 0)
				continue;
			glob = imap_match_init(pool_datastack_create(), *pattern, TRUE, sep);
			if ((imap_match(glob, prefix) & (IMAP_MATCH_YES | IMAP_MATCH_CHILDREN)) != 0)
				return TRUE;
		}
	}
	return FALSE;
}

void mailgrant_imap_list_iter_init(struct mailbox_list *list, const char *const *patterns)
{
	struct mail_user *user = list->ns->user;
	struct mailgrant_core *core;

	/* the LIST's own user (another client of this process may be listing too) */
	if (mailgrant_list_state != MAILGRANT_LIST_STARTED || list->ns->type == MAIL_NAMESPACE_TYPE_SHARED ||
	    user != mailgrant_list_user)
		return;
	mailgrant_list_state = MAILGRANT_LIST_TRIED; /* once per LIST, whatever comes of it */
	T_BEGIN {
		/* the core the sharing dict will ask (the user's configuration); a LIST that
		   reaches the shared namespace opens it anyway */
		if (mailgrant_patterns_reach_shared(user, patterns) &&
		    (core = mailgrant_user_core(user)) != NULL) {
			mailgrant_core_ahead_counts(core, &mailgrant_ahead_used, &mailgrant_ahead_dropped);
			mailgrant_core_namespace_ahead(core, user->username);
			mailgrant_list_state = MAILGRANT_LIST_ASKED;
		}
	} T_END;
}

/* The LIST is over: say whether the answer asked ahead was read. */
static void mailgrant_list_done(struct client_command_context *cmd)
{
	struct mailgrant_core *core;
	struct event *event;
	unsigned long used, dropped;
	bool asked = mailgrant_list_state == MAILGRANT_LIST_ASKED;

	if (cmd != mailgrant_list_cmd)
		return;
	mailgrant_list_cmd = NULL;
	mailgrant_list_user = NULL;
	mailgrant_list_state = MAILGRANT_LIST_NONE;
	/* the core already open (never one opened for a debug line) */
	if (!asked || (core = mailgrant_open_core()) == NULL)
		return;
	mailgrant_core_ahead_counts(core, &used, &dropped);
	event = event_create(cmd->event);
	event_add_category(event, &mailgrant_event_category);
	if (used > mailgrant_ahead_used)
		e_debug(event, "mailgrant: LIST read the namespace of %s asked ahead",
			cmd->client->user->username);
	else if (dropped > mailgrant_ahead_dropped)
		e_debug(event, "mailgrant: LIST did not need the namespace of %s asked ahead",
			cmd->client->user->username);
	event_unref(&event);
}

static void mailgrant_send_tagline(struct client_command_context *cmd, const char *data)
{
	/* the command is over: the next one asks the service again (a revocation is obeyed
	   by the next command, however long this one used one namespace answer) */
	mailgrant_command_done();
	mailgrant_list_done(cmd);
	if (mailgrant_pending_reply != NULL && mailgrant_is_acl_write(cmd)) {
		if (strncmp(data, "NO ", 3) == 0)
			data = t_strdup_printf("NO %s", mailgrant_pending_reply);
		i_free(mailgrant_pending_reply);
	}
	mailgrant_prev_send_tagline(cmd, data);
}

static void mailgrant_imap_client_created(struct client **client)
{
	struct imap_client_vfuncs *v = &(*client)->v;

	/* one client per imap process by default; with more, every client starts from
	   the same default vfunc, anything else is left alone */
	if (mailgrant_prev_send_tagline == NULL)
		mailgrant_prev_send_tagline = v->send_tagline;
	if (v->send_tagline == mailgrant_prev_send_tagline)
		v->send_tagline = mailgrant_send_tagline;
	if (mailgrant_next_client_created != NULL)
		mailgrant_next_client_created(client);
}

void mailgrant_imap_init(void)
{
	mailgrant_command_hooks_func_t *hook_register;

	/* 2.3: imap_client_created_hook_set(), exported by the imap binary only */
	mailgrant_hook_set = (mailgrant_hook_set_func_t *)dlsym(RTLD_DEFAULT, "imap_client_created_hook_set");
	if (mailgrant_hook_set == NULL)
		return;
	mailgrant_next_client_created = mailgrant_hook_set(mailgrant_imap_client_created);
	/* the LIST pre-hook (asking ahead), exported by the imap binary as well */
	hook_register = (mailgrant_command_hooks_func_t *)dlsym(RTLD_DEFAULT, "command_hook_register");
	mailgrant_hook_unregister = (mailgrant_command_hooks_func_t *)dlsym(RTLD_DEFAULT, "command_hook_unregister");
	if (hook_register != NULL && mailgrant_hook_unregister != NULL)
		hook_register(mailgrant_command_pre, mailgrant_command_post);
	else
		mailgrant_hook_unregister = NULL;
}

void mailgrant_imap_deinit(void)
{
	if (mailgrant_hook_set != NULL)
		(void)mailgrant_hook_set(mailgrant_next_client_created);
	mailgrant_hook_set = NULL;
	if (mailgrant_hook_unregister != NULL)
		mailgrant_hook_unregister(mailgrant_command_pre, mailgrant_command_post);
	mailgrant_hook_unregister = NULL;
	mailgrant_list_cmd = NULL;
	mailgrant_list_user = NULL;
	mailgrant_list_state = MAILGRANT_LIST_NONE;
	i_free(mailgrant_pending_reply);
}

bool mailgrant_imap_active(void)
{
	return mailgrant_hook_set != NULL;
}

void mailgrant_imap_set_reply(const char *resp_code, const char *text)
{
	char *p;

	i_free(mailgrant_pending_reply);
	if (resp_code == NULL)
		return;
	mailgrant_pending_reply = i_strdup_printf("[%s] %s", resp_code, text);
	for (p = mailgrant_pending_reply; *p != '\0'; p++) {
		if (*p == '\r' || *p == '\n')
			*p = ' '; /* one response line */
	}
}
