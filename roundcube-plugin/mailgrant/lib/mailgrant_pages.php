<?php

/**
 * mailgrant_pages: the three settings pages (Delegates, Collaborators, Shared with me):
 * the request flow (token check, one change, the page again) and the helpers shared by
 * the changes (mailgrant_changes.php) and the views (mailgrant_views.php).
 *
 * A post is one LDAP change made as the logged-in person; slapd's answer is the
 * decision: "insufficient access" is shown as "the directory refused", with the
 * mailbox named, and nothing else is attempted. Pages are plain forms (POST with
 * Roundcube's request token, then the page again), so they work without JavaScript
 * and on phones.
 *
 * @license GPL-3.0-or-later
 */
class mailgrant_pages
{
    use mailgrant_changes;
    use mailgrant_views;

    private $p;       // the plugin
    private $rc;
    /** @var mailgrant_directory */
    private $dir;
    private $cfg;
    private $page;
    private $error;   // the page could not be built (LDAP down): shown instead

    public function __construct(mailgrant $plugin)
    {
        $this->p = $plugin;
        $this->rc = $plugin->rc;
        $this->cfg = $plugin->cfg();
    }

    public function run($page)
    {
        $this->page = $page;
        try {
            $this->dir = $this->p->directory();
            if ($_SERVER['REQUEST_METHOD'] === 'POST') {
                // Roundcube's own token check lets through a POST whose body PHP did not
                // parse ($_POST empty, e.g. a cross-site text/plain form): a change needs
                // a parsed body with this session's token, and reads its fields from the
                // body only (field()), never from the query string.
                if (empty($_POST) || !$this->rc->check_request(rcube_utils::INPUT_POST)) {
                    rcube::write_log('mailgrant', $this->rc->get_user_name() . ': refused a post without a valid request token');
                    $this->say('badrequest', 'error');
                } else {
                    $this->post();
                }
            }
        } catch (mailgrant_ldap_error $e) {
            if ($this->dir === null) {
                $this->error = $e->getMessage();
                rcube::write_log('errors', 'mailgrant: ' . $e->getMessage());
            } else {
                $this->refused($e);
            }
        }
        $this->rc->output->set_pagetitle($this->t('menu_' . $page));
        $this->rc->output->add_handlers(['plugin.body' => [$this, 'body']]);
        $this->rc->output->send('plugin');
    }

    public function body()
    {
        if ($this->error !== null) {
            return $this->box($this->t('menu_' . $this->page),
                html::p(['class' => 'mailgrant-error', 'id' => 'mailgrant-unavailable'],
                    rcube::Q($this->t('unavailable', ['reason' => $this->error]))));
        }
        try {
            $fn = 'show_' . $this->page;
            return $this->$fn();
        } catch (mailgrant_ldap_error $e) {
            rcube::write_log('errors', 'mailgrant: ' . $e->getMessage());
            return $this->box($this->t('menu_' . $this->page),
                html::p(['class' => 'mailgrant-error'], rcube::Q($this->t('unavailable', ['reason' => $e->getMessage()]))));
        }
    }

    // ---- posts ---------------------------------------------------------------------

    private function post()
    {
        $do = $this->field('_do');
        $mbox = null;
        if ($this->page !== 'shared') {
            $mbox = $this->mailbox_from_request(true);
            if ($mbox === null) {
                return;   // an address that names no mailbox: nothing is written anywhere
            }
        }
        switch ($this->page . '/' . $do) {
            case 'delegates/add':           return $this->add_delegate($mbox);
            case 'delegates/remove':        return $this->remove_delegate($mbox);
            case 'collaborators/invite':    return $this->invite($mbox);
            case 'collaborators/change':    return $this->change_type($mbox);
            case 'collaborators/remove':    return $this->remove_collaborator($mbox);
            case 'shared/accept':           return $this->accept(true);
            case 'shared/decline':          return $this->accept(false);
            case 'shared/name':             return $this->save_name();
        }
        $this->say('badrequest', 'error');
    }

    // ---- helpers -------------------------------------------------------------------

    private $last_cn;

    /** A new grant's DN below the mailbox (its cn in $this->last_cn). */
    private function new_dn($kind, array $who, array $box)
    {
        $this->last_cn = mailgrant_model::new_cn($kind, $who['mail'] ?: $who['name']);
        return 'cn=' . $this->dir->esc_dn($this->last_cn) . ',' . $box['dn'];
    }

    /** Grants naming me or one of my groups, not below my own entry. */
    private function my_grants()
    {
        $dns = array_merge([$this->dir->user_dn], $this->dir->groups_of($this->dir->user_dn));
        return array_values(array_filter($this->dir->grants_naming($dns), function ($g) {
            return !mailgrant_directory::same_dn($g['mailbox_dn'], $this->dir->user_dn);
        }));
    }

    /** The grant below $box naming exactly $dn (one grant per grantee and mailbox). */
    private function grant_for(array $box, $dn)
    {
        foreach ($this->dir->grants_below($box['dn']) as $g) {
            if (count($g['grantees']) == 1 && mailgrant_directory::same_dn($g['grantees'][0], $dn)) {
                return $g;
            }
        }
        return null;
    }

    private function grant_by_dn(array $box, $dn)
    {
        foreach ($this->dir->grants_below($box['dn']) as $g) {
            if (mailgrant_directory::same_dn($g['dn'], $dn)) {
                return $g;
            }
        }
        $this->say('no_grant', 'error');
        return null;
    }

    /**
     * The mailbox a page is about: _mbox (an address), else my own. Any mailbox is
     * taken: slapd decides whether I may change it, and its refusal is shown. For a
     * change ($posted) an address that names no mailbox is an error, never my own.
     */
    private function mailbox_from_request($posted = false)
    {
        $addr = $posted ? $this->field('_mbox') : $this->input('_mbox');
        if ($addr === '' || strcasecmp($addr, $this->dir->user['mail']) == 0) {
            return $this->dir->user;
        }
        $box = $this->dir->find_mailbox($addr);
        if ($box) {
            return $box;
        }
        $this->say('no_mailbox', 'error', ['mailbox' => $addr]);
        return $posted ? null : $this->dir->user;
    }

    /** My own mailbox and the shared mailboxes I hold the admin role on (for the selector). */
    private function managed_mailboxes()
    {
        $out = [$this->dir->user];
        $dns = array_merge([$this->dir->user_dn], $this->dir->groups_of($this->dir->user_dn));
        $seen = [];
        foreach ($this->dir->grants_naming($dns) as $g) {
            if (mailgrant_model::letters($g['rights']) !== mailgrant_model::ROLES['admin'] || $g['pending']
                || !in_array('*', $g['folders'], true) || $g['not_before'] !== '' || $g['not_after'] !== ''
                || isset($seen[strtolower($g['mailbox_dn'])])) {
                continue;
            }
            $seen[strtolower($g['mailbox_dn'])] = true;
            $box = $this->dir->read_entry($g['mailbox_dn']);
            if ($box && $box['shared'] && $box['mail'] !== '') {
                $out[] = $box;
            }
        }
        return $out;
    }

    private function mailbox_selector(array $current)
    {
        $boxes = $this->managed_mailboxes();
        $sel = new html_select(['name' => '_mbox', 'id' => 'mailgrant-mbox', 'class' => 'custom-select',
                                'style' => 'width:auto',
                                'onchange' => 'this.form.submit()']);
        $known = false;
        foreach ($boxes as $b) {
            $sel->add(trim($b['name'] . ' <' . $b['mail'] . '>'), $b['mail']);
            $known = $known || strcasecmp($b['mail'], $current['mail']) == 0;
        }
        if (!$known) {
            $sel->add(trim($current['name'] . ' <' . $current['mail'] . '>'), $current['mail']);
        }
        return html::tag('form', ['method' => 'get', 'action' => './', 'class' => 'mailgrant-mailbox-form'],
            html::tag('input', ['type' => 'hidden', 'name' => '_task', 'value' => 'settings'])
            . html::tag('input', ['type' => 'hidden', 'name' => '_action', 'value' => 'plugin.mailgrant-' . $this->page])
            . html::label(['for' => 'mailgrant-mbox'], rcube::Q($this->t('mailbox'))) . ' ' . $sel->show($current['mail'])
            . html::tag('noscript', null, html::tag('button', ['type' => 'submit', 'class' => 'btn'], rcube::Q($this->t('show')))));
    }

    /** A person (or, where $groups, a group) by what was typed; says why not otherwise. */
    private function resolve($typed, $groups)
    {
        $typed = trim($typed);
        if ($typed === '' || strlen($typed) > 256 || preg_match('/[\x00-\x1f]/', $typed)) {
            $this->say('who_missing', 'error');
            return null;
        }
        $who = $typed[0] === '$' ? null : $this->dir->find_person($typed);
        if (!$who && $groups) {
            $who = $this->dir->find_group($typed);
        }
        if (!$who) {
            $this->say('no_such_person', 'error', ['who' => $typed]);
        }
        return $who;
    }

    private function paths_of(array $g, $box)
    {
        if (!$box || $box['mail'] === '' || !$g['folders']) {
            return [];
        }
        $storage = $this->rc->get_storage();
        $delim = $storage->get_hierarchy_delimiter() ?: '/';
        $prefix = 'shared' . $delim;
        $ns = $storage->get_namespace('shared');
        if (is_array($ns) && !empty($ns[0][0])) {
            $prefix = $ns[0][0];
            $delim = $ns[0][1] ?: $delim;
        }
        return mailgrant_model::shared_paths($g, $prefix . $box['mail'] . $delim, $delim);
    }

    private function store_names(array $paths, $name)
    {
        $name = mb_substr(preg_replace('/[\x00-\x1f]/', '', (string) $name), 0, 100);
        $prefs = $this->rc->user->get_prefs();
        $names = (array) ($prefs['mailgrant_names'] ?? []);
        foreach ($paths as $p) {
            if ($name === '') {
                unset($names[$p]);
            } else {
                $names[$p] = $name;
            }
        }
        $this->rc->user->save_prefs(['mailgrant_names' => $names]);
    }

    /** The value as LDAP holds it (case) for a delete of one value. */
    private function stored_value(array $values, $want)
    {
        foreach ($values as $v) {
            if (strcasecmp($v, $want) == 0) {
                return $v;
            }
        }
        return $want;
    }

    private function grantees_text(array $g)
    {
        $out = [];
        foreach ($g['grantees'] as $dn) {
            $e = $this->dir->read_entry($dn);
            $out[] = $e ? ($e['group'] ? '$' . $e['name'] : ($e['mail'] ?: $e['name'])) : $dn;
        }
        return implode(', ', $out);
    }

    private function send_text(array $g)
    {
        $out = '';
        if (mailgrant_model::has_send($g, 'sendAs') && mailgrant_model::grant_type($g) === 'custom') {
            $out .= ', ' . $this->t('send_as');
        }
        if (mailgrant_model::has_send($g, 'sendOnBehalf')) {
            $out .= ', ' . $this->t('send_on_behalf');
        }
        if (!$g['folders'] && mailgrant_model::has_send($g, 'sendAs')) {
            return $this->t('send_as') . $out;
        }
        return $out;
    }

    private function state_text(array $g, $now)
    {
        $state = mailgrant_model::state($g, $now, mailgrant_model::duration($this->cfg['expire_after']));
        $text = $this->t('state_' . str_replace('-', '_', $state));
        if ($state === 'active' && $g['not_after'] !== '') {
            $text .= ' ' . $this->t('until', ['date' => mailgrant_model::date_text($g['not_after'])]);
        }
        return $text;
    }

    /** Mails $who about $what on $box in their language; a failure is shown, never fatal. */
    private function notify($kind, array $who, array $box, array $what)
    {
        if (!$this->cfg['notify'] || empty($who['mail'])) {
            return;
        }
        $me = $this->dir->user;
        $dirs = $this->cfg['notices_dirs'];
        try {
            $lang = mailgrant_notice::pick_language($who['lang'] ?? '', mailgrant_notice::languages($dirs),
                $this->cfg['default_language']);
            $vars = mailgrant_notice_vars::build($this->rc, $this->cfg, $kind, $me, $who, $box, $what, $this->paths_of(
                $what + ['folders' => []], $box));
            list($subject, $text, $html, $lang) = mailgrant_notice::compose($dirs, $lang, $kind, $vars,
                mailgrant_notice_vars::NAMES);
            $err = mailgrant_notice::send($this->rc, $me['mail'], $me['name'], $who['mail'], $subject, $text, $html, $lang);
            if ($err !== null) {
                throw new RuntimeException($err);
            }
            $this->log('notice %s (%s) sent to %s', $kind, $lang, $who['mail']);
        } catch (Exception $e) {
            rcube::write_log('errors', 'mailgrant: notice to ' . $who['mail'] . ' not sent: ' . $e->getMessage());
            $this->say('notice_failed', 'warning', ['who' => $who['mail']]);
        }
    }

    /** slapd said no: what was refused and why, in the person's words. */
    private function refused(mailgrant_ldap_error $e)
    {
        rcube::write_log('mailgrant', sprintf('%s: %s: %s', $this->rc->get_user_name(),
            $e->refused() ? 'refused by the directory' : 'the directory failed', $e->getMessage()));
        if ($e->refused()) {
            $box = $this->field('_mbox');
            return $this->say('refused', 'error', ['mailbox' => $box !== '' ? $box : $this->dir->user['mail']]);
        }
        $this->say('ldap_failed', 'error', ['reason' => $e->getMessage()]);
    }

    private function log($fmt, ...$args)
    {
        rcube::write_log('mailgrant', $this->rc->get_user_name() . ': ' . vsprintf($fmt, $args));
    }

    private function say($label, $type, array $vars = [])
    {
        $this->rc->output->show_message('mailgrant.' . $label, $type, $vars ?: null);
    }

    private function t($label, array $vars = [])
    {
        return $this->rc->gettext(['name' => 'mailgrant.' . $label, 'vars' => $vars]);
    }

    /** A value saying what to show (the address, or the form that was just posted). */
    private function input($name)
    {
        return (string) rcube_utils::get_input_string($name, rcube_utils::INPUT_GPC, true);
    }

    /** A field of a posted form (what to change): the body only. */
    private function field($name)
    {
        return (string) rcube_utils::get_input_string($name, rcube_utils::INPUT_POST, true);
    }

    private function form($do, array $hidden, $content, $id = null, $class = null)
    {
        $h = html::tag('input', ['type' => 'hidden', 'name' => '_token', 'value' => $this->rc->get_request_token()])
            . html::tag('input', ['type' => 'hidden', 'name' => '_do', 'value' => $do]);
        foreach ($hidden as $k => $v) {
            $h .= html::tag('input', ['type' => 'hidden', 'name' => $k, 'value' => $v]);
        }
        $url = $this->rc->url(['_action' => 'plugin.mailgrant-' . $this->page]);
        // the main forms in one wrapping row, the per-row ones inline (no stylesheet of our
        // own: Elastic's classes and a few inline rules)
        $style = $id ? 'display:flex;flex-wrap:wrap;gap:.5em;align-items:center;margin:1em 0'
                     : 'display:inline-flex;gap:.3em;align-items:center;margin:0';
        return html::tag('form', ['method' => 'post', 'action' => $url, 'id' => $id, 'style' => $style,
                                  'class' => trim('mailgrant-form ' . (string) $class), 'data-do' => $do], $h . $content);
    }

    private function button_form($do, array $hidden, $label = null)
    {
        return $this->form($do, $hidden, html::tag('button', ['type' => 'submit', 'class' => 'btn btn-danger mailgrant-' . $do],
            rcube::Q($this->t($label ?: $do))), null, 'mailgrant-inline');
    }

    private function box($title, $content)
    {
        return html::div(['class' => 'formcontent mailgrant-page', 'id' => 'mailgrant-' . $this->page,
                          'style' => 'overflow-y:auto;padding:1em'],
            html::tag('h2', null, rcube::Q($title)) . $content);
    }
}
