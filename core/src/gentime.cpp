// gentime.cpp -- strict GeneralizedTime parsing (values come from LDAP: untrusted).
#include "mailgrant/gentime.h"

#include <cctype>

namespace mailgrant {
namespace {

constexpr std::size_t kMaxLength = 40;

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm),
// so the result does not depend on the process's TZ as mktime would.
long long days_from_civil(long long y, unsigned m, unsigned d) {
    y -= m <= 2;
    const long long era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<long long>(doe) - 719468;
}

unsigned days_in_month(long long y, unsigned m) {
    static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

class Cursor {
public:
    explicit Cursor(std::string_view s) : s_(s) {}
    bool digits(std::size_t n, int& out) {
        if (pos_ + n > s_.size()) return false;
        int v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const char c = s_[pos_ + i];
            if (!std::isdigit(static_cast<unsigned char>(c))) return false;
            v = v * 10 + (c - '0');
        }
        out = v;
        pos_ += n;
        return true;
    }
    bool next_is_digit() const { return pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_])); }
    bool take(char c) {
        if (pos_ < s_.size() && s_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    bool at_end() const { return pos_ == s_.size(); }

private:
    std::string_view s_;
    std::size_t pos_ = 0;
};

std::optional<std::time_t> fail(std::string* error, const std::string& why) {
    if (error) *error = why;
    return std::nullopt;
}

}  // namespace

std::optional<std::time_t> parse_generalized_time(std::string_view text, std::string* error) {
    if (text.size() > kMaxLength) return fail(error, "GeneralizedTime longer than 40 characters");
    Cursor c(text);
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!c.digits(4, year) || !c.digits(2, month) || !c.digits(2, day) || !c.digits(2, hour))
        return fail(error, "expected YYYYMMDDHH at the start of a GeneralizedTime");
    if (c.next_is_digit()) {
        if (!c.digits(2, minute)) return fail(error, "bad minutes in GeneralizedTime");
        if (c.next_is_digit() && !c.digits(2, second)) return fail(error, "bad seconds in GeneralizedTime");
    }
    if (c.take('.') || c.take(',')) {
        int ignored = 0;
        if (!c.next_is_digit()) return fail(error, "empty fraction in GeneralizedTime");
        while (c.next_is_digit()) c.digits(1, ignored);
    }
    long offset_s = 0;
    if (c.take('Z')) {
    } else {
        const bool plus = c.take('+');
        if (!plus && !c.take('-')) return fail(error, "GeneralizedTime needs a time zone (Z or +hhmm/-hhmm)");
        int oh = 0, om = 0;
        if (!c.digits(2, oh)) return fail(error, "bad time zone offset in GeneralizedTime");
        if (c.next_is_digit() && !c.digits(2, om)) return fail(error, "bad time zone minutes in GeneralizedTime");
        if (oh > 23 || om > 59) return fail(error, "time zone offset out of range in GeneralizedTime");
        offset_s = (oh * 3600L + om * 60L) * (plus ? 1 : -1);
    }
    if (!c.at_end()) return fail(error, "unexpected characters after GeneralizedTime");
    if (month < 1 || month > 12 || day < 1 || static_cast<unsigned>(day) > days_in_month(year, month) ||
        hour > 23 || minute > 59 || second > 60)
        return fail(error, "date or time out of range in GeneralizedTime");
    if (second == 60) second = 59;  // leap second: treat as the last second of the minute
    const long long days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    const long long t = days * 86400LL + hour * 3600LL + minute * 60LL + second - offset_s;
    return static_cast<std::time_t>(t);
}

std::string format_utc(std::time_t t, const char* strftime_format) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    const std::size_t n = std::strftime(buf, sizeof buf, strftime_format, &tm);
    return std::string(buf, n);
}

std::string format_generalized_time(std::time_t t) { return format_utc(t, "%Y%m%d%H%M%SZ"); }

}  // namespace mailgrant
