// local_filter.cpp -- see local_filter.h. A recursive-descent reader of RFC 4515's
// string form (bounded in length and depth) and a Kleene three-valued evaluator.
#include "mailgrant/local_filter.h"

#include <cctype>

#include "mailgrant/dn.h"

namespace mailgrant {

struct LocalFilter::Node {
    enum class Kind { And, Or, Not, Equal, Present, Other } kind = Kind::Other;
    std::string attribute;  // lower-case; Equal, Present, Other
    std::string value;      // unescaped; Equal
    std::vector<std::shared_ptr<const Node>> children;
};

namespace {

using Node = LocalFilter::Node;

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// RFC 4515 "\XX" escapes; nullopt for a backslash not followed by two hex digits.
std::optional<std::string> unescape(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\') {
            out += text[i];
            continue;
        }
        if (i + 2 >= text.size()) return std::nullopt;
        const int hi = hex_digit(text[i + 1]), lo = hex_digit(text[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

bool attribute_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == ';';
}

class Reader {
public:
    explicit Reader(std::string_view text) : text_(text) {}

    std::shared_ptr<const Node> filter(int depth) {
        if (depth > LocalFilter::kMaxDepth || !take('(')) return nullptr;
        auto node = std::make_shared<Node>();
        if (take('&') || take('|')) {
            node->kind = text_[pos_ - 1] == '&' ? Node::Kind::And : Node::Kind::Or;
            while (pos_ < text_.size() && text_[pos_] == '(') {
                auto child = filter(depth + 1);
                if (!child) return nullptr;
                node->children.push_back(std::move(child));
            }
        } else if (take('!')) {
            node->kind = Node::Kind::Not;
            auto child = filter(depth + 1);
            if (!child) return nullptr;
            node->children.push_back(std::move(child));
        } else if (!item(*node)) {
            return nullptr;
        }
        return take(')') ? node : nullptr;
    }

    bool done() const { return pos_ == text_.size(); }

private:
    bool take(char c) {
        if (pos_ >= text_.size() || text_[pos_] != c) return false;
        ++pos_;
        return true;
    }

    // attr=value, attr=*, and (as Other) every other simple or extensible item.
    bool item(Node& node) {
        const std::size_t end = text_.find(')', pos_);  // a value's ')' is escaped (\29)
        if (end == std::string_view::npos) return false;
        const std::string_view item = text_.substr(pos_, end - pos_);
        pos_ = end;
        const std::size_t eq = item.find('=');
        if (eq == std::string_view::npos || eq == 0) return false;
        std::string_view lhs = item.substr(0, eq);
        const std::string_view rhs = item.substr(eq + 1);
        bool other = false;
        if (lhs.back() == '~' || lhs.back() == '<' || lhs.back() == '>') {
            lhs.remove_suffix(1);
            other = true;
        }
        if (lhs.find(':') != std::string_view::npos) {  // extensible: attr:rule:=, :dn:
            lhs = lhs.substr(0, lhs.find(':'));
            other = true;
        }
        for (char c : lhs)
            if (!attribute_char(c)) return false;
        node.attribute = ascii_lower(lhs);
        if (lhs.find(';') != std::string_view::npos) other = true;  // attribute options
        if (other) {
            node.kind = Node::Kind::Other;
        } else if (rhs == "*") {
            node.kind = Node::Kind::Present;
        } else if (rhs.find('*') != std::string_view::npos) {
            node.kind = Node::Kind::Other;  // substrings
        } else {
            auto value = unescape(rhs);
            if (!value) return false;
            node.kind = Node::Kind::Equal;
            node.value = std::move(*value);
        }
        if (node.kind == Node::Kind::Other && !unescape(rhs)) return false;
        return !node.attribute.empty() || node.kind == Node::Kind::Other;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

bool has_non_ascii(const std::string& s) {
    for (unsigned char c : s)
        if (c >= 0x80) return true;
    return false;
}

// What a comparison that may ignore spaces, or read both as DNs, could still equate.
std::string skeleton(const std::string& s) {
    std::string norm = looks_like_dn(s) ? normalize_dn(s) : std::string();
    if (norm.empty()) norm = ascii_lower(s);
    std::string out;
    for (char c : norm)
        if (c != ' ') out += c;
    return out;
}

Truth value_equals(const std::string& have, const std::string& want) {
    if (ascii_lower(have) == ascii_lower(want)) return Truth::True;
    if (has_non_ascii(have) || has_non_ascii(want)) return Truth::Unknown;  // Unicode case folding
    return skeleton(have) == skeleton(want) ? Truth::Unknown : Truth::False;
}

// The attribute's values and those returned with an option ("mail;lang-de": slapd
// returns them for "mail" asked, and (mail=x) matches them).
std::vector<const std::string*> all_values(const LdapEntry& entry, const std::string& attribute) {
    std::vector<const std::string*> out;
    for (const auto& v : entry.values(attribute)) out.push_back(&v);
    const std::string prefix = attribute + ";";
    for (auto it = entry.attributes.lower_bound(prefix); it != entry.attributes.end(); ++it) {
        if (it->first.compare(0, prefix.size(), prefix) != 0) break;
        for (const auto& v : it->second) out.push_back(&v);
    }
    return out;
}

Truth negate(Truth t) {
    return t == Truth::True ? Truth::False : t == Truth::False ? Truth::True : Truth::Unknown;
}

Truth evaluate_node(const Node& node, const LdapEntry& entry, const std::set<std::string>& read) {
    switch (node.kind) {
        case Node::Kind::And:
        case Node::Kind::Or: {
            // Kleene: one child with the deciding value (False for &, True for |) decides;
            // else any Unknown makes the whole Unknown; else the other value ((&) is True).
            const Truth decides = node.kind == Node::Kind::And ? Truth::False : Truth::True;
            Truth result = negate(decides);
            for (const auto& child : node.children) {
                const Truth t = evaluate_node(*child, entry, read);
                if (t == decides) return decides;
                if (t == Truth::Unknown) result = Truth::Unknown;
            }
            return result;
        }
        case Node::Kind::Not:
            return negate(evaluate_node(*node.children.front(), entry, read));
        case Node::Kind::Present:
            if (node.attribute == "objectclass") return Truth::True;  // every entry has one
            if (!read.count(node.attribute)) return Truth::Unknown;
            return all_values(entry, node.attribute).empty() ? Truth::False : Truth::True;
        case Node::Kind::Equal: {
            if (!read.count(node.attribute)) return Truth::Unknown;
            const auto values = all_values(entry, node.attribute);
            if (node.attribute == "objectclass") {
                for (const auto* v : values)
                    if (ascii_lower(*v) == ascii_lower(node.value)) return Truth::True;
                return Truth::Unknown;  // a subclass may be listed
            }
            Truth result = Truth::False;
            for (const auto* v : values) {
                const Truth t = value_equals(*v, node.value);
                if (t == Truth::True) return Truth::True;
                if (t == Truth::Unknown) result = Truth::Unknown;
            }
            return result;
        }
        case Node::Kind::Other:
            break;
    }
    return Truth::Unknown;
}

void collect(const Node& node, std::vector<std::string>& out) {
    if (!node.attribute.empty()) {
        bool seen = false;
        for (const auto& a : out) seen = seen || a == node.attribute;
        if (!seen) out.push_back(node.attribute);
    }
    for (const auto& child : node.children) collect(*child, out);
}

}  // namespace

std::optional<LocalFilter> LocalFilter::parse(std::string_view text) {
    if (text.empty() || text.size() > kMaxLength) return std::nullopt;
    Reader reader(text);
    auto root = reader.filter(0);
    if (!root || !reader.done()) return std::nullopt;
    return LocalFilter(std::move(root));
}

Truth LocalFilter::evaluate(const LdapEntry& entry, const std::set<std::string>& read) const {
    return evaluate_node(*root_, entry, read);
}

std::vector<std::string> LocalFilter::attributes() const {
    std::vector<std::string> out;
    collect(*root_, out);
    return out;
}

bool LocalFilter::names_only(const std::set<std::string>& allowed) const {
    for (const auto& a : attributes())
        if (a != "objectclass" && !allowed.count(a)) return false;
    return true;
}

}  // namespace mailgrant
