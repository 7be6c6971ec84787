// report_table.h -- the admin's mailbox table of `mailgrant report`, as data: one
// ReportRow per mailbox, the columns an admin can choose (--columns), sort on (--sort
// COL[,-COL]) and filter on (--filter KEY=GLOB | KEY!=GLOB | KEY>V | KEY<V | KEY>=V |
// KEY<=V), and the three renderings (table, JSON, CSV). Pure code, so every column,
// filter and sort is unit-tested without LDAP or Dovecot; cmd_report.cpp fills the rows.
//
// Unknown values (no doveadm, no last-login data) are "-" in tables and CSV, null in
// JSON; they never match a > or < filter and sort last in either direction.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "output.h"

namespace mailgrant::cli {

enum class Col { Address, Name, Type, Owner, Aliases, Access, Messages, Unread, Size, LastLogin, Grants, Expires };

struct ReportRow {
    std::string address;  // primary address
    std::string dn;
    std::string name;     // displayName, else cn
    bool shared = false;
    std::vector<std::string> owners;   // addresses (or DNs) of the owner(s)
    std::vector<std::string> aliases;
    std::vector<std::string> access;   // "bob@example.com (editor+sendAs via support-team)"
    Json access_json = Json::array();
    std::optional<unsigned long long> messages, unread, size;
    std::optional<std::time_t> last_login;
    std::vector<std::string> grants;   // names of the grant entries below the mailbox
    std::optional<std::time_t> expires;  // the earliest end of a grant still in force or to come
};

struct ColumnInfo {
    Col col;
    const char* key;     // --columns / --sort / --filter name
    const char* header;  // table and CSV header
    const char* json;    // JSON member
};
const std::vector<ColumnInfo>& report_columns();
const ColumnInfo& column_info(Col col);

// Table/CSV default (the report before issue 14) and the JSON default (every column that
// needs nothing but LDAP and doveadm).
std::vector<Col> default_table_columns();
std::vector<Col> default_json_columns();

constexpr std::size_t kMaxReportArgument = 1024;  // --columns, --sort, --filter text

// "address,name,size" -> columns. Throws UsageError naming the unknown one and the choices.
std::vector<Col> parse_columns(const std::string& text);

struct SortKey {
    Col col;
    bool descending = false;
};
std::vector<SortKey> parse_sort(const std::string& text);  // "size,-last-login"

struct Filter {
    enum class Op { Glob, NotGlob, Less, LessEq, Greater, GreaterEq };
    Col col;
    Op op;
    std::string text;        // the glob (Glob, NotGlob)
    long long number = 0;    // comparisons: a count, bytes, or a Unix time
};
// "size>1M", "last-login<2026-01-01", "owner=*@example.com", "type=shared". Throws UsageError.
Filter parse_filter(const std::string& text);

bool matches(const ReportRow& row, const Filter& filter);
void sort_rows(std::vector<ReportRow>& rows, const std::vector<SortKey>& keys);  // stable; address breaks ties

std::string cell(const ReportRow& row, Col col);  // as in tables and CSV
std::string render_table(const std::vector<ReportRow>& rows, const std::vector<Col>& cols);
std::string render_csv(const std::vector<ReportRow>& rows, const std::vector<Col>& cols);  // RFC 4180
Json render_json(const std::vector<ReportRow>& rows, const std::vector<Col>& cols);      // {"mailboxes": [...]}

// One row of render_csv (with its CRLF) / one element of render_json's "mailboxes".
std::string csv_row(const ReportRow& row, const std::vector<Col>& cols);
Json json_row(const ReportRow& row, const std::vector<Col>& cols);

// The report's output as rows come in, byte for byte what render_table / render_csv /
// render_json of all of them (sorted) would print. CSV and JSON without a sort are
// written row by row, so a report over 100,000 mailboxes holds one row (issue 19); a
// table (its column widths need every row) keeps only the cells; a sort keeps the rows.
class ReportWriter {
public:
    ReportWriter(std::ostream& out, std::string format, std::vector<Col> cols, std::vector<SortKey> sort);
    ReportWriter(const ReportWriter&) = delete;
    ReportWriter& operator=(const ReportWriter&) = delete;
    void add(ReportRow&& row);
    void finish();  // once, after the last row

private:
    void write(const ReportRow& row);

    std::ostream& out_;
    const std::string format_;
    const std::vector<Col> cols_;
    const std::vector<SortKey> sort_;
    std::vector<ReportRow> held_;  // with a sort only
    Table table_;                  // table format only
    std::size_t written_ = 0;
};

// Columns whose values come from doveadm / the last-login dictionary.
bool needs_counts(Col col);

}  // namespace mailgrant::cli
