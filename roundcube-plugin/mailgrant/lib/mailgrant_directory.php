<?php

/**
 * mailgrant_directory: the plugin's LDAP session, bound as the logged-in person.
 *
 * Every write goes out under the person's own DN and password, so slapd's ACLs
 * (ldap-schema/selfservice-acl.*) are the only authority on what they may change: the
 * plugin never decides who may manage a mailbox, it asks and reports slapd's answer.
 * Reads use the same session (a site whose ACLs hide grants from their own people
 * shows less, never more).
 *
 * Limits: every call has a network and a server time limit; values put into filters
 * are escaped (ldap_escape, RFC 4515); entry counts are bounded (MAX_ENTRIES), and a
 * bigger answer is an error that names the limit.
 *
 * @license GPL-3.0-or-later
 */
class mailgrant_directory
{
    const MAX_ENTRIES = 2000;
    // search scopes (PHP's ldap extension has functions per scope, no constants)
    const BASE = 'base';
    const ONE = 'one';
    const SUB = 'sub';
    const MAX_VALUE = 4096;

    /** @var resource|\LDAP\Connection|null */
    private $conn;
    private $cfg;
    /** @var string the logged-in person's DN */
    public $user_dn;
    /** @var array the logged-in person's entry: mail, cn, displayName, aliases */
    public $user;

    /**
     * @param array $cfg mailgrant_* settings (see config.inc.php.dist)
     */
    public function __construct(array $cfg)
    {
        $this->cfg = $cfg;
    }

    public function __destruct()
    {
        if ($this->conn) {
            @ldap_unbind($this->conn);
        }
    }

    /**
     * Finds the person by login (anonymously, or with the configured search account)
     * and binds as them. Throws mailgrant_ldap_error.
     */
    public function bind_as_user($login, $password)
    {
        if (!function_exists('ldap_connect')) {
            throw new mailgrant_ldap_error('PHP has no LDAP support (install php-ldap)', -1);
        }
        $this->conn = @ldap_connect($this->cfg['uri']);
        if (!$this->conn) {
            throw new mailgrant_ldap_error('bad LDAP URI ' . $this->cfg['uri'], -1);
        }
        ldap_set_option($this->conn, LDAP_OPT_PROTOCOL_VERSION, 3);
        ldap_set_option($this->conn, LDAP_OPT_REFERRALS, 0);
        ldap_set_option($this->conn, LDAP_OPT_NETWORK_TIMEOUT, $this->cfg['timeout']);
        ldap_set_option($this->conn, LDAP_OPT_TIMELIMIT, $this->cfg['timeout']);
        if (defined('LDAP_OPT_TIMEOUT')) {
            ldap_set_option($this->conn, LDAP_OPT_TIMEOUT, $this->cfg['timeout']);
        }
        if (!empty($this->cfg['starttls']) && !@ldap_start_tls($this->conn)) {
            $this->fail('StartTLS');
        }
        $ok = empty($this->cfg['search_dn'])
            ? @ldap_bind($this->conn)
            : @ldap_bind($this->conn, $this->cfg['search_dn'], $this->cfg['search_password']);
        if (!$ok) {
            $this->fail('bind for the user search');
        }
        $found = $this->find_person($login);
        if (!$found) {
            throw new mailgrant_ldap_error("no person with login '$login' in the directory", 32);
        }
        if ($password === '' || $password === null || !@ldap_bind($this->conn, $found['dn'], $password)) {
            $this->fail('bind as ' . $found['dn']);
        }
        $this->user_dn = $found['dn'];
        $this->user = $found;
    }

    /** A person by login, address or alias: ['dn','mail','name','aliases'] or null. */
    public function find_person($id)
    {
        $v = $this->esc($id);
        $filter = str_replace('%s', $v, $this->cfg['user_filter']);
        $rows = $this->search($this->cfg['base'], self::SUB, $filter,
            ['mail', 'cn', 'displayName', $this->cfg['alias_attribute'], 'preferredLanguage', 'objectClass']);
        return count($rows) == 1 ? $this->person_row($rows[0]) : null;
    }

    /**
     * A mailbox by address or alias, whatever its object classes (a shared mailbox need
     * not be a person the user filter finds): ['dn','mail','name',...] or null.
     */
    public function find_mailbox($address)
    {
        $v = $this->esc($address);
        $alias = $this->esc_attr($this->cfg['alias_attribute']);
        $rows = $this->search($this->cfg['base'], self::SUB, "(|(mail=$v)($alias=$v))",
            ['mail', 'cn', 'displayName', $this->cfg['alias_attribute'], 'preferredLanguage', 'objectClass']);
        return count($rows) == 1 ? $this->person_row($rows[0]) : null;
    }

    /** An attribute name from the configuration, as it may appear in a filter. */
    private function esc_attr($name)
    {
        return preg_match('/^[A-Za-z][A-Za-z0-9-]{0,63}\z/', $name) ? $name : 'mailLocalAddress';
    }

    /** A group by name or address: ['dn','mail','name','group'=>true] or null. */
    public function find_group($id)
    {
        $v = $this->esc(ltrim($id, '$'));
        $filter = '(&(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))(|(cn=' . $v . ')(mail=' . $v . ')))';
        $rows = $this->search($this->cfg['base'], self::SUB, $filter, ['cn', 'mail']);
        if (count($rows) != 1) {
            return null;
        }
        return ['dn' => $rows[0]['dn'], 'mail' => $rows[0]['mail'][0] ?? '', 'name' => $rows[0]['cn'][0] ?? '',
                'group' => true, 'aliases' => [], 'lang' => ''];
    }

    /** Any entry's display data by DN (person, group or mailbox); null if not readable. */
    public function read_entry($dn)
    {
        $rows = $this->search($dn, self::BASE, '(objectClass=*)',
            ['mail', 'cn', 'displayName', $this->cfg['alias_attribute'], 'preferredLanguage', 'objectClass'], true);
        return $rows ? $this->person_row($rows[0]) : null;
    }

    /** The DNs of the groups the person is in (member / uniqueMember, nested, bounded). */
    public function groups_of($dn, $depth = 8)
    {
        $seen = [];
        $frontier = [$dn];
        for ($level = 0; $level < $depth && $frontier; $level++) {
            $or = '';
            foreach ($frontier as $d) {
                $e = $this->esc($d);
                $or .= "(member=$e)(uniqueMember=$e)";
            }
            $rows = $this->search($this->cfg['base'], self::SUB,
                '(&(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))(|' . $or . '))', ['cn']);
            $frontier = [];
            foreach ($rows as $r) {
                $k = strtolower($r['dn']);
                if (!isset($seen[$k])) {
                    $seen[$k] = $r['dn'];
                    $frontier[] = $r['dn'];
                }
            }
        }
        return array_values($seen);
    }

    /** The grants directly below a mailbox entry. */
    public function grants_below($mailbox_dn)
    {
        $rows = $this->search($mailbox_dn, self::ONE, '(objectClass=mailGrant)', $this->grant_attrs());
        return array_map([$this, 'grant_row'], $rows);
    }

    /** Every grant naming one of $dns (the person, their groups). */
    public function grants_naming(array $dns)
    {
        $or = '';
        foreach ($dns as $d) {
            $or .= '(mailGrantee=' . $this->esc($d) . ')';
        }
        $rows = $this->search($this->cfg['base'], self::SUB, '(&(objectClass=mailGrant)(|' . $or . '))',
            $this->grant_attrs());
        return array_map([$this, 'grant_row'], $rows);
    }

    public function add($dn, array $attrs)
    {
        if (!@ldap_add($this->conn, $dn, $attrs)) {
            $this->fail('add ' . $dn);
        }
    }

    public function modify($dn, array $replace = [], array $add = [], array $delete = [])
    {
        if ($replace && !@ldap_mod_replace($this->conn, $dn, $replace)) {
            $this->fail('modify ' . $dn);
        }
        if ($add && !@ldap_mod_add($this->conn, $dn, $add)) {
            $this->fail('modify ' . $dn);
        }
        if ($delete && !@ldap_mod_del($this->conn, $dn, $delete)) {
            $this->fail('modify ' . $dn);
        }
    }

    public function delete($dn)
    {
        if (!@ldap_delete($this->conn, $dn)) {
            $this->fail('delete ' . $dn);
        }
    }

    /** The parent of a DN (the grant's mailbox): everything after the first unescaped comma. */
    public static function parent_dn($dn)
    {
        if (!preg_match('/^(?:[^,\\\\]|\\\\.)*,(.+)$/s', $dn, $m)) {
            return '';
        }
        return $m[1];
    }

    public static function same_dn($a, $b)
    {
        $norm = function ($d) {
            return strtolower(preg_replace('/\s*,\s*/', ',', trim($d)));
        };
        return $norm($a) === $norm($b);
    }

    public function esc($v)
    {
        return ldap_escape((string) $v, '', LDAP_ESCAPE_FILTER);
    }

    public function esc_dn($v)
    {
        return ldap_escape((string) $v, '', LDAP_ESCAPE_DN);
    }

    private function grant_attrs()
    {
        return ['cn', 'mailGrantee', 'mailGrantFolder', 'mailGrantRights', 'mailGrantSend', 'mailGrantNotBefore',
                'mailGrantNotAfter', 'mailGrantPending', 'description', 'createTimestamp', 'creatorsName'];
    }

    private function grant_row(array $r)
    {
        return [
            'dn'         => $r['dn'],
            'mailbox_dn' => self::parent_dn($r['dn']),
            'cn'         => $r['cn'][0] ?? '',
            'grantees'   => $r['mailgrantee'] ?? [],
            'folders'    => $r['mailgrantfolder'] ?? [],
            'rights'     => $r['mailgrantrights'][0] ?? '',
            'send'       => $r['mailgrantsend'] ?? [],
            'not_before' => $r['mailgrantnotbefore'][0] ?? '',
            'not_after'  => $r['mailgrantnotafter'][0] ?? '',
            'pending'    => strtoupper($r['mailgrantpending'][0] ?? '') === 'TRUE',
            'created'    => $r['createtimestamp'][0] ?? '',
        ];
    }

    private function person_row(array $r)
    {
        $classes = array_map('strtolower', $r['objectclass'] ?? []);
        $alias = strtolower($this->cfg['alias_attribute']);
        return [
            'dn'      => $r['dn'],
            'mail'    => $r['mail'][0] ?? '',
            'name'    => $r['displayname'][0] ?? ($r['cn'][0] ?? ''),
            'aliases' => $r[$alias] ?? [],
            'lang'    => $r['preferredlanguage'][0] ?? '',
            'shared'  => in_array('mailsharedmailbox', $classes),
            'group'   => in_array('groupofnames', $classes) || in_array('groupofuniquenames', $classes),
        ];
    }

    /**
     * One search; rows as ['dn' => DN, lowercased attribute => [values]]. A missing
     * base with $quiet gives [] (an entry the person may not read, or gone).
     */
    private function search($base, $scope, $filter, array $attrs, $quiet = false)
    {
        $fn = $scope == self::BASE ? 'ldap_read' : ($scope == self::ONE ? 'ldap_list' : 'ldap_search');
        $res = @$fn($this->conn, $base, $filter, $attrs, 0, self::MAX_ENTRIES + 1, $this->cfg['timeout']);
        if ($res === false) {
            $errno = ldap_errno($this->conn);
            if ($quiet && ($errno == 32 || $errno == 50)) {
                return [];
            }
            if ($errno == 4) {
                throw new mailgrant_ldap_error('more than ' . self::MAX_ENTRIES . ' entries (mailgrant_directory::MAX_ENTRIES)', 4);
            }
            $this->fail('search ' . $filter);
        }
        $entries = ldap_get_entries($this->conn, $res);
        ldap_free_result($res);
        if ($entries['count'] > self::MAX_ENTRIES) {
            throw new mailgrant_ldap_error('more than ' . self::MAX_ENTRIES . ' entries (mailgrant_directory::MAX_ENTRIES)', 4);
        }
        $rows = [];
        for ($i = 0; $i < $entries['count']; $i++) {
            $e = $entries[$i];
            $row = ['dn' => $e['dn']];
            for ($j = 0; $j < $e['count']; $j++) {
                $name = $e[$j];
                $vals = [];
                for ($k = 0; $k < $e[$name]['count']; $k++) {
                    $vals[] = substr((string) $e[$name][$k], 0, self::MAX_VALUE);
                }
                $row[$name] = $vals;
            }
            $rows[] = $row;
        }
        return $rows;
    }

    private function fail($what)
    {
        $errno = $this->conn ? ldap_errno($this->conn) : -1;
        $text = $this->conn ? ldap_error($this->conn) : 'no connection';
        throw new mailgrant_ldap_error("$what: $text", $errno);
    }
}

/** An LDAP answer other than success; code is the LDAP result code (50 = refused by the ACLs). */
class mailgrant_ldap_error extends Exception
{
    public function refused()
    {
        return $this->getCode() == 50;
    }
}
