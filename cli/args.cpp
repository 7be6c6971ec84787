// args.cpp -- see args.h.
#include "args.h"

#include <cctype>
#include <cstdlib>

namespace mailgrant::cli {

std::optional<std::string> ParsedArgs::value(const std::string& name) const {
    auto it = options.find(name);
    if (it == options.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
}

std::vector<std::string> ParsedArgs::values(const std::string& name) const {
    auto it = options.find(name);
    return it == options.end() ? std::vector<std::string>{} : it->second;
}

ParsedArgs parse_args(const std::vector<std::string>& args, const std::vector<OptionSpec>& specs) {
    ParsedArgs parsed;
    bool options_done = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (options_done || arg.size() < 2 || arg[0] != '-') {
            parsed.positionals.push_back(arg);
            continue;
        }
        if (arg == "--") {
            options_done = true;
            continue;
        }
        std::string name = arg;
        std::optional<std::string> inline_value;
        if (arg.rfind("--", 0) == 0) {
            const auto eq = arg.find('=');
            if (eq != std::string::npos) {
                name = arg.substr(0, eq);
                inline_value = arg.substr(eq + 1);
            }
        }
        const OptionSpec* spec = nullptr;
        for (const auto& s : specs)
            if (s.name == name || (!s.alias.empty() && s.alias == name)) spec = &s;
        if (!spec) throw UsageError("unknown option '" + name + "'");
        auto& slot = parsed.options[spec->name];
        if (!slot.empty() && !spec->repeatable)
            throw UsageError("option '" + spec->name + "' given more than once");
        if (spec->takes_value) {
            if (inline_value) {
                slot.push_back(*inline_value);
            } else {
                if (i + 1 >= args.size()) throw UsageError("option '" + spec->name + "' needs a value");
                slot.push_back(args[++i]);
            }
        } else {
            if (inline_value) throw UsageError("option '" + spec->name + "' takes no value");
            slot.emplace_back();
        }
    }
    return parsed;
}

namespace {

// -c/--config, --json and -h/--help, wherever they stand. Advances i past a value.
bool take_global_option(const std::vector<std::string>& argv, std::size_t& i, GlobalArgs& g) {
    const std::string& a = argv[i];
    if (a == "-c" || a == "--config") {
        if (i + 1 >= argv.size()) throw UsageError("option '" + a + "' needs a value");
        g.config_path = argv[++i];
    } else if (a.rfind("--config=", 0) == 0) {
        g.config_path = a.substr(9);
    } else if (a == "--json") {
        g.json = true;
    } else if (a == "-h" || a == "--help") {
        g.help = true;
    } else {
        return false;
    }
    return true;
}

}  // namespace

GlobalArgs parse_global(const std::vector<std::string>& argv) {
    GlobalArgs g;
    // $MAILGRANT_CONFIG replaces the default path (a second site, a test); -c still wins.
    if (const char* env = std::getenv("MAILGRANT_CONFIG"); env && *env) g.config_path = env;
    std::size_t i = 0;
    for (; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (take_global_option(argv, i, g)) continue;
        if (!a.empty() && a[0] == '-') throw UsageError("unknown option '" + a + "' before the verb");
        g.verb = a;
        ++i;
        break;
    }
    // -c and --json are also accepted after the verb; the rest belongs to the verb.
    for (; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a == "--") {
            g.rest.insert(g.rest.end(), argv.begin() + static_cast<long>(i), argv.end());
            break;
        }
        if (!take_global_option(argv, i, g)) g.rest.push_back(a);
    }
    return g;
}

unsigned long long parse_size(const std::string& text) {
    if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0])))
        throw UsageError("'" + text + "' is not a size (e.g. 500K, 10M, 2G)");
    std::size_t pos = 0;
    unsigned long long n = 0;
    try {
        n = std::stoull(text, &pos);
    } catch (const std::exception&) {
        throw UsageError("'" + text + "' is not a size (e.g. 500K, 10M, 2G)");
    }
    const std::string unit = text.substr(pos);
    unsigned long long mult = 1;
    if (unit.empty() || unit == "B") mult = 1;
    else if (unit == "K" || unit == "k") mult = 1024ULL;
    else if (unit == "M" || unit == "m") mult = 1024ULL * 1024;
    else if (unit == "G" || unit == "g") mult = 1024ULL * 1024 * 1024;
    else throw UsageError("'" + text + "' is not a size (e.g. 500K, 10M, 2G)");
    return n * mult;
}

}  // namespace mailgrant::cli
