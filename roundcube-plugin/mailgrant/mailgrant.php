<?php

/**
 * mailgrant: the end user's side of mailgrant in Roundcube (LDAP grants -> shared
 * folders, shared mailboxes, send as / on behalf for Dovecot + Postfix).
 *
 *     $config['plugins'] = ['acl', 'mailgrant'];     // after Roundcube's acl plugin
 *
 * - Settings > Delegates: who may send as / on behalf of my mailbox (and of the shared
 *   mailboxes I administer).
 * - Settings > Collaborators: invite people to a mailbox with an access type (read only,
 *   read and modify, full, administrator); pending and active lists; change; remove.
 * - Settings > Shared with me: invitations to accept or decline; my own name for each
 *   share, used in the folder list.
 * - Identities: every address I may send as is offered in From without typing it, and
 *   goes away with the grant.
 * - Sharing refused by the server (Settings > Folders > Sharing) shows the server's
 *   reason (mailgrant_acl_errors.php, issue 12).
 *
 * Every change is written to LDAP as the logged-in person (their DN and password), so
 * slapd's ACLs (ldap-schema/selfservice-acl.*) alone decide what they may change; a
 * refusal is shown with slapd's answer. Configuration: config.inc.php.dist.
 * Works with Roundcube 1.6 (Debian 12 and 13). Needs php-ldap for the pages.
 *
 * @license GPL-3.0-or-later (as Roundcube's plugins)
 */
class mailgrant extends rcube_plugin
{
    // no $task: the acl plugin's errors are in settings, identities are synced at login
    // (task login -> mail) and before composing

    /** @var mailgrant_acl_errors */
    private $acl_errors;
    /** @var rcmail */
    public $rc;

    public function init()
    {
        require_once __DIR__ . '/mailgrant_acl_errors.php';
        $this->rc = rcmail::get_instance();
        $this->acl_errors = new mailgrant_acl_errors($this->rc);
        $this->add_hook('render_response', [$this->acl_errors, 'render_response']);

        // config.inc.php in the plugin dir, if the site made one (the defaults are in
        // cfg(); config.inc.php.dist documents them); Roundcube's own config also works
        $this->load_config();
        if ((string) $this->rc->config->get('mailgrant_ldap_base', '') === '') {
            // not configured for the directory: only the sharing errors above (issue 12's
            // plugin as it was), no pages, nothing asked of LDAP
            return;
        }
        $this->add_texts('localization/', false);
        $this->add_hook('settings_actions', [$this, 'settings_actions']);
        $this->add_hook('render_mailboxlist', [$this, 'render_mailboxlist']);
        $this->add_hook('login_after', [$this, 'login_after']);
        $this->add_hook('startup', [$this, 'startup']);
        foreach (['delegates', 'collaborators', 'shared'] as $page) {
            $this->register_action('plugin.mailgrant-' . $page, [$this, 'page_' . $page]);
        }
    }

    /** The plugin's settings as one array (defaults in config.inc.php.dist). */
    public function cfg()
    {
        $c = $this->rc->config;
        return [
            'uri'              => $c->get('mailgrant_ldap_uri', 'ldap://127.0.0.1'),
            'base'             => $c->get('mailgrant_ldap_base', ''),
            'starttls'         => (bool) $c->get('mailgrant_ldap_starttls', false),
            'timeout'          => max(1, (int) $c->get('mailgrant_ldap_timeout', 5)),
            'search_dn'        => $c->get('mailgrant_search_dn', ''),
            'search_password'  => $c->get('mailgrant_search_password', ''),
            'user_filter'      => $c->get('mailgrant_user_filter',
                '(&(objectClass=inetOrgPerson)(|(mail=%s)(uid=%s)(mailLocalAddress=%s)))'),
            'alias_attribute'  => $c->get('mailgrant_alias_attribute', 'mailLocalAddress'),
            'expire_after'     => (string) $c->get('mailgrant_invitation_expire_after', '14d'),
            'notices_dirs'     => (array) $c->get('mailgrant_notices_dirs',
                ['/etc/mailgrant/notices', '/usr/share/mailgrant/notices']),
            'default_language' => $c->get('mailgrant_default_language', 'en'),
            'webmail_url'      => $c->get('mailgrant_webmail_url', ''),
            'notify'           => (bool) $c->get('mailgrant_notify', true),
        ];
    }

    public function settings_actions($args)
    {
        foreach (['delegates', 'collaborators', 'shared'] as $page) {
            $args['actions'][] = [
                'action' => 'plugin.mailgrant-' . $page,
                'class'  => 'mailgrant-' . $page,
                'label'  => 'menu_' . $page,
                'title'  => 'menu_' . $page . '_title',
                'domain' => 'mailgrant',
            ];
        }
        return $args;
    }

    /** An LDAP session bound as the logged-in person (mailgrant_ldap_error on failure). */
    public function directory()
    {
        require_once __DIR__ . '/lib/mailgrant_directory.php';
        require_once __DIR__ . '/lib/mailgrant_model.php';
        $dir = new mailgrant_directory($this->cfg());
        $dir->bind_as_user($this->rc->get_user_name(), $this->rc->get_user_password());
        return $dir;
    }

    private function pages()
    {
        require_once __DIR__ . '/lib/mailgrant_directory.php';
        require_once __DIR__ . '/lib/mailgrant_model.php';
        require_once __DIR__ . '/lib/mailgrant_notice.php';
        require_once __DIR__ . '/lib/mailgrant_notice_vars.php';
        require_once __DIR__ . '/lib/mailgrant_changes.php';
        require_once __DIR__ . '/lib/mailgrant_views.php';
        require_once __DIR__ . '/lib/mailgrant_pages.php';
        return new mailgrant_pages($this);
    }

    public function page_delegates()
    {
        $this->pages()->run('delegates');
    }

    public function page_collaborators()
    {
        $this->pages()->run('collaborators');
    }

    public function page_shared()
    {
        $this->pages()->run('shared');
    }

    public function login_after($args)
    {
        $this->sync_identities(true);
        return $args;
    }

    public function startup($args)
    {
        if ($args['task'] == 'mail' && $args['action'] == 'compose') {
            $this->sync_identities(false);
        }
        return $args;
    }

    /**
     * Offers every address the person may send as (own, sendAs, sendOnBehalf) as an
     * identity and removes the ones this plugin added whose grant is gone. Identities
     * the person made stay as they are. The policy daemon and the milter still decide
     * each message; an offered identity only saves typing. LDAP trouble changes nothing.
     *
     * At login always; before composing at most once a minute, and not for five minutes
     * after a failure: a directory that accepts connections but never answers must not
     * cost every compose its timeouts.
     */
    public function sync_identities($force = true)
    {
        if (empty($_SESSION['user_id'])) {
            return;
        }
        $now = time();
        $next = (int) ($_SESSION['mailgrant_identities_next'] ?? 0);
        if (!$force && $now < $next) {
            return;
        }
        require_once __DIR__ . '/lib/mailgrant_directory.php';
        require_once __DIR__ . '/lib/mailgrant_model.php';
        require_once __DIR__ . '/lib/mailgrant_identities.php';
        try {
            (new mailgrant_identities($this))->sync();
            $_SESSION['mailgrant_identities_next'] = $now + 60;
        } catch (Throwable $e) {
            // never in the way of logging in or composing
            $_SESSION['mailgrant_identities_next'] = $now + 300;
            rcube::write_log('errors', 'mailgrant: identities not updated: ' . $e->getMessage());
        }
    }

    /** The person's own names for shares (Settings > Shared with me) in the folder list. */
    public function render_mailboxlist($args)
    {
        $prefs = $this->rc->user ? $this->rc->user->get_prefs() : [];
        $names = (array) ($prefs['mailgrant_names'] ?? []);
        if ($names) {
            $this->rename_folders($args['list'], $names);
        }
        return $args;
    }

    private function rename_folders(array &$list, array $names)
    {
        foreach ($list as &$folder) {
            if (isset($folder['id']) && isset($names[$folder['id']]) && $names[$folder['id']] !== '') {
                $folder['name'] = $names[$folder['id']];
                $folder['realname'] = true;   // shown as is, not as a special folder's label
            }
            if (!empty($folder['folders'])) {
                $this->rename_folders($folder['folders'], $names);
            }
        }
    }
}
