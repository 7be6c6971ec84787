<?php
// Unit tests of roundcube-plugin/mailgrant's pure parts (no servers, no Roundcube):
// access types <-> grants, grant states, GeneralizedTime and durations, shared paths,
// language choice, and the notice template renderer, which must render every case of
// tests/fixtures/notices/render-cases.json exactly as the CLI's C++ renderer does.
//
//   php tests/roundcube/test_selfservice_unit.php
// Prints one line per group and "ok N cases"; exits 1 on the first group with failures.

$root = dirname(__DIR__, 2);
require $root . '/roundcube-plugin/mailgrant/lib/mailgrant_model.php';
require $root . '/roundcube-plugin/mailgrant/lib/mailgrant_notice.php';
require $root . '/roundcube-plugin/mailgrant/lib/mailgrant_notice_vars.php';

$failures = 0;
$cases = 0;
function check($what, $got, $want)
{
    global $failures, $cases;
    $cases++;
    if ($got !== $want) {
        $failures++;
        fwrite(STDERR, "FAIL $what\n  got:  " . var_export($got, true) . "\n  want: " . var_export($want, true) . "\n");
    }
}

function grant(array $over = [])
{
    return $over + ['rights' => '', 'send' => [], 'folders' => ['*'], 'pending' => false, 'created' => '',
                    'not_before' => '', 'not_after' => ''];
}

// access type -> role + sendAs -> the type shown again (round trip)
foreach (['read' => ['reader', false], 'modify' => ['editor', false], 'full' => ['editor', true],
          'admin' => ['admin', true]] as $type => $want) {
    check("type_to_grant $type", mailgrant_model::type_to_grant($type), $want);
    $g = grant(['rights' => $want[0], 'send' => $want[1] ? ['sendAs'] : []]);
    check("grant_type round trip $type", mailgrant_model::grant_type($g), $type);
}
// what a grant written elsewhere (CLI, IMAP SETACL, an LDAP admin) shows as
$shown = [
    [['rights' => 'lrs'], 'read'],
    [['rights' => 'rsl'], 'read'],                               // letters in any order
    [['rights' => 'lrswipkxte'], 'modify'],
    [['rights' => 'EDITOR', 'send' => ['SENDAS']], 'full'],      // any case
    [['rights' => 'editor', 'send' => ['sendOnBehalf']], 'modify'],
    [['rights' => 'reader', 'send' => ['sendAs']], 'custom'],    // read + send is no preset
    [['rights' => 'admin'], 'custom'],                           // admin without send
    [['rights' => 'lr'], 'custom'],
    [['rights' => ''], 'none'],
    [['rights' => 'zzz'], 'none'],                               // no valid letter
];
foreach ($shown as $i => list($over, $want)) {
    check("grant_type #$i", mailgrant_model::grant_type(grant($over)), $want);
}
check('letters role', mailgrant_model::letters('Admin'), 'lrswipkxtea');
check('letters canonical order', mailgrant_model::letters('ewrl'), 'lrwe');

// GeneralizedTime and durations
check('gentime Z', mailgrant_model::gentime('20300101000000Z'), gmmktime(0, 0, 0, 1, 1, 2030));
check('gentime minutes only', mailgrant_model::gentime('203001011230Z'), gmmktime(12, 30, 0, 1, 1, 2030));
check('gentime fraction', mailgrant_model::gentime('20300101000000.5Z'), gmmktime(0, 0, 0, 1, 1, 2030));
check('gentime offset', mailgrant_model::gentime('20300101020000+0200'), gmmktime(0, 0, 0, 1, 1, 2030));
foreach (['', 'garbage', '2030-01-01', '20300101000000', "20300101000000Z\n"] as $bad) {
    check('gentime bad ' . json_encode($bad), mailgrant_model::gentime($bad), null);
}
foreach (['14d' => 1209600, '36h' => 129600, '0' => 0, '90s' => 90, '14' => 1209600, '2w' => 1209600] as $in => $want) {
    check("duration $in", mailgrant_model::duration($in), $want);
}
foreach (['', '-1d', '1y', '1.5d', '99999999999d'] as $bad) {
    check('duration bad ' . json_encode($bad), mailgrant_model::duration($bad), null);
}

// states: invitations expire from their creation time; an unreadable age = expired
$now = gmmktime(12, 0, 0, 6, 15, 2030);
$day = 86400;
$states = [
    [['pending' => true, 'created' => '20300614120000Z'], 14 * $day, 'pending'],
    [['pending' => true, 'created' => '20300601120000Z'], 14 * $day, 'expired'],   // exactly 14 days
    [['pending' => true, 'created' => '20300101000000Z'], 0, 'pending'],           // 0 = never
    [['pending' => true, 'created' => ''], 14 * $day, 'expired'],
    [['pending' => true, 'created' => 'nonsense'], 14 * $day, 'expired'],
    [['pending' => true, 'created' => '20300614120000Z'], null, 'expired'],        // bad setting
    [[], 14 * $day, 'active'],
    [['not_before' => '20300616000000Z'], 14 * $day, 'not-yet'],
    [['not_after' => '20300615115959Z'], 14 * $day, 'ended'],
    [['not_after' => '20300615120000Z'], 14 * $day, 'active'],                     // the end second counts
    [['not_after' => 'soon'], 14 * $day, 'ended'],                                 // unreadable gives nothing
];
foreach ($states as $i => list($over, $expire, $want)) {
    check("state #$i", mailgrant_model::state(grant($over), $now, $expire), $want);
}

// where a grant's folders appear in the grantee's shared namespace
$p = 'shared/kadry@example.com/';
$paths = [
    [['INBOX'], ['shared/kadry@example.com']],          // Dovecot lists the owner's INBOX so
    [['inbox'], ['shared/kadry@example.com']],
    [['*'], ['shared/kadry@example.com']],
    [['Projects', 'Projects/*'], ['shared/kadry@example.com/Projects']],
    [['Archive/2030/*'], ['shared/kadry@example.com/Archive/2030']],
    [['%'], ['shared/kadry@example.com']],
];
foreach ($paths as $i => list($folders, $want)) {
    check("shared_paths #$i", mailgrant_model::shared_paths(grant(['folders' => $folders]), $p, '/'), $want);
}
check('new_cn shape', (bool) preg_match('/^invite-piotr-kowalski-[0-9a-f]{6}$/',
    mailgrant_model::new_cn('invite', 'Piotr.Kowalski@example.com')), true);

// language choice (RFC 2798 preferredLanguage, Accept-Language syntax)
$avail = ['de', 'en', 'it', 'pl', 'ru'];
$langs = [
    ['pl', 'pl'], ['pl-PL', 'pl'], ['pl-PL, en;q=0.8', 'pl'], ['fr, it;q=0.5, en;q=0.4', 'it'],
    ['en;q=0.2, ru;q=0.9', 'ru'], ['fr', 'en'], ['', 'en'], ['it;q=0', 'en'], ['IT', 'it'],
    ['pl_PL', 'en'],                          // not a language tag: skipped
    ['de;q=x, it', 'it'], ['de;q=1.5, it;q=0.5', 'it'], ['*, pl;q=0.5', 'en'], ['ru;q=0.5, *;q=0.8', 'en'],
    ['ru;q=0.5, it;q=0.5', 'ru'],             // ties in order
    [str_repeat('x', 70) . ', de', 'de'],     // an item over 64 bytes is skipped
    [str_repeat('x,', 2000), 'en'],
];
foreach ($langs as list($pref, $want)) {
    check('pick_language ' . substr($pref, 0, 30), mailgrant_notice::pick_language($pref, $avail, 'en'), $want);
}

// the template language, against the table the C++ renderer runs too
$table = $root . '/tests/fixtures/notices/render-cases.json';
if (!is_file($table)) {
    fwrite(STDERR, "FAIL missing $table\n");
    exit(1);
}
$shared = json_decode(file_get_contents($table), true);
if (!is_array($shared) || !$shared) {
    fwrite(STDERR, "FAIL $table is not a JSON array of cases\n");
    exit(1);
}
$n_shared = 0;
foreach ($shared as $i => $c) {
    $name = 'render-cases.json #' . $i . (isset($c['name']) ? ' (' . $c['name'] . ')' : '');
    $known = mailgrant_notice_vars::NAMES;
    try {
        $got = mailgrant_notice::render($c['template'], $c['vars'] ?? [], !empty($c['html']), $known, 'case');
        if (array_key_exists('error', $c)) {
            check($name, 'rendered: ' . $got, 'error ' . $c['error']);
        } else {
            check($name, $got, $c['expect']);
        }
    } catch (InvalidArgumentException $e) {
        // the same error as the C++ renderer (the table gives its start)
        $want = $c['error'] ?? null;
        check($name, $want !== null && strpos($e->getMessage(), $want) === 0 ? 'error ' . $want : 'error ' . $e->getMessage(),
              $want !== null ? 'error ' . $want : 'no error');
    }
    $n_shared++;
}

// every shipped template loads and renders in PHP too, with everything set and with nothing
$all = array_fill_keys(mailgrant_notice_vars::NAMES, '1');
foreach (glob($root . '/cli/notices/*', GLOB_ONLYDIR) as $dir) {
    $lang = basename($dir);
    foreach (['grant', 'invite', 'revoke', 'expiring'] as $kind) {
        foreach (['all set' => $all, 'nothing set' => []] as $label => $vars) {
            try {
                list($subject, $text, $html, ) = mailgrant_notice::compose([$root . '/cli/notices'], $lang, $kind, $vars,
                    mailgrant_notice_vars::NAMES);
                check("$lang/$kind ($label) renders", $subject !== '' && $text !== '' && $html !== '', true);
            } catch (Exception $e) {
                check("$lang/$kind ($label) renders", $e->getMessage(), 'no error');
            }
        }
    }
}

if ($failures) {
    fwrite(STDERR, "$failures of $cases cases failed\n");
    exit(1);
}
echo "ok $cases cases ($n_shared from render-cases.json)\n";
