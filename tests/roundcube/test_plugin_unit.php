<?php
/**
 * Unit check of roundcube-plugin/mailgrant/mailgrant_acl_errors.php against Roundcube's
 * own library (no server, no browser):
 *
 *   php tests/roundcube/test_plugin_unit.php [/usr/share/roundcube]
 *
 * Prints "ok <n> checks" and exits 0, or names the failed check and exits 1. Run by
 * test_roundcube_sharing.py (MailgrantPluginUnitTest).
 */
$rc_root = isset($argv[1]) ? $argv[1] : '/usr/share/roundcube';
require $rc_root . '/program/lib/Roundcube/bootstrap.php';
// rcube_utils::get_input_string() starts an rcube without a configuration: quiet
set_error_handler(function ($no, $str, $file) {
    return strpos($file, 'rcube_config.php') !== false;
});
require dirname(__DIR__, 2) . '/roundcube-plugin/mailgrant/mailgrant_acl_errors.php';

$checks = 0;
function check($cond, $what)
{
    global $checks;
    $checks++;
    if (!$cond) {
        fwrite(STDERR, "FAILED: $what\n");
        exit(1);
    }
}

// the part of rcmail the class uses
class fake_rcmail
{
    public $action = 'plugin.acl';
    public $storage;
    public function gettext($label)
    {
        $texts = ['acl.createerror' => 'Unable to add access rights',
                  'acl.updateerror' => 'Unable to update access rights',
                  'acl.deleteerror' => 'Unable to delete access rights'];
        return $texts[$label];
    }
}

function storage_after($line, $command = 'SETACL')
{
    $imap = (new ReflectionClass('rcube_imap'))->newInstanceWithoutConstructor();
    $imap->conn = new rcube_imap_generic();
    // what rcube_imap_generic::execute() does with tagged answers: an earlier command,
    // then the one under test
    $parse = new ReflectionMethod('rcube_imap_generic', 'parseResult');
    $parse->setAccessible(true);
    $parse->invoke($imap->conn, 'A0 NO [NOPERM] an earlier refusal', 'MYRIGHTS: ');
    $parse->invoke($imap->conn, 'A00 OK Getacl completed', 'GETACL: ');
    $parse->invoke($imap->conn, $line, $command . ': ');
    return $imap;
}

function exec_for($text)
{
    return 'this.acl_dummy(' . rcube_output::json_serialize('x', false, false) . ");\n"
        . 'this.display_message(' . rcube_output::json_serialize($text, false, false) . ',"error",0);' . "\n";
}

function run($act, $server_line, $exec, $action = 'plugin.acl')
{
    $_GET = $_POST = $_REQUEST = ['_act' => $act];
    $rc = new fake_rcmail();
    $rc->storage = storage_after($server_line, $act == 'delete' ? 'DELETEACL' : 'SETACL');
    $hook = new mailgrant_acl_errors($rc);
    $out = $hook->render_response(['response' => ['action' => $action, 'exec' => $exec]]);
    return $out['response']['exec'];
}

function html($exec)
{
    // the display_message argument (HTML), decoded from JSON as the browser does
    preg_match('/this\.display_message\(("(?:[^"\\\\]|\\\\.)*"),/', $exec, $m);
    return json_decode($m[1]);
}

function shown($exec)
{
    // the text the browser shows for that HTML (it has no elements: checked below)
    return html_entity_decode(html($exec), ENT_QUOTES | ENT_HTML5, 'UTF-8');
}

// the reason replaces nothing but the text
$exec = run('save', "A0003 NO [NOPERM] no person or group 'x@example.com' in the directory (0.031 + 0.000 + 0.030 secs).",
            exec_for('Unable to add access rights'));
check(shown($exec) === "Unable to add access rights: no person or group 'x@example.com' in the directory", 'save: ' . $exec);
check(strpos($exec, 'this.acl_dummy("x");') === 0, 'other commands kept');

// update and delete labels; UNAVAILABLE code stripped
$exec = run('save', 'A1 NO [UNAVAILABLE] LDAP unreachable, try again', exec_for('Unable to update access rights'));
check(shown($exec) === 'Unable to update access rights: LDAP unreachable, try again', 'update: ' . $exec);
$exec = run('delete', 'A1 NO [NOPERM] access comes from a pattern', exec_for('Unable to delete access rights'));
check(shown($exec) === 'Unable to delete access rights: access comes from a pattern', 'delete: ' . $exec);

// markup, quotes, script end, control and bidi characters, invalid UTF-8: escaped or removed
$hostile = "A1 NO [NOPERM] <img src=x onerror=alert(1)> \"q\" 'a' </script> \x01\x1b[31m\u{202E}rtl\xff&amp;";
$exec = run('save', $hostile, exec_for('Unable to add access rights'));
$text = html($exec);
check(strpos($text, '<') === false && strpos($text, '>') === false, 'no markup: ' . $text);
check(strpos($text, '&lt;img src=x onerror=alert(1)&gt;') !== false, 'markup escaped: ' . $text);
check(strpos($text, '&amp;amp;') !== false, 'character reference escaped: ' . $text);
check(!preg_match('/[\x00-\x1f\x7f]|\x{202E}/u', $text), 'no control/bidi characters: ' . json_encode($text));
check(strpos($exec, '</script>') === false && strpos($exec, "\n\"") === false, 'exec stays one JS call: ' . $exec);
check(json_decode(json_encode($text)) === $text && mb_check_encoding($text, 'UTF-8'), 'valid UTF-8');

// long text cut
$exec = run('save', 'A1 NO [NOPERM] ' . str_repeat('long ', 200), exec_for('Unable to add access rights'));
check(mb_strlen(shown($exec)) <= strlen('Unable to add access rights: ') + mailgrant_acl_errors::MAX_LENGTH, 'cut: ' . strlen(shown($exec)));
check(substr(shown($exec), -3) === "\u{2026}", 'ellipsis');

// left alone: OK answers, BAD, other actions, other sub-actions, other messages
$generic = exec_for('Unable to add access rights');
check(run('save', 'A1 OK Setacl complete', $generic) === $generic, 'after OK');
check(run('save', 'A1 BAD Error in IMAP command', $generic) === $generic, 'after BAD');
check(run('save', 'A1 NO [NOPERM] x', $generic, 'plugin.other') === $generic, 'other action');
check(run('list', 'A1 NO [NOPERM] x', $generic) === $generic, 'other _act');
check(run('save', 'A1 NO [NOPERM] x', exec_for('Something else')) === exec_for('Something else'), 'other message');
check(run('save', 'A1 NO', $generic) === $generic, 'NO without text (no stale text of earlier answers)');
check(run('save', 'A1 NO [NOPERM]', $generic) === $generic, 'NO with a code only');

echo "ok $checks checks\n";
