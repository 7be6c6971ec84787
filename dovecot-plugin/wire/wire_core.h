/* wire_core.h -- mailgrant-core.h's questions answered through the per-host service by
 * plain C: what core_abi.cpp does with a ServiceClient, without the C++ core (see
 * wire_client.h for why). Same semantics, message for message: the namespace fetched by
 * sharing_owners answers the rights, root and team questions about its mailboxes for
 * service.memo_ms (here, in an imap process, also until the command that fetched it ends:
 * mgw_core_pin_per_command, which core_abi.cpp's client does not do); a "temp" answer (the service unreachable, slow or garbled, or LDAP
 * trouble behind it) opens a breaker for cache.negative_ttl_s (at least 1 s); bad input
 * fails that call only (MAILGRANT_CORE_BAD_INPUT). The plugin's loader uses it when
 * mailgrant.yaml names a service (wire_config.h) and loads the C++ core only for what
 * this cannot do: SETACL/DELETEACL writes and collaborator logins.
 */
#ifndef MAILGRANT_WIRE_CORE_H
#define MAILGRANT_WIRE_CORE_H

#include <stddef.h>

#include "wire_config.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mgw_core;

/* NULL when out of memory. */
struct mgw_core *mgw_core_new(const struct mgw_config *config);
void mgw_core_free(struct mgw_core *core);
int mgw_core_log_interval(const struct mgw_core *core);
/* After this process changed grants (SETACL): nothing kept is used again. */
void mgw_core_forget(struct mgw_core *core);
/* on: a namespace fetched stays fresh past service.memo_ms until the next
   mgw_core_command_done() (at most MGW_PIN_MAX_MS): one answer per IMAP command, however
   long the command runs. The plugin turns it on in imap processes, whose command ends it
   sees (mailgrant-imap.c); elsewhere nothing would end a pin. */
void mgw_core_pin_per_command(struct mgw_core *core, int on);
void mgw_core_command_done(struct mgw_core *core);
unsigned long mgw_core_questions_sent(const struct mgw_core *core);
/* Sends the "namespace" question for `login` ahead (wire_client.h, mgw_ask_ahead): the
   next mgw_core_sharing_owners(login) of this command, or the fetch of a stale namespace
   for a rights check, reads its answer. Nothing while the breaker is open, nor when no
   listing would ask: the sharing dict was asked for login in this process already (Dovecot
   asks it once per session) and no kept namespace would be fetched again
   (mgw_namespace_memo_refetches). mgw_core_command_done() closes an answer left unread. */
void mgw_core_namespace_ahead(struct mgw_core *core, const char *login);
void mgw_core_ahead_counts(const struct mgw_core *core, unsigned long *used, unsigned long *dropped);

int mgw_core_folder_rights(struct mgw_core *core, const char *login, const char *mailbox, const char *folder,
			   char *letters, size_t letters_size, char *error, size_t error_size);
int mgw_core_sharing_owners(struct mgw_core *core, const char *login,
			    void (*owner_cb)(void *context, const char *owner), void *context, char *error,
			    size_t error_size);
int mgw_core_folder_grantees(struct mgw_core *core, const char *mailbox, const char *folder,
			     void (*grant_cb)(void *context, int is_group, const char *name, const char *letters),
			     void *context, char *error, size_t error_size);
int mgw_core_may_open_mailbox(struct mgw_core *core, const char *login, const char *mailbox, char *error,
			      size_t error_size);
int mgw_core_root_rights(struct mgw_core *core, const char *login, const char *mailbox, char *letters,
			 size_t letters_size, char *message, size_t message_size);
int mgw_core_team_folders(struct mgw_core *core, const char *login, const char *mailbox,
			  void (*folder_cb)(void *context, const char *name, const char *special_use), void *context,
			  char *message, size_t message_size);

#ifdef __cplusplus
}
#endif

#endif
