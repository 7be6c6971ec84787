<?php

/**
 * mailgrant_identities: keeps the person's Roundcube identities in step with what
 * they may send as: their own address and aliases, and the address of every mailbox
 * whose active grant gives them (or a group they are in) sendAs or sendOnBehalf.
 *
 * Identities this plugin added are remembered in the user's preferences
 * (mailgrant_identities: identity id => address) and only those are ever removed,
 * when the grant is gone (edited or not: the address can no longer be used); the
 * identities the person made are theirs. One the person deleted is not offered again
 * while that grant lasts (mailgrant_identities_dismissed), but is after a new grant.
 * The list is an offer: the policy daemon and the milter decide each message (on
 * behalf: the milter adds Sender:), so a stale identity can never send.
 *
 * @license GPL-3.0-or-later
 */
class mailgrant_identities
{
    private $plugin;

    public function __construct(mailgrant $plugin)
    {
        $this->plugin = $plugin;
    }

    /** [address(lowercase) => display name] the person may send as. */
    public function sendable(mailgrant_directory $dir)
    {
        $out = [];
        $own = $dir->user;
        foreach (array_merge([$own['mail']], $own['aliases']) as $a) {
            if ($a !== '') {
                $out[strtolower($a)] = $own['name'];
            }
        }
        $cfg = $this->plugin->cfg();
        $now = time();
        $expire = mailgrant_model::duration($cfg['expire_after']);
        $grants = $dir->grants_naming(array_merge([$dir->user_dn], $dir->groups_of($dir->user_dn)));
        $mailboxes = [];
        foreach ($grants as $g) {
            if (!$g['send'] || mailgrant_model::state($g, $now, $expire) !== 'active') {
                continue;
            }
            if (!mailgrant_model::has_send($g, 'sendAs') && !mailgrant_model::has_send($g, 'sendOnBehalf')) {
                continue;
            }
            $mdn = $g['mailbox_dn'];
            if (!isset($mailboxes[$mdn])) {
                $mailboxes[$mdn] = $dir->read_entry($mdn);
            }
            $box = $mailboxes[$mdn];
            if ($box && $box['mail'] !== '' && !isset($out[strtolower($box['mail'])])) {
                $out[strtolower($box['mail'])] = $box['name'];
            }
        }
        return $out;
    }

    public function sync()
    {
        $rc = $this->plugin->rc;
        $dir = $this->plugin->directory();
        $want = $this->sendable($dir);
        $prefs = $rc->user->get_prefs();
        $ours = (array) ($prefs['mailgrant_identities'] ?? []);
        $dismissed = (array) ($prefs['mailgrant_identities_dismissed'] ?? []);
        $have = [];
        foreach ($rc->user->list_identities() as $ident) {
            $have[strtolower($ident['email'])][] = $ident['identity_id'];
        }
        $changed = false;
        // gone: an identity we added whose address may no longer be used
        foreach ($ours as $iid => $addr) {
            $still_there = in_array($iid, $have[strtolower($addr)] ?? []);
            if (!$still_there) {
                unset($ours[$iid]);           // deleted by the person: not offered again
                $dismissed[strtolower($addr)] = true;
                $changed = true;
            } elseif (!isset($want[strtolower($addr)])) {
                $rc->user->delete_identity($iid);
                unset($ours[$iid]);
                $changed = true;
                rcube::write_log('mailgrant', sprintf('identity %s removed for %s (no grant left)',
                    $addr, $rc->get_user_name()));
            }
        }
        // new: an address they may send as with no identity yet
        foreach ($dismissed as $addr => $_) {
            if (!isset($want[$addr])) {
                unset($dismissed[$addr]);     // that grant is gone: a new one offers it again
                $changed = true;
            }
        }
        foreach ($want as $addr => $name) {
            if (isset($have[$addr]) || isset($dismissed[$addr])) {
                continue;
            }
            $iid = $rc->user->insert_identity(['name' => $name, 'email' => $addr, 'standard' => 0]);
            if ($iid) {
                $ours[$iid] = $addr;
                $changed = true;
                rcube::write_log('mailgrant', sprintf('identity %s offered to %s', $addr, $rc->get_user_name()));
            }
        }
        if ($changed) {
            $rc->user->save_prefs(['mailgrant_identities' => $ours, 'mailgrant_identities_dismissed' => $dismissed]);
        }
    }
}
