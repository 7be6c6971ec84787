<?php

/**
 * mailgrant_notice_vars: the variables a notice template gets from the webmail, with
 * the same names and meanings as the admin CLI's (cli/notices/README.md), so one set of
 * template files serves both.
 *
 * @license GPL-3.0-or-later
 */
class mailgrant_notice_vars
{
    /** Every name a template may use (cli/notices/README.md, "Variables"). */
    const NAMES = [
        'kind_grant', 'kind_invite', 'kind_revoke', 'kind_expiring', 'recipient_name', 'recipient_address',
        'actor_name', 'actor_address', 'owner_name', 'owner_address', 'mailbox_is_shared', 'group',
        'folders', 'folder_all', 'has_folders', 'access_full', 'access_modify', 'access_read', 'access_custom',
        'rights', 'send_as', 'send_on_behalf', 'can_send', 'from_date', 'until', 'days_left', 'webmail_url',
        'accept_url', 'open_url', 'imap_path', 'imap_paths', 'collaborator_login', 'invitation_expires', 'date',
    ];

    /**
     * @param array $me  the acting person (mailgrant_directory::user)
     * @param array $who the recipient
     * @param array $box the mailbox (read_entry)
     * @param array $what folders, rights, send, not_after of the grant
     * @param array $paths the grant's folders in the recipient's shared namespace
     */
    public static function build(rcmail $rc, array $cfg, $kind, array $me, array $who, array $box, array $what, array $paths)
    {
        $letters = mailgrant_model::letters($what['rights'] ?? '');
        $send = $what['send'] ?? [];
        $g = ['rights' => $letters, 'send' => $send, 'folders' => $what['folders'] ?? []];
        $send_as = mailgrant_model::has_send($g, 'sendAs');
        $behalf = !$send_as && mailgrant_model::has_send($g, 'sendOnBehalf');   // sendAs includes it
        // only the configured address: one built from this request would trust its Host
        // header, and the links go out in the site's own words (cli/notices/README.md:
        // empty without webmail_url)
        $webmail = (string) $cfg['webmail_url'];
        $join = strpos($webmail, '?') === false ? '?' : '&';
        $accept = $webmail === '' ? '' : $webmail . $join . '_task=settings&_action=plugin.mailgrant-shared';
        $expire = mailgrant_model::duration($cfg['expire_after']);
        $folders = array_values(array_filter($g['folders'], function ($f) {
            return $f !== '*';
        }));
        $first = $paths ? $paths[0] : '';
        $open = $webmail !== '' && $first !== '' && !preg_match('/[*%]/', implode('', $folders))
            ? $webmail . $join . '_task=mail&_mbox=' . rawurlencode($first) : $accept;
        $date = function ($t) {
            return $t === null ? '' : gmdate('Y-m-d H:i:s', $t) . 'Z';
        };
        $until = mailgrant_model::gentime($what['not_after'] ?? '');
        return [
            'kind_grant'         => $kind === 'grant',
            'kind_invite'        => $kind === 'invite',
            'kind_revoke'        => $kind === 'revoke',
            'kind_expiring'      => false,
            'recipient_name'     => $who['name'] ?? '',
            'recipient_address'  => $who['mail'],
            'actor_name'         => $me['name'] ?: $me['mail'],
            'actor_address'      => $me['mail'],
            'owner_name'         => $box['name'] ?? '',
            'owner_address'      => $box['mail'],
            'mailbox_is_shared'  => !empty($box['shared']),
            'group'              => '',
            'folders'            => implode(', ', $folders),
            'folder_all'         => in_array('*', $g['folders'], true),
            'has_folders'        => (bool) $g['folders'],
            'access_full'        => $g['folders'] && $letters === mailgrant_model::ROLES['admin'],
            'access_modify'      => $g['folders'] && $letters === mailgrant_model::ROLES['editor'],
            'access_read'        => $g['folders'] && $letters === mailgrant_model::ROLES['reader'],
            'access_custom'      => $g['folders'] && !in_array($letters, mailgrant_model::ROLES, true),
            'rights'             => $letters,
            'send_as'            => $send_as,
            'send_on_behalf'     => $behalf,
            'can_send'           => $send_as || $behalf,
            'from_date'          => '',
            'until'              => $date($until),
            // UTC calendar days from today to the end day, as the CLI counts them
            'days_left'          => $until === null ? '' : (string) max(0, intdiv($until, 86400) - intdiv(time(), 86400)),
            'webmail_url'        => $webmail,
            'accept_url'         => $accept,
            'open_url'           => $kind === 'invite' ? $accept : $open,
            'imap_path'          => $first,
            'imap_paths'         => implode(', ', $paths),
            'collaborator_login' => $box['mail'] . '*' . $who['mail'],
            'invitation_expires' => $kind === 'invite' && $expire ? $date(time() + $expire) : '',
            'date'               => $date(time()),
        ];
    }
}
