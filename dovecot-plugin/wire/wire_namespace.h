/* wire_namespace.h -- a "namespace" answer of the per-host service read in C
 * (shared_namespace.h's wire format: "mailbox" ADDRESS ROOT-LETTERS ROOT-REASON TEAM
 * TEAM-REASON, then its "pattern" PATTERN LETTERS and "folder" NAME SPECIAL-USE lines; an
 * unanswered mailbox is one "owner" ADDRESS line), and the namespaces a mail process
 * keeps for service.memo_ms (NamespaceMemo's rules: at most 16 logins; unanswered
 * mailboxes are not kept). Reading is as strict as namespace_from(): an unknown item, a
 * wrong field count, a pattern or folder before any answered mailbox, letters that are
 * not rights: the whole answer is refused. A folder's rights come from folder_match.c.
 */
#ifndef MAILGRANT_WIRE_NAMESPACE_H
#define MAILGRANT_WIRE_NAMESPACE_H

#include <stddef.h>
#include <time.h>

#include "wire_client.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MGW_MAX_NAMESPACE_LOGINS 16u
/* The longest a pinned namespace stays fresh (a command that never ends, IDLE, is not
   answered from one answer for longer). */
#define MGW_PIN_MAX_MS 5000

struct mgw_mailbox {
	const char *address;
	int answered;
	const char *root_letters, *root_reason;
	int team;
	const char *team_reason;
	size_t pattern_first, pattern_count; /* into mgw_namespace.patterns / .letters */
	size_t folder_first, folder_count;   /* into .folder_names / .folder_uses */
};

struct mgw_namespace {
	struct mgw_reply reply; /* owns every string */
	struct mgw_mailbox *mailboxes; /* in answer order */
	size_t count;
	struct mgw_mailbox **by_address; /* the answered ones, sorted by address */
	size_t answered;
	const char **patterns, **letters;
	const char **folder_names, **folder_uses;
};

/* Takes `reply` (an ok answer to "namespace"; it is moved into ns and zeroed). 0 ok;
   -1 with `error` (ns is then empty and `reply` freed). */
int mgw_namespace_read(struct mgw_reply *reply, struct mgw_namespace *ns, char *error, size_t error_size);
void mgw_namespace_free(struct mgw_namespace *ns);
/* The answered mailbox `address`, or NULL. */
const struct mgw_mailbox *mgw_namespace_find(const struct mgw_namespace *ns, const char *address);
/* The rights `mailbox`'s patterns give on `folder` (out: >= 12 bytes). */
void mgw_namespace_folder_letters(const struct mgw_namespace *ns, const struct mgw_mailbox *mailbox,
				  const char *folder, char *out);

struct mgw_namespace_memo;
struct mgw_namespace_memo *mgw_namespace_memo_new(int keep_ms);
void mgw_namespace_memo_free(struct mgw_namespace_memo *memo);
/* Keeps `ns` (taken; freed here when keep_ms is 0) as `login`'s, fetched at `now`.
   `pin`: fresh past keep_ms until mgw_namespace_memo_unpin(), for at most MGW_PIN_MAX_MS
   (an IMAP command that outlasts keep_ms, such as a LIST over 1,000 shared mailboxes on
   Dovecot 2.4, reads every mailbox from the one answer; the next command asks again). */
void mgw_namespace_memo_put(struct mgw_namespace_memo *memo, const char *login, struct mgw_namespace *ns,
			    const struct timespec *now, int pin);
/* Every kept namespace is fresh for keep_ms from its fetch again (the command ended). */
void mgw_namespace_memo_unpin(struct mgw_namespace_memo *memo);
/* The mailbox `address` of login's namespace when it is fresh, else NULL; *ns_r = that
   namespace. */
const struct mgw_mailbox *mgw_namespace_memo_find(const struct mgw_namespace_memo *memo, const char *login,
						  const char *address, const struct timespec *now,
						  const struct mgw_namespace **ns_r);
/* Whether a rights check would fetch login's namespace again: one is kept, past its
   freshness, and holds answered mailboxes (mgw_namespace_memo_listed). */
int mgw_namespace_memo_refetches(const struct mgw_namespace_memo *memo, const char *login,
				 const struct timespec *now);
/* Whether the last namespace kept for login, fresh or not, held `address` answered. */
int mgw_namespace_memo_listed(const struct mgw_namespace_memo *memo, const char *login, const char *address);
void mgw_namespace_memo_forget(struct mgw_namespace_memo *memo);

#ifdef __cplusplus
}
#endif

#endif
