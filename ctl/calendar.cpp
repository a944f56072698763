#include "calendar.hpp"

#include <fmt/core.h>

#include <array>
#include <charconv>
#include <vector>

namespace hw::ctl::calendar {

namespace {

struct shorthand {
    std::string_view name, spec;
};
constexpr std::array<shorthand, 9> shorthands = {{
    {"minutely", "*-*-* *:*:00"},
    {"hourly", "*-*-* *:00:00"},
    {"daily", "*-*-* 00:00:00"},
    {"monthly", "*-*-01 00:00:00"},
    {"weekly", "Mon *-*-* 00:00:00"},
    {"yearly", "*-01-01 00:00:00"},
    {"annually", "*-01-01 00:00:00"},
    {"quarterly", "*-01,04,07,10-01 00:00:00"},
    {"semiannually", "*-01,07-01 00:00:00"},
}};

constexpr std::array<std::string_view, 7> weekday_names = {
    "sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};

std::vector<std::string_view> split(std::string_view text, char sep) {
    std::vector<std::string_view> parts;
    for (std::size_t start = 0;;) {
        auto at = text.find(sep, start);
        parts.push_back(text.substr(start, at - start));
        if (at == std::string_view::npos) return parts;
        start = at + 1;
    }
}

std::optional<int> integer(std::string_view text) {
    int v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return v;
}

// A weekday by its English name, whole or its first three letters, in any case.
std::optional<int> weekday(std::string_view text) {
    std::string lower;
    for (char c : text) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    for (int d = 0; d < 7; ++d)
        if (lower == weekday_names[d] || (lower.size() == 3 && weekday_names[d].starts_with(lower)))
            return d;
    return std::nullopt;
}

// One field: a list of "*", "V", "A..B", with "/N" after any of them; values in [low, high].
// Sets the bits of `set` at value - `offset`.
template <std::size_t N>
std::expected<void, std::string> field(std::string_view text, std::string_view what, int low,
                                       int high, int offset, std::bitset<N>& set) {
    auto bad = [&](std::string_view why) {
        return std::unexpected(fmt::format("{} '{}': {}", what, text, why));
    };
    for (std::string_view item : split(text, ',')) {
        std::string_view range = item, step_text;
        if (auto slash = item.find('/'); slash != std::string_view::npos) {
            range = item.substr(0, slash);
            step_text = item.substr(slash + 1);
        }
        int from = low, to = high, step = 1;
        if (!step_text.empty() || item.find('/') != std::string_view::npos) {
            auto s = integer(step_text);
            if (!s || *s < 1) return bad("a repetition needs a number from 1 up after '/'");
            step = *s;
        }
        if (range != "*") {
            auto dots = range.find("..");
            auto a = integer(range.substr(0, dots));
            auto b = dots == std::string_view::npos ? a : integer(range.substr(dots + 2));
            if (range.find('~') != std::string_view::npos)
                return bad("not supported: '~' (days from the end of the month)");
            if (range.find('.') != std::string_view::npos && dots == std::string_view::npos)
                return bad("not supported: fractions");
            if (!a || !b) return bad("not a number, '*' or a range A..B");
            from = *a;
            // "A/N" repeats up to the field's end; "A" alone is A.
            to = dots != std::string_view::npos ? *b : step_text.empty() ? *a : high;
        }
        if (from < low || to > high || from > to)
            return bad(fmt::format("values from {} to {}", low, high));
        for (int v = from; v <= to; v += step) set.set(static_cast<std::size_t>(v - offset));
    }
    return {};
}

std::expected<void, std::string> weekdays(std::string_view text, std::bitset<7>& set) {
    for (std::string_view item : split(text, ',')) {
        auto dots = item.find("..");
        auto a = weekday(item.substr(0, dots));
        auto b = dots == std::string_view::npos ? a : weekday(item.substr(dots + 2));
        if (!a || !b)
            return std::unexpected(fmt::format("'{}': not a weekday (Mon, Tuesday, ...)", item));
        for (int d = *a;; d = (d + 1) % 7) {  // Fri..Mon wraps around the week
            set.set(static_cast<std::size_t>(d));
            if (d == *b) break;
        }
    }
    return {};
}

std::expected<void, std::string> date(std::string_view text, calendar_spec& s) {
    auto parts = split(text, '-');
    if (parts.size() == 2) parts.insert(parts.begin(), "*");
    if (parts.size() != 3)
        return std::unexpected(fmt::format("'{}': a date is Y-M-D or M-D", text));
    if (auto r = field(parts[0], "year", first_year, last_year, first_year, s.years); !r) return r;
    if (auto r = field(parts[1], "month", 1, 12, 0, s.months); !r) return r;
    return field(parts[2], "day", 1, 31, 0, s.days);
}

std::expected<void, std::string> time_of_day(std::string_view text, calendar_spec& s) {
    auto parts = split(text, ':');
    if (parts.size() == 2) parts.push_back("00");
    if (parts.size() != 3)
        return std::unexpected(fmt::format("'{}': a time is H:M or H:M:S", text));
    if (auto r = field(parts[0], "hour", 0, 23, 0, s.hours); !r) return r;
    if (auto r = field(parts[1], "minute", 0, 59, 0, s.minutes); !r) return r;
    return field(parts[2], "second", 0, 59, 0, s.seconds);
}

// The calendar time `t` made whole again (fields out of range carried over): mktime() or
// timegm(), then back; false past the last year.
bool normalize(std::tm& t, bool utc) {
    t.tm_isdst = -1;
    std::time_t when = utc ? ::timegm(&t) : std::mktime(&t);
    if (when == -1) return false;
    if (utc)
        ::gmtime_r(&when, &t);
    else
        ::localtime_r(&when, &t);
    return t.tm_year + 1900 <= last_year;
}

}  // namespace

std::expected<calendar_spec, std::string> parse(std::string_view text) {
    std::vector<std::string_view> words;
    for (auto w : split(text, ' '))
        if (!w.empty()) words.push_back(w);
    calendar_spec s;
    if (!words.empty() && words.back() == "UTC") {
        s.utc = true;
        words.pop_back();
    }
    if (words.empty()) return std::unexpected("an empty calendar event");
    for (const auto& shorthand : shorthands)
        if (words.size() == 1 && words[0] == shorthand.name) words = split(shorthand.spec, ' ');
    bool have_weekdays = false, have_date = false, have_time = false;
    for (auto w : words) {
        std::expected<void, std::string> r;
        bool letters = (w[0] >= 'A' && w[0] <= 'Z') || (w[0] >= 'a' && w[0] <= 'z');
        if (letters && !have_weekdays && !have_date && !have_time) {
            have_weekdays = true;
            r = weekdays(w, s.weekdays);
        } else if (w.find(':') != std::string_view::npos && !have_time) {
            have_time = true;
            r = time_of_day(w, s);
        } else if (w.find('-') != std::string_view::npos && !have_date && !have_time) {
            have_date = true;
            r = date(w, s);
        } else {
            return std::unexpected(fmt::format(
                "'{}': not a weekday, date or time in its place ([WEEKDAYS] [DATE] [TIME] [UTC])",
                w));
        }
        if (!r) return std::unexpected(r.error());
    }
    if (!have_weekdays) s.weekdays.set();
    if (!have_date) {
        s.years.set();
        s.months.set();
        s.days.set();
        s.months.reset(0);
        s.days.reset(0);
    }
    if (!have_time) {
        s.hours.set(0);
        s.minutes.set(0);
        s.seconds.set(0);
    }
    return s;
}

std::optional<std::time_t> next(const calendar_spec& s, std::time_t after) {
    std::tm t{};
    std::time_t start = after + 1;
    if (s.utc)
        ::gmtime_r(&start, &t);
    else
        ::localtime_r(&start, &t);
    // Each round moves to the start of the next value of the first field that does not match;
    // at most a few hundred rounds a year, and the years end.
    for (int round = 0; round < 1'000'000; ++round) {
        int year = t.tm_year + 1900;
        if (year > last_year) return std::nullopt;
        if (year < first_year || !s.years.test(static_cast<std::size_t>(year - first_year))) {
            t = std::tm{.tm_mday = 1, .tm_year = t.tm_year + 1};
        } else if (!s.months.test(static_cast<std::size_t>(t.tm_mon + 1))) {
            t = std::tm{.tm_mday = 1, .tm_mon = t.tm_mon + 1, .tm_year = t.tm_year};
        } else if (!s.days.test(static_cast<std::size_t>(t.tm_mday)) ||
                   !s.weekdays.test(static_cast<std::size_t>(t.tm_wday))) {
            t = std::tm{.tm_mday = t.tm_mday + 1, .tm_mon = t.tm_mon, .tm_year = t.tm_year};
        } else if (!s.hours.test(static_cast<std::size_t>(t.tm_hour))) {
            t.tm_hour += 1;
            t.tm_min = t.tm_sec = 0;
        } else if (!s.minutes.test(static_cast<std::size_t>(t.tm_min))) {
            t.tm_min += 1;
            t.tm_sec = 0;
        } else if (!s.seconds.test(static_cast<std::size_t>(t.tm_sec))) {
            t.tm_sec += 1;
        } else {
            std::tm copy = t;
            copy.tm_isdst = -1;
            std::time_t when = s.utc ? ::timegm(&copy) : std::mktime(&copy);
            if (when > after) return when;
            t.tm_sec += 1;  // a local time met again when the clocks went back: not after
        }
        if (!normalize(t, s.utc)) return std::nullopt;
    }
    return std::nullopt;
}

}  // namespace hw::ctl::calendar
