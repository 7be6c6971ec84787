<?php

/**
 * mailgrant_views: the HTML of the three pages (Delegates, Collaborators, Shared with
 * me), built with Roundcube's html classes; every value shown goes through rcube::Q.
 * Used by mailgrant_pages (a trait: it shares the page's session and helpers).
 *
 * @license GPL-3.0-or-later
 */
trait mailgrant_views
{
    private function show_delegates()
    {
        $box = $this->mailbox_from_request();
        $table = new html_table(['class' => 'records-table mailgrant-table', 'id' => 'mailgrant-delegates', 'cols' => 4]);
        $table->add_header(null, $this->t('person'));
        $table->add_header(null, $this->t('right'));
        $table->add_header(null, $this->t('state'));
        $table->add_header(null, '');
        $now = time();
        $count = 0;
        foreach ($this->dir->grants_below($box['dn']) as $g) {
            foreach ($g['send'] as $send) {
                $table->add_row(['data-grantee' => $this->grantees_text($g), 'data-send' => $send]);
                $table->add(null, rcube::Q($this->grantees_text($g)));
                $table->add(null, rcube::Q($this->t(strcasecmp($send, 'sendAs') == 0 ? 'send_as' : 'send_on_behalf')));
                $table->add(null, rcube::Q($this->state_text($g, $now)));
                $table->add(null, $this->button_form('remove', ['_grant' => $g['dn'], '_send' => $send, '_mbox' => $box['mail']]));
                $count++;
            }
        }
        if (!$count) {
            $table->add(['colspan' => 4, 'class' => 'mailgrant-empty'], rcube::Q($this->t('no_delegates')));
        }
        $send = new html_select(['name' => '_send', 'id' => 'mailgrant-send', 'class' => 'custom-select', 'style' => 'width:auto']);
        $send->add($this->t('send_as'), 'sendAs');
        $send->add($this->t('send_on_behalf'), 'sendOnBehalf');
        $add = $this->form('add', ['_mbox' => $box['mail']],
            html::label(['for' => 'mailgrant-who'], rcube::Q($this->t('person_or_group')))
            . (new html_inputfield(['name' => '_who', 'id' => 'mailgrant-who', 'size' => 40, 'class' => 'form-control',
                                   'style' => 'width:auto;flex:1 1 16em']))->show()
            . $send->show('sendAs')
            . html::tag('button', ['type' => 'submit', 'class' => 'btn btn-primary', 'id' => 'mailgrant-add'],
                rcube::Q($this->t('add_delegate'))), 'mailgrant-add-form');
        return $this->box($this->t('menu_delegates'),
            $this->mailbox_selector($box)
            . html::p(['class' => 'mailgrant-hint'], rcube::Q($this->t('delegates_hint', ['mailbox' => $box['mail']])))
            . $table->show() . $add);
    }

    private function show_collaborators()
    {
        $box = $this->mailbox_from_request();
        $now = time();
        $pending = new html_table(['class' => 'records-table mailgrant-table', 'id' => 'mailgrant-pending', 'cols' => 5]);
        $active = new html_table(['class' => 'records-table mailgrant-table', 'id' => 'mailgrant-active', 'cols' => 5]);
        foreach ([$pending, $active] as $t) {
            $t->add_header(null, $this->t('person'));
            $t->add_header(null, $this->t('access'));
            $t->add_header(null, $this->t('folders'));
            $t->add_header(null, $this->t('state'));
            $t->add_header(null, '');
        }
        $np = $na = 0;
        foreach ($this->dir->grants_below($box['dn']) as $g) {
            if (!$g['folders']) {
                continue;   // a delegate only: Settings > Delegates
            }
            $type = mailgrant_model::grant_type($g);
            $who = $this->grantees_text($g);
            $folders = rcube::Q(mailgrant_model::folders_text($g, $this->t('all_folders')));
            if ($g['pending']) {
                $pending->add_row(['data-grantee' => $who]);
                $pending->add(null, rcube::Q($who));
                $pending->add(null, rcube::Q($this->t('type_' . $type)));
                $pending->add(null, $folders);
                $pending->add(null, rcube::Q($this->state_text($g, $now)));
                $pending->add(null, $this->button_form('remove', ['_grant' => $g['dn'], '_mbox' => $box['mail']], 'cancel_invitation'));
                $np++;
            } else {
                $sel = new html_select(['name' => '_type', 'class' => 'custom-select', 'style' => 'width:auto']);
                foreach (mailgrant_model::TYPES as $t) {
                    $sel->add($this->t('type_' . $t), $t);
                }
                if ($type === 'custom' || $type === 'none') {
                    $sel->add($this->t('type_custom') . ' (' . mailgrant_model::letters($g['rights']) . ')', 'custom');
                }
                $active->add_row(['data-grantee' => $who, 'data-type' => $type]);
                $active->add(null, rcube::Q($who));
                $active->add(null, $this->form('change', ['_grant' => $g['dn'], '_mbox' => $box['mail']],
                    $sel->show($type) . html::tag('button', ['type' => 'submit', 'class' => 'btn btn-secondary mailgrant-change'],
                        rcube::Q($this->t('change'))), null, 'mailgrant-inline'));
                $active->add(null, $folders);
                $active->add(null, rcube::Q($this->state_text($g, $now)));
                $active->add(null, $this->button_form('remove', ['_grant' => $g['dn'], '_mbox' => $box['mail']]));
                $na++;
            }
        }
        if (!$np) {
            $pending->add(['colspan' => 5, 'class' => 'mailgrant-empty'], rcube::Q($this->t('no_pending')));
        }
        if (!$na) {
            $active->add(['colspan' => 5, 'class' => 'mailgrant-empty'], rcube::Q($this->t('no_active')));
        }
        $type = new html_select(['name' => '_type', 'id' => 'mailgrant-type', 'class' => 'custom-select', 'style' => 'width:auto']);
        foreach (mailgrant_model::TYPES as $t) {
            $type->add($this->t('type_' . $t), $t);
        }
        $folder = new html_select(['name' => '_folder', 'id' => 'mailgrant-folder', 'class' => 'custom-select', 'style' => 'width:auto']);
        $folder->add($this->t('all_folders'), '*');
        $folder->add('INBOX', 'INBOX');
        if (mailgrant_directory::same_dn($box['dn'], $this->dir->user_dn)) {
            foreach ($this->rc->get_storage()->list_folders_subscribed('', '*', 'mail') as $f) {
                if ($f !== 'INBOX' && strpos($f, 'shared/') !== 0) {
                    $folder->add($f, $f);
                }
            }
        }
        $invite = $this->form('invite', ['_mbox' => $box['mail']],
            html::label(['for' => 'mailgrant-who'], rcube::Q($this->t('address')))
            . (new html_inputfield(['name' => '_who', 'id' => 'mailgrant-who', 'size' => 40, 'class' => 'form-control',
                                   'style' => 'width:auto;flex:1 1 16em']))->show()
            . $type->show('modify') . $folder->show('*')
            . html::tag('button', ['type' => 'submit', 'class' => 'btn btn-primary', 'id' => 'mailgrant-invite'],
                rcube::Q($this->t('invite'))), 'mailgrant-invite-form');
        return $this->box($this->t('menu_collaborators'),
            $this->mailbox_selector($box)
            . html::p(['class' => 'mailgrant-hint'], rcube::Q($this->t('collaborators_hint', ['mailbox' => $box['mail']])))
            . $invite
            . html::tag('h3', null, rcube::Q($this->t('pending'))) . $pending->show()
            . html::tag('h3', null, rcube::Q($this->t('active'))) . $active->show());
    }

    private function show_shared()
    {
        $now = time();
        $expire = mailgrant_model::duration($this->cfg['expire_after']);
        $prefs = $this->rc->user->get_prefs();
        $names = (array) ($prefs['mailgrant_names'] ?? []);
        $inv = new html_table(['class' => 'records-table mailgrant-table', 'id' => 'mailgrant-invitations', 'cols' => 4]);
        $act = new html_table(['class' => 'records-table mailgrant-table', 'id' => 'mailgrant-shares', 'cols' => 5]);
        foreach ([$inv, $act] as $t) {
            $t->add_header(null, $this->t('mailbox'));
            $t->add_header(null, $this->t('access'));
            $t->add_header(null, $this->t('folders'));
        }
        $inv->add_header(null, '');
        $act->add_header(null, $this->t('state'));
        $act->add_header(null, $this->t('my_name'));
        $ni = $na = 0;
        foreach ($this->my_grants() as $g) {
            $box = $this->dir->read_entry($g['mailbox_dn']);
            $boxtext = $box ? trim($box['name'] . ' <' . $box['mail'] . '>') : $g['mailbox_dn'];
            $access = $this->t('type_' . mailgrant_model::grant_type($g)) . $this->send_text($g);
            $folders = rcube::Q(mailgrant_model::folders_text($g, $this->t('all_folders')));
            $state = mailgrant_model::state($g, $now, $expire);
            if ($g['pending']) {
                $named_me = false;
                foreach ($g['grantees'] as $gdn) {
                    $named_me = $named_me || mailgrant_directory::same_dn($gdn, $this->dir->user_dn);
                }
                if (!$named_me) {
                    continue;   // an invitation to a group: its admin answers it
                }
                $buttons = '';
                if ($state === 'pending') {
                    $buttons .= $this->form('accept', ['_grant' => $g['dn']],
                        (new html_inputfield(['name' => '_name', 'class' => 'form-control mailgrant-name',
                                              'placeholder' => $this->t('my_name_placeholder')]))->show()
                        . html::tag('button', ['type' => 'submit', 'class' => 'btn btn-primary mailgrant-accept'],
                            rcube::Q($this->t('accept'))), null, 'mailgrant-inline');
                } else {
                    $buttons .= html::span('mailgrant-expired', rcube::Q($this->t('state_expired')));
                }
                $buttons .= $this->button_form('decline', ['_grant' => $g['dn']], 'decline');
                $inv->add_row(['data-mailbox' => $box ? $box['mail'] : '']);
                $inv->add(null, rcube::Q($boxtext) . html::br()
                    . html::span('mailgrant-invited', rcube::Q($this->t('invited_on', ['date' => mailgrant_model::date_text($g['created'])]))));
                $inv->add(null, rcube::Q($access));
                $inv->add(null, $folders);
                $inv->add(null, $buttons);
                $ni++;
                continue;
            }
            if (!$g['folders'] && !$g['send']) {
                continue;
            }
            $paths = $this->paths_of($g, $box);
            $current = $paths ? ($names[$paths[0]] ?? '') : '';
            $act->add_row(['data-mailbox' => $box ? $box['mail'] : '']);
            $act->add(null, rcube::Q($boxtext));
            $act->add(null, rcube::Q($access));
            $act->add(null, $folders . ($paths ? html::br() . html::span('mailgrant-path', rcube::Q(implode(', ', $paths))) : ''));
            $act->add(null, rcube::Q($this->state_text($g, $now)));
            $act->add(null, $paths ? $this->form('name', ['_grant' => $g['dn']],
                (new html_inputfield(['name' => '_name', 'class' => 'form-control mailgrant-name']))->show($current)
                . html::tag('button', ['type' => 'submit', 'class' => 'btn btn-secondary mailgrant-save-name'],
                    rcube::Q($this->t('save'))), null, 'mailgrant-inline') : '');
            $na++;
        }
        if (!$ni) {
            $inv->add(['colspan' => 4, 'class' => 'mailgrant-empty'], rcube::Q($this->t('no_invitations')));
        }
        if (!$na) {
            $act->add(['colspan' => 5, 'class' => 'mailgrant-empty'], rcube::Q($this->t('no_shares')));
        }
        return $this->box($this->t('menu_shared'),
            html::tag('h3', null, rcube::Q($this->t('invitations'))) . $inv->show()
            . html::tag('h3', null, rcube::Q($this->t('shares'))) . $act->show()
            . html::p(['class' => 'mailgrant-hint'], rcube::Q($this->t('shared_hint'))));
    }
}
