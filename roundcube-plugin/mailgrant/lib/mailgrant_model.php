<?php

/**
 * mailgrant_model: what the pages show and write, in the grant model's own terms
 * (DESIGN.md "The grant model"). Pure functions, no LDAP and no Roundcube, so
 * tests/roundcube/test_selfservice_unit.php covers them without servers.
 *
 * - Access types (the multi-user mailbox story): read only, read and modify, full
 *   (read, modify and send as), administrator (full, and may manage the mailbox's
 *   collaborators) -- mapped onto the roles and mailGrantSend of ONE grant per grantee
 *   and mailbox, the same rule the admin CLI follows.
 * - The state of a grant for the page: pending (invited), expired invitation, not yet
 *   valid, ended, active. The policy daemon, the milter and the Dovecot plugin decide
 *   access; these states only say what to show and which buttons make sense.
 *
 * @license GPL-3.0-or-later
 */
class mailgrant_model
{
    const ROLES = ['reader' => 'lrs', 'editor' => 'lrswipkxte', 'admin' => 'lrswipkxtea'];
    const TYPES = ['read', 'modify', 'full', 'admin'];

    /** Access type -> [role, sendAs?]. */
    public static function type_to_grant($type)
    {
        switch ($type) {
            case 'read':   return ['reader', false];
            case 'modify': return ['editor', false];
            case 'full':   return ['editor', true];
            case 'admin':  return ['admin', true];
        }
        throw new InvalidArgumentException("unknown access type '$type'");
    }

    /** Canonical RFC 4314 letters of a role name or letters ('' if none). */
    public static function letters($rights)
    {
        $r = strtolower(trim((string) $rights));
        if (isset(self::ROLES[$r])) {
            return self::ROLES[$r];
        }
        $out = '';
        foreach (str_split('lrswipkxtea') as $c) {
            if ($r !== '' && strpos($r, $c) !== false) {
                $out .= $c;
            }
        }
        return $out;
    }

    /** The access type a grant shows as: read / modify / full / admin / custom / none. */
    public static function grant_type(array $g)
    {
        $letters = self::letters($g['rights']);
        $send_as = self::has_send($g, 'sendAs');
        if ($letters === '') {
            return 'none';
        }
        if ($letters === self::ROLES['admin']) {
            return $send_as ? 'admin' : 'custom';
        }
        if ($letters === self::ROLES['editor']) {
            return $send_as ? 'full' : 'modify';
        }
        if ($letters === self::ROLES['reader'] && !$send_as) {
            return 'read';
        }
        return 'custom';
    }

    public static function has_send(array $g, $which)
    {
        foreach ($g['send'] as $s) {
            if (strcasecmp($s, $which) == 0) {
                return true;
            }
        }
        return false;
    }

    /** GeneralizedTime (YYYYMMDDHHMMSS[.f]Z or with an offset) -> Unix time, or null. */
    public static function gentime($v)
    {
        if (!preg_match('/^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,]\d+)?(Z|[+-]\d{4})\z/', (string) $v, $m)) {
            return null;
        }
        $t = gmmktime((int) $m[4], (int) ($m[5] ?: 0), (int) ($m[6] ?: 0), (int) $m[2], (int) $m[3], (int) $m[1]);
        if ($m[7] !== 'Z') {
            $sign = $m[7][0] == '-' ? -1 : 1;
            $t -= $sign * ((int) substr($m[7], 1, 2) * 3600 + (int) substr($m[7], 3, 2) * 60);
        }
        return $t;
    }

    /**
     * Postfix-style duration ("14d", "36h", "0" = never) -> seconds; null if malformed.
     * A bare number is days, as in mailgrant.yaml's invitations.expire_after.
     */
    public static function duration($v)
    {
        if (!preg_match('/^(\d{1,9})([smhdw]?)\z/', trim((string) $v), $m)) {
            return null;
        }
        $mult = ['' => 86400, 's' => 1, 'm' => 60, 'h' => 3600, 'd' => 86400, 'w' => 604800];
        return (int) $m[1] * $mult[$m[2]];
    }

    /**
     * pending / expired (an invitation past invitations.expire_after, or whose age is
     * unreadable) / not-yet / ended / active.
     */
    public static function state(array $g, $now, $expire_after_s)
    {
        if ($g['pending']) {
            if ($expire_after_s === 0) {
                return 'pending';
            }
            $created = self::gentime($g['created']);
            if ($created === null || $expire_after_s === null || $now >= $created + $expire_after_s) {
                return 'expired';
            }
            return 'pending';
        }
        $nb = $g['not_before'] !== '' ? self::gentime($g['not_before']) : null;
        $na = $g['not_after'] !== '' ? self::gentime($g['not_after']) : null;
        if (($g['not_before'] !== '' && $nb === null) || ($g['not_after'] !== '' && $na === null)) {
            return 'ended';   // an unreadable window gives nothing, as everywhere else
        }
        if ($nb !== null && $now < $nb) {
            return 'not-yet';
        }
        if ($na !== null && $now > $na) {
            return 'ended';   // the end second itself still counts, as in core/src/decision.cpp
        }
        return 'active';
    }

    /** The folders a grant shares, for people: "all folders" is '*'. */
    public static function folders_text(array $g, $all_label)
    {
        $out = [];
        foreach ($g['folders'] as $f) {
            $out[] = $f === '*' ? $all_label : $f;
        }
        return implode(', ', $out);
    }

    /**
     * The IMAP names under which a grant's folders appear in the grantee's shared
     * namespace ($prefix is e.g. "shared/alice@example.com/"): a pattern's fixed part.
     * The owner's INBOX is listed by Dovecot as the prefix without its separator
     * ("shared/alice@example.com"), which is also where "*" (the whole mailbox) starts.
     */
    public static function shared_paths(array $g, $prefix, $delim)
    {
        $out = [];
        foreach ($g['folders'] as $f) {
            $fixed = preg_replace('/[*%].*$/', '', $f);
            $fixed = rtrim($fixed, $delim);
            $out[] = ($fixed === '' || strcasecmp($fixed, 'INBOX') == 0) ? rtrim($prefix, $delim) : $prefix . $fixed;
        }
        return array_values(array_unique($out));
    }

    /** A new grant's RDN value: readable and unique enough ("invite-bob-3f9a1c"). */
    public static function new_cn($kind, $address)
    {
        $local = strtolower(preg_replace('/[^A-Za-z0-9]+/', '-', explode('@', $address)[0]));
        return $kind . '-' . trim(substr($local, 0, 40), '-') . '-' . bin2hex(random_bytes(3));
    }

    /** "2026-12-24" from GeneralizedTime, "" if none. */
    public static function date_text($gentime)
    {
        $t = self::gentime($gentime);
        return $t === null ? '' : gmdate('Y-m-d', $t);
    }
}
