// sent_copy.h -- team mailboxes' sent copies (issue 17): is mail that someone sends as a
// mailbox (sendAs or sendOnBehalf) also filed in that mailbox's Sent folder, server-side,
// as Exchange's "copy items sent as this mailbox" does? Decided here, once; the milter
// only adds the envelope recipient this answers with, and the policy check refuses that
// recipient from every client (is_sent_copy_recipient), so a Sent folder is written only
// through this decision.
//
// The switch: the mailbox entry's schema.sent_copy attribute (mailSharedSentCopy,
// TRUE/FALSE) when present, else team_mailbox.sent_copy (shared = mailSharedMailbox
// entries only, all, none). Mail sent from one's own address is never copied (the
// client files it in its own Sent already), nor is anything while
// team_mailbox.sent_copy_domain is unset (Postfix would not know where to deliver it).
//
// The copy is routed by an envelope recipient in the reserved domain, whose (quoted)
// local part is the mailbox's address:
//   support@example.com -> "support@example.com"@<sent_copy_domain>
// Postfix's transport_maps hands the domain to a pipe that runs Dovecot's LDA with
// -d ${mailbox} (the local part, unquoted: support@example.com) -m Sent.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mailgrant/config.h"
#include "mailgrant/decision.h"
#include "mailgrant/directory.h"

namespace mailgrant {

struct SentCopy {
    bool copy = false;
    std::string mailbox;    // the mailbox's primary address ("" when not known)
    std::string folder;     // team_mailbox.sent
    std::string recipient;  // the routing envelope recipient; set only when copy
    std::string reason;     // one line for logs: why (not)
};

// One From: author's decision (decision.h) and the account of the mailbox it names
// (nullopt: none found). Pure: no directory access.
SentCopy decide_sent_copy(const TeamMailboxConfig& config, const SenderDecision& author,
                          const std::optional<Account>& mailbox);

// Every author of one message (the decisions for its From: addresses, in order): one
// answer per distinct mailbox sent as or on behalf of, so a message names each mailbox
// at most once and is filed there at most once. Authors sending from their own address
// (or denied) give no answer. Looks the mailboxes up in `directory`: LdapError
// propagates, and the caller must then refuse the message for now (4xx) -- a message is
// never sent without the copy it should have.
std::vector<SentCopy> sent_copies(const TeamMailboxConfig& config, Directory& directory,
                                  const std::vector<SenderDecision>& authors);

// "support@example.com" + "sent-copy.mailgrant.invalid" ->
// "\"support@example.com\"@sent-copy.mailgrant.invalid"; "" when the address cannot be
// routed that way (not a plain dot-atom address, longer than an SMTP path allows).
std::string sent_copy_recipient(const std::string& address, const std::string& domain);

// Does `recipient` name the reserved domain anywhere as whole labels (its domain, a
// parent of it, or inside a percent-hack / bang-path route), in any case? Always false
// while `domain` is "".
bool is_sent_copy_recipient(const std::string& recipient, const std::string& domain);

}  // namespace mailgrant
