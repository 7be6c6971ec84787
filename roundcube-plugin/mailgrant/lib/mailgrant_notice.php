<?php

/**
 * mailgrant_notice: the notices the webmail sends (an invitation with its accept link,
 * a new delegate, a removed share), from the SAME template files the admin CLI uses
 * (cli/notices/<lang>/<kind>.txt|.html, installed in /usr/share/mailgrant/notices, a
 * site's edited copies in /etc/mailgrant/notices first), in the recipient's
 * preferredLanguage (RFC 2798).
 *
 * The template language is the one cli/notices/README.md defines, implemented twice
 * (C++ for the CLI, here for the webmail); both run the cases in
 * tests/fixtures/notices/render-cases.json:
 *   {{name}}              the variable (HTML-escaped in .html templates)
 *   {{#name}}...{{/name}} the block if the variable is set (non-empty, not false)
 *   {{^name}}...{{/name}} the block if it is not
 * A section tag alone on its line removes that line. An unknown name, an unclosed or
 * stray block is an error naming the line.
 *
 * Sending goes through Roundcube's own SMTP (rcube::deliver_message) as the person
 * who acted: From is their address, so the recipient sees who shared.
 *
 * @license GPL-3.0-or-later
 */
class mailgrant_notice
{
    // the same limits as cli/notice_template.h
    const MAX_TEMPLATE = 65536;
    const MAX_TAGS = 2000;
    const MAX_DEPTH = 8;
    const MAX_VARIABLES = 64;
    const MAX_VALUE = 4096;
    const MAX_RENDERED = 262144;

    /**
     * Renders $text with $vars. $known = the names templates may use (null: the keys of
     * $vars); $name names the template in errors. Template errors (found before anything
     * is rendered) read "<name>:<line>: <what>", render errors "<name>: <what>", worded as
     * the C++ renderer's (cli/notices/README.md). Throws InvalidArgumentException.
     */
    public static function render($text, array $vars, $html, ?array $known = null, $name = 'template')
    {
        $known = array_flip($known === null ? array_keys($vars) : $known);
        $nodes = self::parse((string) $text, $known, $name);
        if (count($vars) > self::MAX_VARIABLES) {
            throw new InvalidArgumentException("$name: more than " . self::MAX_VARIABLES . ' variables');
        }
        $values = [];
        foreach ($vars as $var => $v) {
            if (!isset($known[$var])) {
                throw new InvalidArgumentException("$name: '$var' is not a notice variable");
            }
            $v = is_bool($v) ? ($v ? '1' : '') : (string) $v;
            if (strlen($v) > self::MAX_VALUE) {
                throw new InvalidArgumentException("$name: value of '$var' is longer than " . self::MAX_VALUE . ' bytes');
            }
            $values[$var] = $v;
        }
        $out = self::evaluate($nodes, $values, $html);
        if (strlen($out) > self::MAX_RENDERED) {
            throw new InvalidArgumentException("$name: rendered text is longer than " . self::MAX_RENDERED . ' bytes');
        }
        return $out;
    }

    /** Nodes: ['text', s] | ['var', name] | ['section', name, inverted, children]. */
    private static function parse($text, array $known, $name)
    {
        if (strlen($text) > self::MAX_TEMPLATE) {
            throw new InvalidArgumentException("$name:1: template is larger than " . self::MAX_TEMPLATE . ' bytes');
        }
        $text = str_replace("\r\n", "\n", $text);
        $root = [];
        $stack = [];                  // [name, line, &children] of open sections
        $cur = &$root;
        $tags = 0;
        $lines = preg_split('/(?<=\n)/', $text);
        $end_of_line = 0;             // offset just past the current line in $text
        foreach ($lines as $i => $line) {
            $no = $i + 1;
            $end_of_line += strlen($line);
            // a section tag alone on its line takes the line with it
            if (preg_match('/^[ \t]*(\{\{[#^\/][^{}\n]*\}\})[ \t]*\n?\z/', $line, $m)) {
                $parts = ['', $m[1]];
            } else {
                $parts = preg_split('/(\{\{.*?\}\})/', $line, -1, PREG_SPLIT_DELIM_CAPTURE);
            }
            foreach ($parts as $j => $part) {
                $is_tag = $j % 2 == 1;
                if (!$is_tag) {
                    if ($part === '') {
                        continue;
                    }
                    $open = strpos($part, '{{');
                    if ($open !== false) {
                        $rest = substr($part, $open);
                        if (strpos($text, '}}', $end_of_line) !== false) {
                            throw new InvalidArgumentException("$name:$no: tag '" . rtrim($rest, "\n")
                                . "' runs over the end of the line");
                        }
                        throw new InvalidArgumentException("$name:$no: '{{' without '}}'");
                    }
                    $cur[] = ['text', $part];
                    continue;
                }
                if (++$tags > self::MAX_TAGS) {
                    throw new InvalidArgumentException("$name:$no: more than " . self::MAX_TAGS . ' tags');
                }
                if (!preg_match('/^\{\{([#^\/]?)([a-z0-9_]{1,64})\}\}\z/', $part, $m)) {
                    throw new InvalidArgumentException("$name:$no: bad tag '$part' (a name of a-z, 0-9 and _)");
                }
                list(, $sigil, $var) = $m;
                if (!isset($known[$var])) {
                    throw new InvalidArgumentException("$name:$no: unknown variable '$var'");
                }
                if ($sigil === '') {
                    $cur[] = ['var', $var];
                } elseif ($sigil === '/') {
                    if (!$stack) {
                        throw new InvalidArgumentException("$name:$no: '$part' closes no section");
                    }
                    $top = end($stack);
                    if ($top[0] !== $var) {
                        throw new InvalidArgumentException("$name:$no: '$part' does not close '{$top[0]}' (opened at line {$top[1]})");
                    }
                    array_pop($stack);
                    unset($cur);
                    if ($stack) {
                        $k = count($stack) - 1;
                        $cur = &$stack[$k][2];
                    } else {
                        $cur = &$root;
                    }
                    // the finished section's children were built in place
                } else {
                    foreach ($stack as $open) {
                        if ($open[0] === $var) {
                            throw new InvalidArgumentException("$name:$no: section '$var' inside itself (opened at line {$open[1]})");
                        }
                    }
                    if (count($stack) >= self::MAX_DEPTH) {
                        throw new InvalidArgumentException("$name:$no: sections nested deeper than " . self::MAX_DEPTH);
                    }
                    $cur[] = ['section', $var, $sigil === '^', []];
                    $idx = count($cur) - 1;
                    $stack[] = [$var, $no, &$cur[$idx][3]];
                    unset($cur);
                    $k = count($stack) - 1;
                    $cur = &$stack[$k][2];
                }
            }
        }
        if ($stack) {
            $top = end($stack);
            throw new InvalidArgumentException("$name:{$top[1]}: section '{$top[0]}' is never closed");
        }
        return $root;
    }

    private static function evaluate(array $nodes, array $values, $html)
    {
        $out = '';
        foreach ($nodes as $n) {
            if ($n[0] === 'text') {
                $out .= $n[1];
            } elseif ($n[0] === 'var') {
                // a value can never start a header line or break the Subject
                $v = preg_replace('/[\x00-\x1f\x7f]/', ' ', $values[$n[1]] ?? '');
                $out .= $html ? strtr($v, ['&' => '&amp;', '<' => '&lt;', '>' => '&gt;', '"' => '&quot;', "'" => '&#39;']) : $v;
            } else {
                $set = ($values[$n[1]] ?? '') !== '';
                if ($set !== $n[2]) {
                    $out .= self::evaluate($n[3], $values, $html);
                }
            }
            if (strlen($out) > self::MAX_RENDERED) {
                break;   // render() reports it
            }
        }
        return $out;
    }

    /**
     * The best language for an RFC 2798 preferredLanguage value ("pl-PL, en;q=0.8")
     * among $available (["en","pl",...]); $default if none matches. The rules of
     * cli/notices/README.md "Language": ranges by falling q (ties in order), matched by
     * their primary subtag, "*" = the default, q=0 excludes, malformed items skipped;
     * the first 1024 bytes, at most 32 items of at most 64 bytes.
     */
    public static function pick_language($preferred, array $available, $default)
    {
        $ranges = [];
        foreach (array_slice(explode(',', substr((string) $preferred, 0, 1024)), 0, 32) as $order => $item) {
            $item = trim($item, " \t");
            if ($item === '' || strlen($item) > 64) {
                continue;
            }
            $bits = explode(';', $item);
            $tag = strtolower(trim($bits[0], " \t"));
            if (!preg_match('/^(\*|[a-z]{1,8}(-[a-z0-9]{1,8})*)\z/', $tag)) {
                continue;
            }
            $q = 1.0;
            if (count($bits) > 2) {
                continue;
            }
            if (count($bits) == 2) {
                if (!preg_match('/^\s*q\s*=\s*(0(\.\d{0,3})?|1(\.0{0,3})?)\s*\z/i', $bits[1], $m)) {
                    continue;
                }
                $q = (float) $m[1];
            }
            if ($q > 0) {
                $ranges[] = [$q, $order, $tag === '*' ? $default : explode('-', $tag)[0]];
            }
        }
        usort($ranges, function ($x, $y) {
            return $x[0] == $y[0] ? $x[1] - $y[1] : ($x[0] < $y[0] ? 1 : -1);
        });
        foreach ($ranges as $r) {
            if (in_array($r[2], $available, true)) {
                return $r[2];
            }
        }
        return $default;
    }

    /** Language directories present in $dirs (site first). */
    public static function languages(array $dirs)
    {
        $langs = [];
        foreach ($dirs as $d) {
            foreach ((array) @scandir($d) as $name) {
                if (preg_match('/^[a-z]{2,3}(-[a-z0-9]{1,8})?$/', (string) $name) && is_dir("$d/$name")) {
                    $langs[$name] = true;
                }
            }
        }
        return array_keys($langs);
    }

    /** [subject, text, html] of $kind in $lang; the first dir holding the file wins. */
    public static function compose(array $dirs, $lang, $kind, array $vars, ?array $known = null)
    {
        // a language without this kind's two templates: English (cli/notices/README.md)
        $have = function ($l) use ($dirs, $kind) {
            foreach ($dirs as $d) {
                if (is_file("$d/$l/$kind.txt") && is_file("$d/$l/$kind.html")) {
                    return true;
                }
            }
            return false;
        };
        if (!$have($lang)) {
            $lang = 'en';
        }
        $read = function ($ext) use ($dirs, $lang, $kind) {
            foreach ($dirs as $d) {
                $p = "$d/$lang/$kind.$ext";
                if (is_file($p)) {
                    $t = file_get_contents($p, false, null, 0, self::MAX_TEMPLATE + 1);
                    if ($t === false) {
                        break;
                    }
                    return [$p, $t];
                }
            }
            throw new RuntimeException("no notice template $lang/$kind.$ext in " . implode(', ', $dirs));
        };
        list($tpath, $ttext) = $read('txt');
        list($hpath, $htext) = $read('html');
        try {
            $text = self::render($ttext, $vars, false, $known, $tpath);
            $html = self::render($htext, $vars, true, $known, $hpath);
        } catch (InvalidArgumentException $e) {
            throw new RuntimeException($e->getMessage());
        }
        if (!preg_match('/^Subject:[ \t]*([^\n]*)\n/', $text, $m)) {
            throw new RuntimeException("$tpath:1: the first line must be 'Subject: ...'");
        }
        $subject = trim($m[1]);
        $text = substr($text, strlen($m[0]));
        if (substr($text, 0, 1) === "\n") {
            $text = substr($text, 1);    // the one blank line after the Subject
        }
        return [$subject, $text, $html, $lang];
    }

    /**
     * Sends a notice through Roundcube's SMTP as $from (the person acting). Returns
     * null on success, else the error text.
     */
    public static function send(rcmail $rc, $from, $from_name, $to, $subject, $text, $html, $lang)
    {
        $mime = new Mail_mime("\r\n");
        $mime->setParam('text_charset', 'UTF-8');
        $mime->setParam('html_charset', 'UTF-8');
        $mime->setParam('head_charset', 'UTF-8');
        $mime->setParam('text_encoding', 'quoted-printable');
        $mime->setParam('html_encoding', 'quoted-printable');
        $mime->setTXTBody($text);
        $mime->setHTMLBody($html);
        $mime->headers([
            'Date'             => $rc->user_date(),
            'From'             => $mime->encodeHeader('From', self::address($from_name, $from), 'UTF-8', 'quoted-printable'),
            'To'               => $to,
            'Subject'          => $mime->encodeHeader('Subject', $subject, 'UTF-8', 'quoted-printable'),
            'Message-ID'       => $rc->gen_message_id($from),
            'Content-Language' => $lang,
            'Auto-Submitted'   => 'auto-generated',
            'X-Mailer'         => 'mailgrant (Roundcube)',
        ]);
        $error = null;
        $ok = $rc->deliver_message($mime, $from, $to, $error);
        if ($ok) {
            return null;
        }
        return is_array($error) ? ($error['vars']['msg'] ?? $error['label'] ?? 'SMTP error') : (string) $error;
    }

    private static function address($name, $addr)
    {
        $name = trim(preg_replace('/[\r\n"\\\\]+/', ' ', (string) $name));
        return $name === '' ? $addr : "\"$name\" <$addr>";
    }
}
