// output.h -- how the CLI prints: aligned text tables for people, JSON for scripts.
//
// Every verb builds its result once as Json (the --json output) and, for humans, as a
// Table. Both formatters are pure and deterministic (keys keep insertion order, no
// timestamps), which is what the golden-file tests in tests/cli/golden/ rely on.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace mailgrant::cli {

// A small ordered JSON value: null, bool, integer, string, array or object.
class Json {
public:
    enum class Kind { Null, Bool, Int, String, Array, Object };

    Json() = default;
    Json(std::nullptr_t) {}
    Json(bool b) : kind_(Kind::Bool), bool_(b) {}
    Json(int n) : kind_(Kind::Int), int_(n) {}
    Json(long n) : kind_(Kind::Int), int_(n) {}
    Json(long long n) : kind_(Kind::Int), int_(n) {}
    Json(unsigned long long n) : kind_(Kind::Int), int_(static_cast<long long>(n)) {}
    Json(const char* s) : kind_(Kind::String), string_(s) {}
    Json(std::string s) : kind_(Kind::String), string_(std::move(s)) {}

    static Json array() { Json j; j.kind_ = Kind::Array; return j; }
    static Json object() { Json j; j.kind_ = Kind::Object; return j; }
    static Json strings(const std::vector<std::string>& values);

    Kind kind() const { return kind_; }
    Json& push(Json value);                          // arrays
    Json& set(const std::string& key, Json value);   // objects; replaces an existing key
    const Json* get(const std::string& key) const;   // objects; nullptr when absent
    std::size_t size() const { return kind_ == Kind::Array ? items_.size() : members_.size(); }

    // Pretty printed with two-space indent and a trailing newline at top level.
    std::string dump() const;
    // As nested `indent` spaces deep in a larger document, without the newline: a writer
    // that streams an array's items (report) prints them exactly as dump() would.
    std::string dump_at(int indent) const {
        std::string out;
        write(out, indent);
        return out;
    }

private:
    void write(std::string& out, int indent) const;

    Kind kind_ = Kind::Null;
    bool bool_ = false;
    long long int_ = 0;
    std::string string_;
    std::vector<Json> items_;
    std::vector<std::pair<std::string, Json>> members_;
};

// JSON string literal with RFC 8259 escaping (control characters as \u00XX).
std::string json_quote(const std::string& text);

// A text table: header row, a rule, rows. Columns are as wide as their widest cell
// (counted in UTF-8 characters); the last column is not padded. Control characters in
// cells are shown as '?' so LDAP data cannot mess up the terminal.
class Table {
public:
    explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
    void add(std::vector<std::string> row);
    bool empty() const { return rows_.empty(); }
    std::string render() const;

private:
    std::vector<std::string> headers_;
    std::vector<std::vector<std::string>> rows_;
};

std::string join(const std::vector<std::string>& parts, const std::string& separator);
// 1536 -> "1.5K", 0 -> "0"
std::string human_size(unsigned long long bytes);

}  // namespace mailgrant::cli
