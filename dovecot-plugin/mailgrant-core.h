/* mailgrant-core.h -- the small C ABI between the Dovecot glue (C) and the core (C++).
 *
 * The Dovecot side never sees a C++ type or exception: every function returns an int
 * status and writes messages into caller-supplied buffers. Implemented in core_abi.cpp,
 * where every exception is caught. One handle per mail process, opened on first use.
 * The Dovecot plugin reaches it through mailgrant-core-loader.c, which loads the core
 * library (libmailgrant_core.so) at the first mailgrant_core_open(); the 2.4 passdb
 * driver and the tests link core_abi.cpp directly.
 *
 * Failure is fail-safe by construction: on any error the rights string is empty.
 * Errors are -1 (LDAP trouble or an internal error: may open the circuit breaker, see
 * core_abi.cpp) or MAILGRANT_CORE_BAD_INPUT (a name from the client that can never be
 * found: that call fails, nothing else is affected).
 */
#ifndef MAILGRANT_CORE_H
#define MAILGRANT_CORE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mailgrant_core;

/* Returned instead of -1 when the call failed on bad input (an over-long, empty or
   DN-shaped name), not on LDAP trouble. */
#define MAILGRANT_CORE_BAD_INPUT (-2)

/* The configuration every component reads when not told otherwise (config.h's
   kDefaultConfigPath; core_abi.cpp checks they are the same), and the log interval
   without a configuration. */
#define MAILGRANT_DEFAULT_CONFIG_PATH "/etc/mailgrant/mailgrant.yaml"
#define MAILGRANT_DEFAULT_LOG_INTERVAL 30
const char *mailgrant_core_default_config_path(void);

/* Loads the YAML config (and bind password). NULL + message on error. */
struct mailgrant_core *mailgrant_core_open(const char *config_path, char *error, size_t error_size);
void mailgrant_core_close(struct mailgrant_core *core);

/* One namespace answer per IMAP command (wire_core.h, mgw_core_pin_per_command): the
   plugin's loader does these on the service client's memo only (the core library keeps
   no namespace across questions without the service, and core_abi.cpp's own service
   client, used when the C reader leaves the configuration to config.cpp, keeps
   service.memo_ms alone). The imap process turns pinning on and reports each command's end. */
void mailgrant_core_pin_per_command(struct mailgrant_core *core);
void mailgrant_core_command_done(struct mailgrant_core *core);
/* The same, through the service only (wire_core.h, mgw_core_namespace_ahead): the imap
   process asks for login's namespace when a LIST starts, and the shared namespace reads
   the answer after the user's own folders are listed. Counts: answers asked ahead that
   were read, and those closed unread (0 without the service). */
void mailgrant_core_namespace_ahead(struct mailgrant_core *core, const char *login);
void mailgrant_core_ahead_counts(const struct mailgrant_core *core, unsigned long *used, unsigned long *dropped);

/* Seconds between repeated error log lines (the cache TTL; 30 without a core). */
int mailgrant_core_log_interval(const struct mailgrant_core *core);

/* RFC 4314 letters that valid LDAP grants give `login` on `folder` of `mailbox`
   ("" = none; owners get "" too: their own rights are Dovecot's). 0 ok, < 0 error. */
int mailgrant_core_folder_rights(struct mailgrant_core *core, const char *login, const char *mailbox,
                                 const char *folder, char *letters, size_t letters_size, char *error,
                                 size_t error_size);

/* Calls owner_cb once per mailbox (its primary address) that grants `login`, or one of
   its groups, folder access. 0 ok, < 0 error (some owners may have been reported). */
int mailgrant_core_sharing_owners(struct mailgrant_core *core, const char *login,
                                  void (*owner_cb)(void *context, const char *owner), void *context,
                                  char *error, size_t error_size);

/* Calls grant_cb once per grantee whose valid grants cover `folder` of `mailbox`, with the
   union of their rights: is_group 0 = a person (name = their address), 1 = a group (name
   = its RDN value). For GETACL (core: Decider::grantees_of). 0 ok, < 0 error. */
int mailgrant_core_folder_grantees(struct mailgrant_core *core, const char *mailbox, const char *folder,
                                   void (*grant_cb)(void *context, int is_group, const char *name,
                                                    const char *letters),
                                   void *context, char *error, size_t error_size);

/* 1 when `login` has an active folder grant from `mailbox` (per-collaborator login is
   allowed), 0 when not, < 0 on error. */
int mailgrant_core_may_open_mailbox(struct mailgrant_core *core, const char *login, const char *mailbox,
                                    char *error, size_t error_size);

/* Team mailboxes (core: team_mailbox.h). Rights valid LDAP grants give `login` on the
   ROOT of `mailbox` (the parent Dovecot's ACL plugin checks before creating a top-level
   folder): "k" when a grant covers every folder ('*') with k, else "" (owners get "" as
   well). `message` gets the decision's one-line reason (0) or the error (< 0). */
int mailgrant_core_root_rights(struct mailgrant_core *core, const char *login, const char *mailbox,
                               char *letters, size_t letters_size, char *message, size_t message_size);

/* 1 when `mailbox` is a shared mailbox (mailSharedMailbox) on which `login` holds a valid
   folder grant: folder_cb is then called once per special-use folder (its name as the
   mailbox sees it, '/'-separated, and its flag: \Drafts, \Sent, \Trash,
   \Junk). 0 when not (folder_cb not called), < 0 on error. `message` gets the
   reason (>= 0) or the error (< 0). */
int mailgrant_core_team_folders(struct mailgrant_core *core, const char *login, const char *mailbox,
                                void (*folder_cb)(void *context, const char *name, const char *special_use),
                                void *context, char *message, size_t message_size);

/* Returned when a SETACL/DELETEACL write-through is refused for good (the message says
   why: unknown person or group, "anyone", rights letters that are not allowed, ...). */
#define MAILGRANT_CORE_REFUSED (-3)

/* SETACL (remove = 0; rights "lrs", "+w" or "-w") or DELETEACL (remove = 1; rights
   ignored) by `actor` on `folder` of `mailbox`, for `identifier` (address, alias, login,
   or "$group"), written through to LDAP (core: SelfService). Call only after Dovecot's
   ACL check let the actor administer the folder. 0 done; MAILGRANT_CORE_REFUSED,
   MAILGRANT_CORE_BAD_INPUT or -1 (temporary: LDAP trouble, or the grants changed meanwhile -- try again) with the reason in `error`. */
int mailgrant_core_change_acl(struct mailgrant_core *core, const char *actor, const char *mailbox,
                              const char *folder, const char *identifier, const char *rights, int remove,
                              char *error, size_t error_size);

/* Per-collaborator login "MAILBOX*GRANTEE" with GRANTEE's own password, for a master
   passdb (Dovecot 2.4's `mailgrant` passdb driver, dovecot-plugin/auth/; on 2.3
   mailgrant-checkpassword makes the same call in C++). The decision is the core's
   (collaborator_login.h): only imap/pop3, no empty password, GRANTEE's own account
   (not a shared mailbox) and password (LDAP bind), an active folder grant of MAILBOX.
   `service` is Dovecot's protocol ("imap", "smtp", ...; NULL or "" = unknown: refused).
   `core` may be NULL (configuration not loaded): refusals that need no directory still
   answer, everything else is temporary. Returns one of the MAILGRANT_LOGIN_* values and
   always writes a one-line, control-character-free log message and its level
   (MAILGRANT_LOG_*). LDAP trouble is TEMPORARY (never ALLOWED) and opens the breaker. */
#define MAILGRANT_LOGIN_ALLOWED 1
#define MAILGRANT_LOGIN_REFUSED 0
#define MAILGRANT_LOGIN_TEMPORARY (-1)
#define MAILGRANT_LOG_INFO 0
#define MAILGRANT_LOG_WARNING 1
#define MAILGRANT_LOG_ERROR 2
int mailgrant_core_collaborator_login(struct mailgrant_core *core, const char *service, const char *mailbox,
                                      const char *grantee, const char *password, int *log_level, char *message,
                                      size_t message_size);

#ifdef __cplusplus
}
#endif

#endif
