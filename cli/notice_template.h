// notice_template.h -- the tiny template language of the notices a site can edit
// (cli/notices/<lang>/<kind>.{txt,html}), and the Accept-Language choice of the notice's
// language. The language is specified in cli/notices/README.md; the Roundcube plugin has a
// second renderer of it in PHP, and both run the same cases from
// tests/fixtures/notices/render-cases.json. Pure: no files, no network (fuzzed:
// tests/fuzz/fuzz_notice_template.cpp).
//
//   {{name}}                 the variable's value (HTML-escaped in .html templates)
//   {{#name}} ... {{/name}}  kept when the value is not empty
//   {{^name}} ... {{/name}}  kept when the value is empty
// A section tag alone on its line (spaces/tabs around it) removes that whole line.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace mailgrant::cli {

// Named limits (the PHP renderer uses the same numbers).
constexpr std::size_t kMaxTemplateBytes = 64 * 1024;
constexpr std::size_t kMaxTemplateTags = 2000;
constexpr std::size_t kMaxSectionDepth = 8;
constexpr std::size_t kMaxVariables = 64;       // values given to one render
constexpr std::size_t kMaxValueBytes = 4096;    // one value
constexpr std::size_t kMaxNameBytes = 64;       // a variable name
constexpr std::size_t kMaxRenderedBytes = 256 * 1024;

// Load and render errors: "<template name>:<line>: <what>" (render errors have no line).
class TemplateError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

using TemplateVars = std::map<std::string, std::string>;

// Every variable a notice template may use (cli/notices/README.md lists them with meaning).
const std::set<std::string>& notice_variable_names();

class NoticeTemplate {
public:
    struct Node;
    // Throws TemplateError naming `name` and the line of the problem. `known` = the names
    // a template may use; any other name is an error here, at load time.
    static NoticeTemplate parse(const std::string& text, bool html, const std::string& name,
                                const std::set<std::string>& known);
    // Missing variables render as empty. Throws TemplateError on a limit or an unknown
    // variable given.
    std::string render(const TemplateVars& vars) const;
    bool html() const { return html_; }

private:
    std::shared_ptr<const std::vector<Node>> nodes_;
    bool html_ = false;
    std::string name_;
    std::set<std::string> known_;
};

// RFC 2798 preferredLanguage / RFC 7231 Accept-Language ("pl-PL, en;q=0.8"): the best of
// `available` (lower-case primary tags such as "pl"), or `fallback` when none fits. A
// "pl-PL" range matches "pl"; "*" matches the fallback. Malformed items are skipped;
// at most kMaxLanguageRanges items of kMaxLanguageRangeBytes each are read.
constexpr std::size_t kMaxLanguageRanges = 32;
constexpr std::size_t kMaxLanguageRangeBytes = 64;
constexpr std::size_t kMaxLanguageHeaderBytes = 1024;
std::string choose_language(const std::string& preferred, const std::set<std::string>& available,
                            const std::string& fallback);

}  // namespace mailgrant::cli
