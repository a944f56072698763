// Calendar events (ctl/calendar.hpp): what OnCalendar= accepts, and the next time each comes.
#include "ctl/calendar.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <ctime>

using namespace hw::ctl::calendar;

namespace {

std::time_t utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
    std::tm t{.tm_sec = s,
              .tm_min = mi,
              .tm_hour = h,
              .tm_mday = d,
              .tm_mon = mo - 1,
              .tm_year = y - 1900};
    return ::timegm(&t);
}

// The next time of `text` after `after`, which must parse and come.
std::time_t next_of(const char* text, std::time_t after) {
    auto spec = parse(text);
    INFO(std::string(text));
    REQUIRE_MESSAGE(spec, (spec ? "" : spec.error()));
    auto when = next(*spec, after);
    REQUIRE(when);
    return *when;
}

}  // namespace

TEST_CASE("the shorthands, in UTC: strictly after the given time") {
    std::time_t now = utc(2026, 12, 6, 3, 10);  // a Sunday
    CHECK(next_of("daily UTC", now) == utc(2026, 12, 7));
    CHECK(next_of("hourly UTC", now) == utc(2026, 12, 6, 4));
    CHECK(next_of("hourly UTC", utc(2026, 12, 6, 4)) == utc(2026, 12, 6, 5));
    CHECK(next_of("minutely UTC", now) == utc(2026, 12, 6, 3, 11));
    CHECK(next_of("weekly UTC", now) == utc(2026, 12, 7));  // Monday
    CHECK(next_of("monthly UTC", now) == utc(2027, 1, 1));
    CHECK(next_of("quarterly UTC", utc(2027, 1, 1)) == utc(2027, 4, 1));
    CHECK(next_of("semiannually UTC", utc(2027, 1, 1)) == utc(2027, 7, 1));
    CHECK(next_of("yearly UTC", now) == utc(2027, 1, 1));
    CHECK(next_of("annually UTC", now) == utc(2027, 1, 1));
}

TEST_CASE("weekdays, dates and times, with lists, ranges and repetitions") {
    std::time_t friday = utc(2026, 12, 4, 10);
    CHECK(next_of("Mon..Fri *-*-* 09:30 UTC", friday) == utc(2026, 12, 7, 9, 30));
    CHECK(next_of("Sat,Sun 10:00 UTC", friday) == utc(2026, 12, 5, 10));
    CHECK(next_of("Fri..Mon 08:00 UTC", friday) == utc(2026, 12, 5, 8));  // wraps the week
    CHECK(next_of("Monday 08:00 UTC", friday) == utc(2026, 12, 7, 8));
    CHECK(next_of("*-*-31 UTC", utc(2026, 11, 15)) == utc(2026, 12, 31));  // November has 30
    CHECK(next_of("*-02-29 12:00 UTC", utc(2026, 1, 1)) == utc(2028, 2, 29, 12));
    CHECK(next_of("02-29 12:00 UTC", utc(2026, 1, 1)) == utc(2028, 2, 29, 12));  // M-D
    CHECK(next_of("*:0/15 UTC", utc(2026, 12, 6, 3, 10)) == utc(2026, 12, 6, 3, 15));
    CHECK(next_of("*:0/15 UTC", utc(2026, 12, 6, 3, 50)) == utc(2026, 12, 6, 4, 0));
    CHECK(next_of("*:*:10/20 UTC", utc(2026, 12, 6, 3, 10, 31)) == utc(2026, 12, 6, 3, 10, 50));
    CHECK(next_of("*-*-* 6,18:00 UTC", utc(2026, 12, 6, 7)) == utc(2026, 12, 6, 18));
    CHECK(next_of("2027-01..03-01 UTC", utc(2026, 12, 6)) == utc(2027, 1, 1));
    CHECK(next_of("2027-01..03-01 UTC", utc(2027, 1, 1)) == utc(2027, 2, 1));
    CHECK(next_of("Mon *-*-1..7 04:00 UTC", utc(2026, 12, 8)) == utc(2027, 1, 4, 4));
}

TEST_CASE("an event that will not come again has no next time") {
    auto past = parse("2025-06-01 UTC");
    REQUIRE(past);
    CHECK(!next(*past, utc(2026, 1, 1)));
    auto never = parse("*-02-30 UTC");  // a valid-looking day that no month has
    REQUIRE(never);
    CHECK(!next(*never, utc(2026, 1, 1)));
}

TEST_CASE("local time is the process's time zone") {
    const char* old = std::getenv("TZ");
    std::string saved = old ? old : "";
    ::setenv("TZ", "XXX-2", 1);  // two hours east of UTC, no daylight saving
    ::tzset();
    // 03:10 UTC is 05:10 there; its next midnight is 22:00 UTC.
    CHECK(next_of("daily", utc(2026, 12, 6, 3, 10)) == utc(2026, 12, 6, 22));
    CHECK(next_of("daily UTC", utc(2026, 12, 6, 3, 10)) == utc(2026, 12, 7));
    if (old)
        ::setenv("TZ", saved.c_str(), 1);
    else
        ::unsetenv("TZ");
    ::tzset();
}

TEST_CASE("what is not a calendar event says why") {
    struct bad_case {
        const char* text;
        const char* why;
    };
    for (auto [text, why] : {
             bad_case{"", "empty"},
             bad_case{"UTC", "empty"},
             bad_case{"Mon..Funday", "not a weekday"},
             bad_case{"*-13-01", "month '13': values from 1 to 12"},
             bad_case{"25:00", "hour '25': values from 0 to 23"},
             bad_case{"*-*-~1", "not supported: '~'"},
             bad_case{"12:00:00.5", "not supported: fractions"},
             bad_case{"*-*-* 12:00 Europe/Berlin", "not a weekday, date or time in its place"},
             bad_case{"12:00 Mon", "not a weekday, date or time in its place"},
             bad_case{"*:0/0", "a repetition needs a number from 1 up"},
             bad_case{"*-5..3-01", "values from 1 to 12"},
             bad_case{"1-2-3-4", "a date is Y-M-D or M-D"},
             bad_case{"1:2:3:4", "a time is H:M or H:M:S"},
             bad_case{"1969-01-01", "year '1969'"},
         }) {
        CAPTURE(text);
        auto r = parse(text);
        REQUIRE(!r);
        CHECK(r.error().find(why) != std::string::npos);
    }
}
