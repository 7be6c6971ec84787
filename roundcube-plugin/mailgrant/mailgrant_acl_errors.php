<?php

/**
 * The server's reason in the acl plugin's error messages.
 *
 * Roundcube's acl plugin (plugins/acl/acl.php, action_save / action_delete) answers a
 * failed SETACL / DELETEACL with its own label only (acl.createerror "Unable to add
 * access rights", acl.updateerror, acl.deleteerror), and it has no setting or hook to
 * change that. Roundcube does keep the server's answer to the last IMAP command:
 * rcube_imap_generic::parseResult() strips the response code ([NOPERM], [UNAVAILABLE])
 * and rcube_imap::get_error_str() returns the rest. Before the JSON answer goes out,
 * rcmail_output_json runs the hook render_response with the JavaScript commands in
 * $response['exec']; there this class replaces the acl plugin's display_message() call
 * by one whose text is the label + ": " + the server's text.
 *
 * The server's text is untrusted (it may echo what the user typed): invalid UTF-8 and
 * control / format characters are removed, it is cut to MAX_LENGTH characters,
 * HTML-escaped (display_message() renders HTML) and JSON-encoded by Roundcube's own
 * rcube_output::json_serialize(), exactly as Roundcube encodes the call it replaces.
 */
class mailgrant_acl_errors
{
    /** Longest server text shown, in characters. */
    const MAX_LENGTH = 300;

    /** acl plugin sub-action (_act) => labels of its error messages */
    const LABELS = [
        'save'   => ['acl.createerror', 'acl.updateerror'],
        'delete' => ['acl.deleteerror'],
    ];

    /** acl plugin sub-action (_act) => the IMAP command it sends */
    const COMMANDS = [
        'save'   => 'SETACL',
        'delete' => 'DELETEACL',
    ];

    /** @var rcmail */
    private $rc;

    public function __construct($rc)
    {
        $this->rc = $rc;
    }

    /**
     * Hook render_response: $args['response'] is the JSON answer about to be sent.
     */
    public function render_response($args)
    {
        $response = isset($args['response']) ? $args['response'] : null;

        if (!is_array($response) || empty($response['exec']) || !is_string($response['exec'])
            || (isset($response['action']) ? $response['action'] : $this->rc->action) != 'plugin.acl'
        ) {
            return $args;
        }

        $act = trim((string) rcube_utils::get_input_string('_act', rcube_utils::INPUT_GPC));
        if (!isset(self::LABELS[$act])) {
            return $args;
        }

        $reason = $this->server_reason(self::COMMANDS[$act]);
        if ($reason === null) {
            return $args;
        }

        foreach (self::LABELS[$act] as $label) {
            $generic = $this->rc->gettext($label);
            // what rcmail_output_json::get_js_commands() wrote for show_message($label, 'error')
            $old = 'this.display_message(' . self::js($generic) . ',' . self::js('error') . ',';
            $pos = strpos($response['exec'], $old);
            if ($pos === false) {
                continue;
            }

            $text = $generic . ': ' . rcube::Q($reason, 'strict', false);
            $new  = 'this.display_message(' . self::js($text) . ',' . self::js('error') . ',';
            $response['exec'] = substr_replace($response['exec'], $new, $pos, strlen($old));
            $args['response'] = $response;
            break;
        }

        return $args;
    }

    /**
     * The text of the server's NO to the last IMAP command, $command (without its
     * response code), made safe to show, or null when the last command was not $command
     * answered by NO with a text.
     */
    private function server_reason($command)
    {
        $storage = $this->rc->storage;

        if (!($storage instanceof rcube_imap)
            || $storage->get_error_code() != rcube_imap_generic::ERROR_NO
        ) {
            return null;
        }

        // rcube_imap_generic::parseResult() sets $result (the text) and, for NO/BAD,
        // $error (execute() prefixes the command: "SETACL: ...") only when the answer
        // has a text: both matching means both come from this answer, not an earlier one
        $conn = $storage->conn;
        if (!is_string($conn->result) || $conn->result === ''
            || $storage->get_error_str() !== $command . ': ' . $conn->result
        ) {
            return null;
        }

        $text = self::clean_text($conn->result);

        return $text === '' ? null : $text;
    }

    /**
     * Untrusted server text -> one line of plain UTF-8 text of at most MAX_LENGTH
     * characters (not yet HTML-escaped).
     */
    public static function clean_text($text)
    {
        if (!is_string($text)) {
            return '';
        }

        $text = rcube_charset::clean($text);
        // control and format characters (including bidi overrides), line separators
        $text = preg_replace('/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/u', ' ', $text);
        $text = trim(preg_replace('/\s+/u', ' ', (string) $text));
        // Dovecot's timing suffix on tagged replies: " (0.031 + 0.000 + 0.030 secs)."
        $text = preg_replace('/\s*\(\d+\.\d+( \+ \d+\.\d+)* secs\)\.?$/', '', $text);

        if (mb_strlen($text, 'UTF-8') > self::MAX_LENGTH) {
            $text = rtrim(mb_substr($text, 0, self::MAX_LENGTH - 1, 'UTF-8')) . "\u{2026}";
        }

        return $text;
    }

    private static function js($value)
    {
        // as rcmail_output_json::get_js_commands() encodes arguments (devel_mode only
        // adds whitespace between structure tokens, none within a string)
        return rcube_output::json_serialize($value, false, false);
    }
}
