/* folder_match.h -- does a grant's mailGrantFolder pattern cover a folder, and which
 * rights does a set of (pattern, letters) pairs give on one folder. Plain C, so the one
 * implementation serves both the C++ core (folder_pattern.h wraps it) and the Dovecot
 * plugin's C client of the per-host service (dovecot-plugin/wire/wire_namespace.c), which reads
 * a folder's rights out of a namespace answer without loading the C++ core.
 *
 * Dovecot's syntax: '*' matches any characters including the hierarchy separator '/',
 * '%' matches any characters except '/'. "INBOX" is case-insensitive (RFC 3501), other
 * names are case-sensitive. "Projects/ *" covers folders below Projects, not Projects
 * itself. Patterns come from LDAP and folders from IMAP clients (untrusted): matching is a
 * set-of-positions automaton, O(pattern x folder) time, no recursion or backtracking.
 */
#ifndef MAILGRANT_FOLDER_MATCH_H
#define MAILGRANT_FOLDER_MATCH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MAILGRANT_FOLDER_SEPARATOR '/'
/* The RFC 4314 letters Dovecot implements, in canonical output order (rights.h). */
#define MAILGRANT_RIGHTS_LETTERS "lrswipkxtea"

/* 1 when `pattern` covers `folder`, else 0 (also when memory runs out: fail safe). */
int mailgrant_folder_matches(const char *pattern, size_t pattern_len, const char *folder, size_t folder_len);

/* 1 when some folder below `parent` (parent + '/' + at least one character) could match. */
int mailgrant_pattern_may_match_below(const char *pattern, size_t pattern_len, const char *parent,
				      size_t parent_len);

/* The union of the rights of every pattern that covers `folder`, in canonical order, into
   `out` (at least sizeof(MAILGRANT_RIGHTS_LETTERS) bytes). patterns[i] gives letters[i];
   letters not in MAILGRANT_RIGHTS_LETTERS are ignored. */
void mailgrant_folder_letters(const char *const *patterns, const char *const *letters, size_t count,
			      const char *folder, char *out);

#ifdef __cplusplus
}
#endif

#endif
