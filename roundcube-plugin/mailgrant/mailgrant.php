<?php

/**
 * mailgrant: the webmail side of mailgrant (LDAP grants -> shared folders for Dovecot).
 *
 * Load it after Roundcube's own `acl` plugin:
 *
 *     $config['plugins'] = ['acl', 'mailgrant'];
 *
 * What it does today (issue 12): when the mail server refuses a share made in
 * Settings > Folders > Sharing (IMAP SETACL / DELETEACL answered with NO), the message
 * Roundcube shows carries the server's reason after the acl plugin's own text, e.g.
 * "Unable to add access rights: no person or group 'x@example.com' in the directory".
 * See mailgrant_acl_errors.php.
 *
 * Works with Roundcube 1.6 (tested with 1.6.5 and 1.6.20). No configuration, no
 * database, no assets.
 *
 * @license GPL-3.0-or-later (as Roundcube's plugins)
 */
class mailgrant extends rcube_plugin
{
    // no $task: loaded in every task (the acl plugin runs in settings, Kolab's builds
    // also in addressbook and calendar); the hook itself checks the action

    /** @var mailgrant_acl_errors */
    private $acl_errors;

    public function init()
    {
        require_once __DIR__ . '/mailgrant_acl_errors.php';

        $this->acl_errors = new mailgrant_acl_errors(rcmail::get_instance());
        $this->add_hook('render_response', [$this->acl_errors, 'render_response']);
    }
}
