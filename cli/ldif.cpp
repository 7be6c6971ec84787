// ldif.cpp -- see ldif.h.
#include "ldif.h"

#include <cstdio>

namespace mailgrant::cli {

std::string escape_rdn_value(const std::string& value) {
    std::string out;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(value[i]);
        const bool first = i == 0, last = i + 1 == value.size();
        if (c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';' || c == '=' ||
            (first && (c == ' ' || c == '#')) || (last && c == ' ')) {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            char buf[4];
            std::snprintf(buf, sizeof buf, "\\%02X", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::string child_dn(const std::string& attribute, const std::string& value, const std::string& parent) {
    return attribute + "=" + escape_rdn_value(value) + "," + parent;
}

std::string base64_encode(const std::string& bytes) {
    static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    while (i + 2 < bytes.size()) {
        const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                           static_cast<unsigned char>(bytes[i + 2]);
        out += table[(v >> 18) & 63];
        out += table[(v >> 12) & 63];
        out += table[(v >> 6) & 63];
        out += table[v & 63];
        i += 3;
    }
    const std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
        out += table[(v >> 18) & 63];
        out += table[(v >> 12) & 63];
        out += "==";
    } else if (rest == 2) {
        const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
        out += table[(v >> 18) & 63];
        out += table[(v >> 12) & 63];
        out += table[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

bool ldif_safe(const std::string& value) {
    if (value.empty()) return true;
    const unsigned char first = static_cast<unsigned char>(value.front());
    if (first == ' ' || first == ':' || first == '<') return false;
    if (value.back() == ' ') return false;
    for (unsigned char c : value)
        if (c == 0 || c == '\n' || c == '\r' || c > 0x7f) return false;
    return true;
}

namespace {

std::string line(const std::string& attribute, const std::string& value) {
    if (ldif_safe(value)) return attribute + ": " + value + "\n";
    return attribute + ":: " + base64_encode(value) + "\n";
}

std::string comment_lines(const std::string& comment) {
    std::string out;
    if (comment.empty()) return out;
    std::string current;
    for (char c : comment) {
        if (c == '\n') {
            out += "# " + current + "\n";
            current.clear();
        } else {
            current += c;
        }
    }
    out += "# " + current + "\n";
    return out;
}

}  // namespace

std::string to_ldif(const Change& change) {
    std::string out = comment_lines(change.comment);
    out += line("dn", change.dn);
    switch (change.type) {
        case Change::Type::Add:
            out += "changetype: add\n";
            for (const auto& a : change.attributes) out += line(a.first, a.second);
            break;
        case Change::Type::Delete:
            out += "changetype: delete\n";
            break;
        case Change::Type::Modify:
            out += "changetype: modify\n";
            for (const auto& m : change.modifications) {
                const char* op = m.op == Modification::Op::Add ? "add" : m.op == Modification::Op::Delete ? "delete"
                                                                                                      : "replace";
                out += std::string(op) + ": " + m.attribute + "\n";
                for (const auto& v : m.values) out += line(m.attribute, v);
                out += "-\n";
            }
            break;
    }
    return out + "\n";
}

}  // namespace mailgrant::cli
