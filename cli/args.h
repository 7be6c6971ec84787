// args.h -- command line parsing for the mailgrant CLI verbs.
//
// Each verb declares which options it knows (flags, options taking a value, repeatable
// ones); parse_args() splits argv into positionals and options and rejects anything
// unknown or malformed with a message naming the option, so a typo never silently
// changes what a grant or revoke does. "--opt=value" and "--opt value" are both accepted;
// "--" ends option processing. Pure code: unit-tested in tests/cli/test_args.cpp.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "mailgrant/config.h"

namespace mailgrant::cli {

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct OptionSpec {
    std::string name;          // "--folder"
    bool takes_value = false;  // false = flag
    bool repeatable = false;
    std::string alias;         // optional short form, e.g. "-c"
};

struct ParsedArgs {
    std::vector<std::string> positionals;
    std::map<std::string, std::vector<std::string>> options;  // flags have one empty value

    bool has(const std::string& name) const { return options.count(name) != 0; }
    std::optional<std::string> value(const std::string& name) const;  // last value
    std::vector<std::string> values(const std::string& name) const;
};

// Throws UsageError ("unknown option '--foo'", "option '--folder' needs a value", ...).
ParsedArgs parse_args(const std::vector<std::string>& args, const std::vector<OptionSpec>& specs);

// Global options that may appear before the verb: -c/--config PATH, --json, -h/--help.
// Without -c the path is $MAILGRANT_CONFIG when set, else kDefaultConfigPath.
struct GlobalArgs {
    std::string config_path = kDefaultConfigPath;
    bool json = false;
    bool help = false;
    std::string verb;                // "" when none given
    std::vector<std::string> rest;   // everything after the verb
};

GlobalArgs parse_global(const std::vector<std::string>& argv);

// "-" separated sizes like "10M" -> bytes. Throws UsageError.
unsigned long long parse_size(const std::string& text);

}  // namespace mailgrant::cli
