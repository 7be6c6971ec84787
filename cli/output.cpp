// output.cpp -- see output.h.
#include "output.h"

#include <cstdio>

namespace mailgrant::cli {

Json Json::strings(const std::vector<std::string>& values) {
    Json j = array();
    for (const auto& v : values) j.push(v);
    return j;
}

Json& Json::push(Json value) {
    kind_ = Kind::Array;
    items_.push_back(std::move(value));
    return items_.back();
}

Json& Json::set(const std::string& key, Json value) {
    kind_ = Kind::Object;
    for (auto& m : members_)
        if (m.first == key) {
            m.second = std::move(value);
            return m.second;
        }
    members_.emplace_back(key, std::move(value));
    return members_.back().second;
}

const Json* Json::get(const std::string& key) const {
    for (const auto& m : members_)
        if (m.first == key) return &m.second;
    return nullptr;
}

std::string json_quote(const std::string& text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out + "\"";
}

namespace {

// An array or object: "[]" / "{}" when empty, else one item per line, indented.
template <typename Items, typename WriteItem>
void write_container(std::string& out, int indent, const Items& items, const char* brackets, WriteItem&& write_item) {
    if (items.empty()) {
        out += brackets;
        return;
    }
    out += brackets[0];
    out += '\n';
    for (std::size_t i = 0; i < items.size(); ++i) {
        out.append(static_cast<std::size_t>(indent + 2), ' ');
        write_item(items[i]);
        out += i + 1 < items.size() ? ",\n" : "\n";
    }
    out.append(static_cast<std::size_t>(indent), ' ');
    out += brackets[1];
}

}  // namespace

void Json::write(std::string& out, int indent) const {
    switch (kind_) {
        case Kind::Null: out += "null"; break;
        case Kind::Bool: out += bool_ ? "true" : "false"; break;
        case Kind::Int: out += std::to_string(int_); break;
        case Kind::String: out += json_quote(string_); break;
        case Kind::Array:
            write_container(out, indent, items_, "[]", [&](const Json& item) { item.write(out, indent + 2); });
            break;
        case Kind::Object:
            write_container(out, indent, members_, "{}", [&](const auto& member) {
                out += json_quote(member.first) + ": ";
                member.second.write(out, indent + 2);
            });
            break;
    }
}

std::string Json::dump() const {
    std::string out;
    write(out, 0);
    return out + "\n";
}

namespace {

std::string sanitize(const std::string& cell) {
    std::string out;
    out.reserve(cell.size());
    for (unsigned char c : cell) out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
    return out;
}

std::size_t display_width(const std::string& s) {
    std::size_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) ++n;  // count UTF-8 lead bytes only
    return n;
}

}  // namespace

void Table::add(std::vector<std::string> row) {
    row.resize(headers_.size());
    for (auto& cell : row) cell = sanitize(cell);
    rows_.push_back(std::move(row));
}

std::string Table::render() const {
    std::vector<std::size_t> widths(headers_.size(), 0);
    for (std::size_t c = 0; c < headers_.size(); ++c) widths[c] = display_width(headers_[c]);
    for (const auto& row : rows_)
        for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], display_width(row[c]));
    std::string out;
    auto line = [&](const std::vector<std::string>& cells) {
        std::string l;
        for (std::size_t c = 0; c < cells.size(); ++c) {
            l += cells[c];
            if (c + 1 < cells.size()) l += std::string(widths[c] - display_width(cells[c]) + 2, ' ');
        }
        while (!l.empty() && l.back() == ' ') l.pop_back();
        out += l + "\n";
    };
    line(headers_);
    std::vector<std::string> rule;
    for (auto w : widths) rule.push_back(std::string(w, '-'));
    line(rule);
    for (const auto& row : rows_) line(row);
    return out;
}

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? separator : "") + parts[i];
    return out;
}

std::string human_size(unsigned long long bytes) {
    const char* units[] = {"", "K", "M", "G", "T"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        ++u;
    }
    if (u == 0) return std::to_string(bytes);
    char buf[32];
    std::snprintf(buf, sizeof buf, v < 10 ? "%.1f%s" : "%.0f%s", v, units[u]);
    return buf;
}

}  // namespace mailgrant::cli
