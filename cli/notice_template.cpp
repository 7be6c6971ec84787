// notice_template.cpp -- see notice_template.h; the rules are in cli/notices/README.md.
#include "notice_template.h"

#include <algorithm>

namespace mailgrant::cli {

struct NoticeTemplate::Node {
    enum class Kind { Text, Variable, Section, Inverted };
    Kind kind = Kind::Text;
    std::string text;  // Text: the literal; else the variable name
    std::vector<Node> children;
};

namespace {

using Node = NoticeTemplate::Node;

bool name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

bool valid_name(const std::string& n) {
    return !n.empty() && n.size() <= kMaxNameBytes && std::all_of(n.begin(), n.end(), name_char);
}

bool blank(const std::string& s, std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i)
        if (s[i] != ' ' && s[i] != '\t') return false;
    return true;
}

// A tag for an error message: at most 40 bytes, control characters shown as '?'.
std::string shown(const std::string& s) {
    std::string out = s.substr(0, 40);
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return s.size() > 40 ? out + "..." : out;
}

struct Open {
    Node node;
    std::size_t line;
};

void escape_html(const std::string& v, std::string& out) {
    for (char c : v) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
}

void render_nodes(const std::vector<Node>& nodes, const TemplateVars& vars, bool html, std::string& out) {
    for (const auto& n : nodes) {
        if (n.kind == Node::Kind::Text) {
            out += n.text;
            continue;
        }
        const auto it = vars.find(n.text);
        const std::string empty;
        const std::string& value = it == vars.end() ? empty : it->second;
        if (n.kind == Node::Kind::Variable) {
            // Values come from LDAP: a control character (CR/LF above all) becomes a space,
            // so a value can never add a header line or break the Subject.
            std::string clean = value;
            for (char& c : clean)
                if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
            if (html) escape_html(clean, out);
            else out += clean;
        } else if ((n.kind == Node::Kind::Section) == !value.empty()) {
            render_nodes(n.children, vars, html, out);
        }
        if (out.size() > kMaxRenderedBytes)
            throw TemplateError("rendered text is larger than " + std::to_string(kMaxRenderedBytes) + " bytes");
    }
}

}  // namespace

NoticeTemplate NoticeTemplate::parse(const std::string& input, bool html, const std::string& name,
                                     const std::set<std::string>& known) {
    auto fail = [&](std::size_t line, const std::string& what) -> void {
        throw TemplateError(name + ":" + std::to_string(line) + ": " + what);
    };
    if (input.size() > kMaxTemplateBytes)
        fail(1, "template is larger than " + std::to_string(kMaxTemplateBytes) + " bytes");
    std::string text;  // CRLF -> LF, so a template edited on Windows renders the same
    text.reserve(input.size());
    for (std::size_t i = 0; i < input.size(); ++i)
        if (!(input[i] == '\r' && i + 1 < input.size() && input[i + 1] == '\n')) text += input[i];

    std::vector<Open> stack;
    stack.push_back({Node{Node::Kind::Section, "", {}}, 0});
    std::size_t tags = 0, pos = 0, line = 1, line_start = 0;
    std::string literal;
    auto advance_to = [&](std::size_t to) {  // keep line / line_start in step with pos
        for (std::size_t i = pos; i < to; ++i)
            if (text[i] == '\n') {
                ++line;
                line_start = i + 1;
            }
        pos = to;
    };
    auto flush = [&] {
        if (!literal.empty()) stack.back().node.children.push_back(Node{Node::Kind::Text, literal, {}});
        literal.clear();
    };
    while (pos < text.size()) {
        const std::size_t open = text.find("{{", pos);
        if (open == std::string::npos) {
            literal += text.substr(pos);
            advance_to(text.size());
            break;
        }
        literal += text.substr(pos, open - pos);
        advance_to(open);
        const std::size_t close = text.find("}}", open + 2);
        if (close == std::string::npos) fail(line, "'{{' without '}}'");
        const std::string tag = text.substr(open + 2, close - open - 2);
        if (tag.find('\n') != std::string::npos) fail(line, "tag '{{" + shown(tag) + "' runs over the end of the line");
        if (++tags > kMaxTemplateTags) fail(line, "more than " + std::to_string(kMaxTemplateTags) + " tags");
        const char sigil = tag.empty() ? '\0' : tag[0];
        const bool section = sigil == '#' || sigil == '^' || sigil == '/';
        const std::string var = section ? tag.substr(1) : tag;
        if (!valid_name(var))
            fail(line, "bad tag '{{" + shown(tag) + "}}' (a name is lower-case letters, digits and '_', at most " +
                           std::to_string(kMaxNameBytes) + ")");
        if (!known.count(var)) fail(line, "unknown variable '" + var + "'");
        std::size_t after = close + 2;
        if (section) {
            // A section tag alone on its line takes the whole line with it.
            const std::size_t eol = std::min(text.find('\n', after), text.size());
            if (blank(text, line_start, open) && blank(text, after, eol)) {
                literal.resize(literal.size() - (open - line_start));
                after = eol < text.size() ? eol + 1 : eol;
            }
        }
        flush();
        if (sigil == '#' || sigil == '^') {
            for (const auto& o : stack)
                if (o.node.text == var) fail(line, "section '" + var + "' inside itself (opened at line " +
                                                       std::to_string(o.line) + ")");
            if (stack.size() > kMaxSectionDepth) fail(line, "sections nested deeper than " + std::to_string(kMaxSectionDepth));
            stack.push_back({Node{sigil == '#' ? Node::Kind::Section : Node::Kind::Inverted, var, {}}, line});
        } else if (sigil == '/') {
            if (stack.size() == 1) fail(line, "'{{/" + var + "}}' closes no section");
            if (stack.back().node.text != var)
                fail(line, "'{{/" + var + "}}' does not close '" + stack.back().node.text + "' (opened at line " +
                               std::to_string(stack.back().line) + ")");
            Node done = std::move(stack.back().node);
            stack.pop_back();
            stack.back().node.children.push_back(std::move(done));
        } else {
            stack.back().node.children.push_back(Node{Node::Kind::Variable, var, {}});
        }
        advance_to(after);
    }
    flush();
    if (stack.size() > 1) fail(stack.back().line, "section '" + stack.back().node.text + "' is never closed");
    NoticeTemplate t;
    t.nodes_ = std::make_shared<const std::vector<Node>>(std::move(stack.front().node.children));
    t.html_ = html;
    t.name_ = name;
    t.known_ = known;
    return t;
}

std::string NoticeTemplate::render(const TemplateVars& vars) const {
    if (vars.size() > kMaxVariables)
        throw TemplateError(name_ + ": more than " + std::to_string(kMaxVariables) + " variables");
    for (const auto& [k, v] : vars) {
        if (!known_.count(k)) throw TemplateError(name_ + ": '" + shown(k) + "' is not a notice variable");
        if (v.size() > kMaxValueBytes)
            throw TemplateError(name_ + ": value of '" + k + "' is longer than " + std::to_string(kMaxValueBytes) + " bytes");
    }
    std::string out;
    if (nodes_) render_nodes(*nodes_, vars, html_, out);
    return out;
}

const std::set<std::string>& notice_variable_names() {
    static const std::set<std::string> names{
        "kind_grant", "kind_invite", "kind_revoke", "kind_expiring",
        "recipient_name", "recipient_address",
        "actor_name", "actor_address",
        "owner_name", "owner_address", "mailbox_is_shared",
        "group", "folders", "folder_all", "has_folders",
        "access_full", "access_modify", "access_read", "access_custom", "rights",
        "send_as", "send_on_behalf", "can_send",
        "from_date", "until", "days_left",
        "webmail_url", "open_url", "accept_url",
        "imap_path", "imap_paths", "collaborator_login",
        "invitation_expires", "date",
    };
    return names;
}

std::string choose_language(const std::string& preferred, const std::set<std::string>& available,
                            const std::string& fallback) {
    struct Range {
        std::string primary;  // lower-case; "*" = any
        int q;                // thousandths
        std::size_t order;
    };
    std::vector<Range> ranges;
    const std::string text = preferred.substr(0, kMaxLanguageHeaderBytes);
    std::size_t start = 0;
    while (start <= text.size() && ranges.size() < kMaxLanguageRanges) {
        std::size_t comma = text.find(',', start);
        if (comma == std::string::npos) comma = text.size();
        std::string item = text.substr(start, comma - start);
        start = comma + 1;
        item.erase(std::remove_if(item.begin(), item.end(), [](char c) { return c == ' ' || c == '\t'; }), item.end());
        if (item.empty() || item.size() > kMaxLanguageRangeBytes) continue;
        const std::size_t semi = item.find(';');
        std::string tag = item.substr(0, semi);
        int q = 1000;
        if (semi != std::string::npos) {
            const std::string param = item.substr(semi + 1);
            // q=0 / 0.x (up to three digits) / 1 / 1.0..
            if (param.size() < 3 || (param[0] != 'q' && param[0] != 'Q') || param[1] != '=') continue;
            const std::string v = param.substr(2);
            if (v.size() > 5 || (v[0] != '0' && v[0] != '1') || (v.size() > 1 && v[1] != '.') || v.size() == 2) continue;
            const std::string frac = v.size() > 2 ? v.substr(2) : "";
            if (!std::all_of(frac.begin(), frac.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
            q = (v[0] - '0') * 1000 + (frac.empty() ? 0 : std::stoi((frac + "00").substr(0, 3)));
            if (q > 1000) continue;
        }
        if (q == 0) continue;  // "not acceptable"
        // tag: "*" or 1*8ALPHA *("-" 1*8alphanum)
        for (char& c : tag)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (tag != "*") {
            const std::size_t dash = tag.find('-');
            const std::string primary = tag.substr(0, dash);
            if (primary.empty() || primary.size() > 8 ||
                !std::all_of(primary.begin(), primary.end(), [](char c) { return c >= 'a' && c <= 'z'; }))
                continue;
            bool ok = true;
            if (dash != std::string::npos) {
                std::size_t sub = 0;
                for (std::size_t i = dash + 1; i <= tag.size() && ok; ++i) {
                    if (i == tag.size() || tag[i] == '-') {
                        ok = sub >= 1 && sub <= 8;
                        sub = 0;
                    } else if ((tag[i] >= 'a' && tag[i] <= 'z') || (tag[i] >= '0' && tag[i] <= '9')) {
                        ++sub;
                    } else {
                        ok = false;
                    }
                }
            }
            if (!ok) continue;
            tag = primary;
        }
        ranges.push_back({tag, q, ranges.size()});
    }
    std::stable_sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.q > b.q; });
    for (const auto& r : ranges) {
        if (r.primary == "*") return fallback;
        if (available.count(r.primary)) return r.primary;
    }
    return fallback;
}

}  // namespace mailgrant::cli
