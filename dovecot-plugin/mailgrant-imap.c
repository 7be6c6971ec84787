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
 * This module is loaded by every mail process (imap, lmtp, doveadm, ...). Only the imap
 * binary exports imap_client_created_hook_set: it is looked up at load time, so the
 * same module needs no separate imap_* plugin in the drop-in. Without it (any other
 * process) mailgrant_imap_active() is FALSE and nothing here runs.
 */
#include <dlfcn.h>

#include "lib.h"
#include "imap-common.h"
#include "imap-client.h"

#include "mailgrant-plugin.h"

typedef imap_client_created_func_t *mailgrant_hook_set_func_t(imap_client_created_func_t *new_hook);

static mailgrant_hook_set_func_t *mailgrant_hook_set;
static imap_client_created_func_t *mailgrant_next_client_created;
static void (*mailgrant_prev_send_tagline)(struct client_command_context *cmd, const char *data);
/* "[RESP-CODE] text" for the next tagged NO of the current SETACL/DELETEACL */
static char *mailgrant_pending_reply;

static bool mailgrant_is_acl_write(const struct client_command_context *cmd)
{
	return cmd->name != NULL &&
		(strcasecmp(cmd->name, "SETACL") == 0 || strcasecmp(cmd->name, "DELETEACL") == 0);
}

static void mailgrant_send_tagline(struct client_command_context *cmd, const char *data)
{
	/* the command is over: the next one asks the service again (a revocation is obeyed
	   by the next command, however long this one used one namespace answer) */
	mailgrant_command_done();
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
	/* 2.3: imap_client_created_hook_set(), exported by the imap binary only */
	mailgrant_hook_set = (mailgrant_hook_set_func_t *)dlsym(RTLD_DEFAULT, "imap_client_created_hook_set");
	if (mailgrant_hook_set != NULL)
		mailgrant_next_client_created = mailgrant_hook_set(mailgrant_imap_client_created);
}

void mailgrant_imap_deinit(void)
{
	if (mailgrant_hook_set != NULL)
		(void)mailgrant_hook_set(mailgrant_next_client_created);
	mailgrant_hook_set = NULL;
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
