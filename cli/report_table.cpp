// report_table.cpp -- see report_table.h.
#include "report_table.h"

#include <fnmatch.h>

#include <algorithm>

#include "args.h"
#include "grant_spec.h"
#include "mailgrant/dn.h"
#include "mailgrant/gentime.h"

namespace mailgrant::cli {
namespace {

enum class Kind { Text, List, Count, Bytes, Date };

Kind kind_of(Col c) {
    switch (c) {
        case Col::Owner:
        case Col::Aliases:
        case Col::Access:
        case Col::Grants: return Kind::List;
        case Col::Messages:
        case Col::Unread: return Kind::Count;
        case Col::Size: return Kind::Bytes;
        case Col::LastLogin:
        case Col::Expires: return Kind::Date;
        default: return Kind::Text;
    }
}

std::string names_list() {
    std::string out;
    for (const auto& c : report_columns()) out += (out.empty() ? "" : ", ") + std::string(c.key);
    return out;
}

Col column_by_key(const std::string& key) {
    for (const auto& c : report_columns())
        if (key == c.key) return c.col;
    throw UsageError("unknown column '" + key + "' (columns: " + names_list() + ")");
}

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : text) {
        if (c == sep) {
            out.push_back(cur);
            cur.clear();
        } else if (c != ' ') {
            cur += c;
        }
    }
    out.push_back(cur);
    return out;
}

void check_length(const std::string& text, const char* option) {
    if (text.size() > kMaxReportArgument)
        throw UsageError(std::string(option) + " is longer than " + std::to_string(kMaxReportArgument) + " characters");
}

std::string date_text(const std::optional<std::time_t>& t) { return t ? format_utc(*t, "%Y-%m-%d") : "-"; }

// The value compared by > and <; nullopt = unknown.
std::optional<long long> number_of(const ReportRow& r, Col c) {
    auto u = [](const std::optional<unsigned long long>& v) {
        return v ? std::optional<long long>(static_cast<long long>(*v)) : std::nullopt;
    };
    switch (c) {
        case Col::Messages: return u(r.messages);
        case Col::Unread: return u(r.unread);
        case Col::Size: return u(r.size);
        case Col::LastLogin: return r.last_login ? std::optional<long long>(*r.last_login) : std::nullopt;
        case Col::Expires: return r.expires ? std::optional<long long>(*r.expires) : std::nullopt;
        case Col::Owner: return static_cast<long long>(r.owners.size());
        case Col::Aliases: return static_cast<long long>(r.aliases.size());
        case Col::Access: return static_cast<long long>(r.access.size());
        case Col::Grants: return static_cast<long long>(r.grants.size());
        default: return std::nullopt;
    }
}

// What a glob is matched against: every element of a list (an empty list is "-"), else the cell.
std::vector<std::string> glob_subjects(const ReportRow& r, Col c) {
    const std::vector<std::string>* list = nullptr;
    switch (c) {
        case Col::Owner: list = &r.owners; break;
        case Col::Aliases: list = &r.aliases; break;
        case Col::Access: list = &r.access; break;
        case Col::Grants: list = &r.grants; break;
        case Col::Address: return r.address.empty() ? std::vector<std::string>{} : std::vector<std::string>{r.address};
        default: return {cell(r, c)};
    }
    if (list->empty()) return {"-"};
    return *list;
}

bool glob_ci(const std::string& pattern, const std::string& text) {
    return fnmatch(ascii_lower(pattern).c_str(), ascii_lower(text).c_str(), 0) == 0;
}

std::string csv_field(const std::string& v) {
    if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
    std::string out = "\"";
    for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

}  // namespace

const std::vector<ColumnInfo>& report_columns() {
    static const std::vector<ColumnInfo> cols{
        {Col::Address, "address", "MAILBOX", "mailbox"},   {Col::Name, "name", "NAME", "name"},
        {Col::Type, "type", "TYPE", "type"},                {Col::Owner, "owner", "OWNER", "owner"},
        {Col::Aliases, "aliases", "ALIASES", "aliases"},    {Col::Access, "access", "ACCESS", "access"},
        {Col::Messages, "messages", "MESSAGES", "messages"}, {Col::Unread, "unread", "UNREAD", "unread"},
        {Col::Size, "size", "SIZE", "size"},                {Col::LastLogin, "last-login", "LAST LOGIN", "last_login"},
        {Col::Grants, "grants", "GRANTS", "grants"},        {Col::Expires, "expires", "EXPIRES", "expires"},
    };
    return cols;
}

const ColumnInfo& column_info(Col col) {
    for (const auto& c : report_columns())
        if (c.col == col) return c;
    return report_columns().front();
}

std::vector<Col> default_table_columns() {
    return {Col::Address, Col::Type, Col::Aliases, Col::Access, Col::Messages, Col::Unread, Col::Size};
}

std::vector<Col> default_json_columns() {
    return {Col::Address, Col::Name, Col::Type, Col::Owner, Col::Aliases, Col::Access,
            Col::Messages, Col::Unread, Col::Size, Col::Grants, Col::Expires};
}

bool needs_counts(Col col) { return col == Col::Messages || col == Col::Unread || col == Col::Size; }

std::vector<Col> parse_columns(const std::string& text) {
    check_length(text, "--columns");
    std::vector<Col> out;
    for (const auto& key : split(text, ',')) {
        if (key.empty()) continue;
        const Col c = column_by_key(key);
        if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
    }
    if (out.empty()) throw UsageError("--columns names no column (columns: " + names_list() + ")");
    return out;
}

std::vector<SortKey> parse_sort(const std::string& text) {
    check_length(text, "--sort");
    std::vector<SortKey> out;
    for (auto key : split(text, ',')) {
        if (key.empty()) continue;
        SortKey k{Col::Address, false};
        if (key[0] == '-' || key[0] == '+') {
            k.descending = key[0] == '-';
            key = key.substr(1);
        }
        k.col = column_by_key(key);
        out.push_back(k);
    }
    if (out.empty()) throw UsageError("--sort names no column");
    return out;
}

Filter parse_filter(const std::string& text) {
    check_length(text, "--filter");
    const auto at = text.find_first_of("=!<>");
    if (at == std::string::npos || at == 0)
        throw UsageError("--filter '" + text + "' is not KEY=GLOB, KEY!=GLOB, KEY>VALUE or KEY<VALUE");
    Filter f{column_by_key(text.substr(0, at)), Filter::Op::Glob, "", 0};
    std::string op = text.substr(at, 1);
    if (at + 1 < text.size() && text[at + 1] == '=' && text[at] != '=') op += '=';
    const std::string value = text.substr(at + op.size());
    if (op == "=") f.op = Filter::Op::Glob;
    else if (op == "!=") f.op = Filter::Op::NotGlob;
    else if (op == "<") f.op = Filter::Op::Less;
    else if (op == "<=") f.op = Filter::Op::LessEq;
    else if (op == ">") f.op = Filter::Op::Greater;
    else if (op == ">=") f.op = Filter::Op::GreaterEq;
    else throw UsageError("--filter '" + text + "': unknown operator '" + op + "'");
    if (f.op == Filter::Op::Glob || f.op == Filter::Op::NotGlob) {
        f.text = value;
        return f;
    }
    const Kind kind = kind_of(f.col);
    const std::string key = column_info(f.col).key;
    if (kind == Kind::Text)
        throw UsageError("--filter '" + text + "': " + key + " is text; use " + key + "=GLOB");
    if (kind == Kind::Date) {
        try {
            f.number = static_cast<long long>(parse_time_argument(value, false));
        } catch (const std::invalid_argument& e) {
            throw UsageError("--filter '" + text + "': " + e.what());
        }
    } else if (kind == Kind::Bytes) {
        f.number = static_cast<long long>(parse_size(value));
    } else {  // counts: a plain number (lists compare their number of entries)
        if (value.empty() || value.size() > 18 || value.find_first_not_of("0123456789") != std::string::npos)
            throw UsageError("--filter '" + text + "': '" + value + "' is not a number");
        f.number = std::stoll(value);
    }
    return f;
}

bool matches(const ReportRow& row, const Filter& f) {
    if (f.op == Filter::Op::Glob || f.op == Filter::Op::NotGlob) {
        bool any = false;
        for (const auto& s : glob_subjects(row, f.col)) any = any || glob_ci(f.text, s);
        return f.op == Filter::Op::Glob ? any : !any;
    }
    const auto n = number_of(row, f.col);
    if (!n) return false;
    switch (f.op) {
        case Filter::Op::Less: return *n < f.number;
        case Filter::Op::LessEq: return *n <= f.number;
        case Filter::Op::Greater: return *n > f.number;
        case Filter::Op::GreaterEq: return *n >= f.number;
        default: return false;
    }
}

void sort_rows(std::vector<ReportRow>& rows, const std::vector<SortKey>& keys) {
    std::stable_sort(rows.begin(), rows.end(), [&](const ReportRow& a, const ReportRow& b) {
        for (const auto& k : keys) {
            const Kind kind = kind_of(k.col);
            if (kind == Kind::Text) {
                const std::string x = ascii_lower(cell(a, k.col)), y = ascii_lower(cell(b, k.col));
                if (x != y) return k.descending ? x > y : x < y;
                continue;
            }
            const auto x = number_of(a, k.col), y = number_of(b, k.col);
            if (!x || !y) {
                if (x.has_value() != y.has_value()) return x.has_value();  // unknown last, either way
                continue;
            }
            if (*x != *y) return k.descending ? *x > *y : *x < *y;
            if (kind == Kind::List) {  // equal counts: by text
                const std::string s = ascii_lower(cell(a, k.col)), t = ascii_lower(cell(b, k.col));
                if (s != t) return k.descending ? s > t : s < t;
            }
        }
        return ascii_lower(a.address) < ascii_lower(b.address);
    });
}

std::string cell(const ReportRow& r, Col c) {
    auto list = [](const std::vector<std::string>& v, const char* sep) { return v.empty() ? std::string("-") : join(v, sep); };
    auto count = [](const std::optional<unsigned long long>& v) { return v ? std::to_string(*v) : std::string("-"); };
    switch (c) {
        case Col::Address: return r.address;
        case Col::Name: return r.name.empty() ? "-" : r.name;
        case Col::Type: return r.shared ? "shared" : "personal";
        case Col::Owner: return list(r.owners, ", ");
        case Col::Aliases: return list(r.aliases, ", ");
        case Col::Access: return list(r.access, "; ");
        case Col::Messages: return count(r.messages);
        case Col::Unread: return count(r.unread);
        case Col::Size: return r.size ? human_size(*r.size) : "-";
        case Col::LastLogin: return date_text(r.last_login);
        case Col::Grants: return list(r.grants, ", ");
        case Col::Expires: return date_text(r.expires);
    }
    return "-";
}

std::string csv_row(const ReportRow& r, const std::vector<Col>& cols) {
    std::string out;
    for (std::size_t i = 0; i < cols.size(); ++i) {
        // exact numbers in CSV (a spreadsheet sums them); "" for unknown
        std::string v = cell(r, cols[i]);
        if (cols[i] == Col::Size) v = r.size ? std::to_string(*r.size) : "";
        else if (v == "-" && kind_of(cols[i]) != Kind::Text) v = "";
        out += (i ? "," : "") + csv_field(v);
    }
    return out + "\r\n";
}

namespace {

std::string csv_header(const std::vector<Col>& cols) {
    std::string out;
    for (std::size_t i = 0; i < cols.size(); ++i) out += (i ? "," : "") + std::string(column_info(cols[i]).key);
    return out + "\r\n";
}

std::vector<std::string> table_headers(const std::vector<Col>& cols) {
    std::vector<std::string> headers;
    for (Col c : cols) headers.push_back(column_info(c).header);
    return headers;
}

std::vector<std::string> table_cells(const ReportRow& r, const std::vector<Col>& cols) {
    std::vector<std::string> cells;
    for (Col c : cols) cells.push_back(cell(r, c));
    return cells;
}

}  // namespace

std::string render_table(const std::vector<ReportRow>& rows, const std::vector<Col>& cols) {
    Table t(table_headers(cols));
    for (const auto& r : rows) t.add(table_cells(r, cols));
    return t.render();
}

std::string render_csv(const std::vector<ReportRow>& rows, const std::vector<Col>& cols) {
    std::string out = csv_header(cols);
    for (const auto& r : rows) out += csv_row(r, cols);
    return out;
}

Json json_row(const ReportRow& r, const std::vector<Col>& cols) {
    auto num = [](const std::optional<unsigned long long>& v) { return v ? Json(*v) : Json(); };
    auto time = [](const std::optional<std::time_t>& t) { return t ? Json(format_time_iso(*t)) : Json(); };
    Json j = Json::object();
    j.set("mailbox", r.address);
    j.set("dn", r.dn);
    for (Col c : cols) {
        const char* key = column_info(c).json;
        switch (c) {
            case Col::Address: break;
            case Col::Name: j.set(key, r.name.empty() ? Json() : Json(r.name)); break;
            case Col::Type: j.set(key, r.shared ? "shared" : "personal"); break;
            case Col::Owner: j.set(key, Json::strings(r.owners)); break;
            case Col::Aliases: j.set(key, Json::strings(r.aliases)); break;
            case Col::Access: j.set(key, r.access_json); break;
            case Col::Messages: j.set(key, num(r.messages)); break;
            case Col::Unread: j.set(key, num(r.unread)); break;
            case Col::Size: j.set(key, num(r.size)); break;
            case Col::LastLogin: j.set(key, time(r.last_login)); break;
            case Col::Grants: j.set(key, Json::strings(r.grants)); break;
            case Col::Expires: j.set(key, time(r.expires)); break;
        }
    }
    return j;
}

Json render_json(const std::vector<ReportRow>& rows, const std::vector<Col>& cols) {
    Json arr = Json::array();
    for (const auto& r : rows) arr.push(json_row(r, cols));
    Json top = Json::object();
    top.set("mailboxes", arr);
    return top;
}


ReportWriter::ReportWriter(std::ostream& out, std::string format, std::vector<Col> cols, std::vector<SortKey> sort)
    : out_(out), format_(std::move(format)), cols_(std::move(cols)), sort_(std::move(sort)), table_(table_headers(cols_)) {
    if (!sort_.empty()) return;
    if (format_ == "csv") out_ << csv_header(cols_);
    else if (format_ == "json") out_ << "{\n  \"mailboxes\": [";
}

void ReportWriter::write(const ReportRow& row) {
    if (format_ == "table") table_.add(table_cells(row, cols_));
    else if (format_ == "csv") out_ << csv_row(row, cols_);
    else out_ << (written_ ? ",\n    " : "\n    ") << json_row(row, cols_).dump_at(4);
    ++written_;
}

void ReportWriter::add(ReportRow&& row) {
    if (sort_.empty()) write(row);
    else held_.push_back(std::move(row));
}

void ReportWriter::finish() {
    if (!sort_.empty()) {
        // Held until now: the header first, as without a sort.
        sort_rows(held_, sort_);
        if (format_ == "csv") out_ << csv_header(cols_);
        else if (format_ == "json") out_ << "{\n  \"mailboxes\": [";
        for (const auto& row : held_) write(row);
        held_.clear();
    }
    if (format_ == "table") out_ << table_.render();
    else if (format_ == "json") out_ << (written_ ? "\n  ]\n}\n" : "]\n}\n");
    out_.flush();
}

}  // namespace mailgrant::cli
