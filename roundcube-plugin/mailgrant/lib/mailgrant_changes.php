<?php

/**
 * mailgrant_changes: what the pages' form posts do -- each one LDAP change made as the
 * logged-in person (mailgrant_pages::run checked Roundcube's request token first).
 * slapd's answer is the decision; a refusal surfaces as mailgrant_ldap_error and is
 * shown by mailgrant_pages::refused. Used by mailgrant_pages (a trait: it shares the
 * page's session, settings and helpers).
 *
 * @license GPL-3.0-or-later
 */
trait mailgrant_changes
{
    private function add_delegate(array $box)
    {
        $who = $this->resolve($this->field('_who'), true);
        $send = $this->field('_send') === 'sendOnBehalf' ? 'sendOnBehalf' : 'sendAs';
        if (!$who) {
            return;
        }
        $g = $this->grant_for($box, $who['dn']);
        if ($g && $g['pending']) {
            // a send right added to an invitation would do nothing until it is accepted,
            // and go if it is declined: say so instead of announcing a delegate
            return $this->say('pending_first', 'error', ['who' => $who['mail'] ?: $who['name']]);
        }
        if ($g && mailgrant_model::has_send($g, $send)) {
            return $this->say('delegate_exists', 'notice', ['who' => $who['mail'] ?: $who['name']]);
        }
        if ($g) {
            $this->dir->modify($g['dn'], [], ['mailGrantSend' => [$send]]);
        } else {
            $this->dir->add($this->new_dn('delegate', $who, $box), [
                'objectClass'   => ['top', 'mailGrant'],
                'cn'            => $this->last_cn,
                'mailGrantee'   => [$who['dn']],
                'mailGrantSend' => [$send],
                'description'   => 'delegate added in webmail by ' . $this->dir->user['mail'],
            ]);
        }
        $this->log('delegate %s %s on %s', $send, $who['dn'], $box['dn']);
        $this->say('delegate_added', 'confirmation', ['who' => $who['mail'] ?: $who['name']]);
        $this->notify('grant', $who, $box, ['folders' => [], 'rights' => '', 'send' => [$send],
                                            'not_after' => $g['not_after'] ?? '']);
    }

    private function remove_delegate(array $box)
    {
        $g = $this->grant_by_dn($box, $this->field('_grant'));
        $send = $this->field('_send') === 'sendOnBehalf' ? 'sendOnBehalf' : 'sendAs';
        if (!$g) {
            return;
        }
        $left = array_values(array_filter($g['send'], function ($s) use ($send) {
            return strcasecmp($s, $send) != 0;
        }));
        if (!$g['folders'] && !$left) {
            $this->dir->delete($g['dn']);       // it granted nothing else
        } else {
            $this->dir->modify($g['dn'], [], [], ['mailGrantSend' => [$this->stored_value($g['send'], $send)]]);
        }
        $this->log('delegate %s removed from %s', $send, $g['dn']);
        $this->say('delegate_removed', 'confirmation');
        foreach ($g['grantees'] as $gdn) {
            $who = $this->dir->read_entry($gdn);
            if ($who && !$who['group']) {
                $this->notify('revoke', $who, $box, ['folders' => [], 'rights' => '', 'send' => [$send],
                                                     'not_after' => '']);
            }
        }
    }

    private function invite(array $box)
    {
        $who = $this->resolve($this->field('_who'), false);
        if (!$who) {
            return;
        }
        $type = $this->field('_type');
        if (!in_array($type, mailgrant_model::TYPES, true)) {
            return $this->say('badrequest', 'error');
        }
        $folder = $this->field('_folder');
        if ($folder === '' || strlen($folder) > 512 || preg_match('/[\x00-\x1f\x7f]/', $folder)) {
            return $this->say('badrequest', 'error');   // never widened to every folder
        }
        if ($this->grant_for($box, $who['dn'])) {
            return $this->say('already_collaborator', 'error', ['who' => $who['mail']]);
        }
        list($role, $send_as) = mailgrant_model::type_to_grant($type);
        $attrs = [
            'objectClass'      => ['top', 'mailGrant'],
            'cn'               => null,
            'mailGrantee'      => [$who['dn']],
            'mailGrantFolder'  => [$folder],
            'mailGrantRights'  => [$role],
            'mailGrantPending' => ['TRUE'],
            'description'      => 'invited in webmail by ' . $this->dir->user['mail'],
        ];
        if ($send_as) {
            $attrs['mailGrantSend'] = ['sendAs'];
        }
        $dn = $this->new_dn('invite', $who, $box);
        $attrs['cn'] = $this->last_cn;
        $this->dir->add($dn, $attrs);
        $this->log('invited %s to %s of %s as %s', $who['dn'], $folder, $box['dn'], $type);
        $this->say('invited', 'confirmation', ['who' => $who['mail']]);
        $this->notify('invite', $who, $box, ['folders' => [$folder], 'rights' => $role,
                                             'send' => $send_as ? ['sendAs'] : [], 'not_after' => '']);
    }

    private function change_type(array $box)
    {
        $g = $this->grant_by_dn($box, $this->field('_grant'));
        $type = $this->field('_type');
        if (!$g) {
            return;
        }
        if (!in_array($type, mailgrant_model::TYPES, true)) {
            return $this->say('badrequest', 'error');
        }
        list($role, $send_as) = mailgrant_model::type_to_grant($type);
        $send = array_values(array_filter($g['send'], function ($s) {
            return strcasecmp($s, 'sendAs') != 0;
        }));
        if ($send_as) {
            $send[] = 'sendAs';
        }
        $replace = ['mailGrantRights' => [$role]];
        if ($send != $g['send']) {
            $replace['mailGrantSend'] = $send;     // [] removes the attribute
        }
        $this->dir->modify($g['dn'], $replace);
        $this->log('changed %s to %s', $g['dn'], $type);
        $this->say('changed', 'confirmation');
    }

    /**
     * Takes the person's folder access away. Send rights on the same grant (Settings >
     * Delegates) stay: they go on that page; a grant left with nothing is deleted.
     */
    private function remove_collaborator(array $box)
    {
        $g = $this->grant_by_dn($box, $this->field('_grant'));
        if (!$g) {
            return;
        }
        if ($g['send'] && !$g['pending']) {
            $drop = ['mailGrantFolder' => $g['folders']];
            if ($g['rights'] !== '') {
                $drop['mailGrantRights'] = [$g['rights']];
            }
            $this->dir->modify($g['dn'], [], [], $drop);
        } else {
            $this->dir->delete($g['dn']);
        }
        $this->log('removed folder access of %s', $g['dn']);
        $this->say('removed', 'confirmation');
        if (!$g['pending']) {
            foreach ($g['grantees'] as $gdn) {
                $who = $this->dir->read_entry($gdn);
                if ($who && !$who['group']) {
                    $this->notify('revoke', $who, $box, ['send' => []] + $g);
                }
            }
        }
    }

    /** Accept (remove mailGrantPending) or decline (delete) an invitation naming me. */
    private function accept($yes)
    {
        $dn = $this->field('_grant');
        $g = null;
        foreach ($this->dir->grants_naming([$this->dir->user_dn]) as $cand) {
            if (mailgrant_directory::same_dn($cand['dn'], $dn)) {
                $g = $cand;
            }
        }
        if (!$g || !$g['pending']) {
            return $this->say('no_invitation', 'error');
        }
        $state = mailgrant_model::state($g, time(), mailgrant_model::duration($this->cfg['expire_after']));
        if ($yes && $state === 'expired') {
            return $this->say('invitation_expired', 'error');
        }
        $box = $this->dir->read_entry($g['mailbox_dn']);
        if (!$yes) {
            $this->dir->delete($g['dn']);
            $this->log('declined %s', $g['dn']);
            return $this->say('declined', 'confirmation');
        }
        $this->dir->modify($g['dn'], [], [], ['mailGrantPending' => ['TRUE']]);
        $this->log('accepted %s', $g['dn']);
        $name = trim($this->field('_name'));
        $paths = $this->paths_of($g, $box);
        if ($paths) {
            try {
                $this->rc->get_storage()->subscribe($paths);
            } catch (Exception $e) {
                rcube::write_log('errors', 'mailgrant: subscribing ' . implode(', ', $paths) . ': ' . $e->getMessage());
            }
            if ($name !== '') {
                $this->store_names($paths, $name);
            }
        }
        $this->p->sync_identities();
        $this->say('accepted', 'confirmation', ['mailbox' => $box ? $box['mail'] : $g['mailbox_dn']]);
    }

    private function save_name()
    {
        $dn = $this->field('_grant');
        foreach ($this->my_grants() as $g) {
            if (mailgrant_directory::same_dn($g['dn'], $dn)) {
                $box = $this->dir->read_entry($g['mailbox_dn']);
                $this->store_names($this->paths_of($g, $box), trim($this->field('_name')));
                return $this->say('name_saved', 'confirmation');
            }
        }
        $this->say('no_invitation', 'error');
    }
}
