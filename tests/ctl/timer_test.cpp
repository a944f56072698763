// timer-wait's command line and its deadlines (ctl/timer.hpp), with the clocks as arguments.
#include "ctl/timer.hpp"

#include <doctest/doctest.h>

#include <ctime>

using namespace hw::ctl::timer;

namespace {

std::expected<timer_request, std::string> parse(std::vector<std::string> args) {
    return parse_arguments(args);
}

timer_request request(std::vector<std::string> args) {
    args.insert(args.end(), {"--", "system-control", "start", "x"});
    auto r = parse(args);
    REQUIRE_MESSAGE(r, (r ? "" : r.error()));
    return *r;
}

ms utc_ms(int y, int mo, int d, int h = 0, int mi = 0) {
    std::tm t{.tm_min = mi, .tm_hour = h, .tm_mday = d, .tm_mon = mo - 1, .tm_year = y - 1900};
    return ms(::timegm(&t)) * 1000;
}

}  // namespace

TEST_CASE("seconds, to the millisecond") {
    CHECK(parse_seconds("90") == 90'000);
    CHECK(parse_seconds("0.5") == 500);
    CHECK(parse_seconds("1.25") == 1'250);
    CHECK(parse_seconds("0.001") == 1);
    for (const char* bad : {"", "-1", "1.", ".5", "1.2345", "1e3", "5min", "99999999999"}) {
        CAPTURE(bad);
        CHECK(!parse_seconds(bad));
    }
}

TEST_CASE("the command line: repeated options, the program after --, errors") {
    auto r = request({"--on-calendar", "daily UTC", "--on-calendar", "Mon 12:00", "--on-boot",
                      "900", "--on-unit-active", "86400", "--randomized-delay", "1.5",
                      "--persistent", "/var/lib/heartwood/timers/x"});
    CHECK(r.calendars.size() == 2);
    CHECK(r.on_boot == std::vector<ms>{900'000});
    CHECK(r.on_unit_active == std::vector<ms>{86'400'000});
    CHECK(r.randomized_delay == 1'500);
    CHECK(r.persistent == "/var/lib/heartwood/timers/x");
    CHECK(r.program == std::vector<std::string>{"system-control", "start", "x"});

    struct bad_case {
        std::vector<std::string> args;
        const char* why;
    };
    for (const auto& [args, why] : {
             bad_case{{"--on-boot", "10"}, "no program to run after --"},
             bad_case{{"--", "true"}, "no deadline"},
             bad_case{{"--on-calendar", "25:00", "--", "true"}, "--on-calendar 25:00: hour '25'"},
             bad_case{{"--on-boot", "5min", "--", "true"}, "not a number of seconds"},
             bad_case{{"--persistent", "stamp", "--on-boot", "1", "--", "true"}, "absolute path"},
             bad_case{{"--every", "1", "--", "true"}, "unknown option --every"},
             bad_case{{"--on-boot"}, "--on-boot needs a value"},
             bad_case{{"true"}, "options come first"},
         }) {
        CAPTURE(why);
        auto e = parse(args);
        REQUIRE(!e);
        CHECK(e.error().find(why) != std::string::npos);
    }
    CHECK(parse({"--help"})->help);
}

TEST_CASE("one-shot deadlines: after boot and after the start, each once") {
    auto r = request({"--on-boot", "60", "--on-active", "10"});
    timer_state s{.started_boot = 100'000};  // started 100 s after boot
    // OnBootSec=60 has passed already: due at once; then OnActiveSec=10, at 110 s.
    CHECK(next_deadlines(r, s).boot == 60'000);
    ran(s, 100'000, 100'500, 0, 0);
    CHECK(next_deadlines(r, s).boot == 110'000);
    ran(s, 110'000, 110'200, 0, 0);
    auto d = next_deadlines(r, s);
    CHECK(!d.boot);
    CHECK(!d.real);
}

TEST_CASE("repeating deadlines: after each run's start, after each run's end") {
    auto r = request({"--on-boot", "5", "--on-unit-active", "60", "--on-unit-inactive", "100"});
    timer_state s{.started_boot = 1'000};
    CHECK(next_deadlines(r, s).boot == 5'000);   // nothing ran yet: only the boot deadline
    ran(s, 5'000, 50'000, 0, 0);                 // a run of 45 s
    CHECK(next_deadlines(r, s).boot == 65'000);  // start + 60 comes before end + 100
    ran(s, 65'000, 66'000, 0, 0);
    CHECK(next_deadlines(r, s).boot == 125'000);
}

TEST_CASE("calendar events after the last run, the randomized delay added") {
    auto r = request({"--on-calendar", "hourly UTC"});
    timer_state s{.calendar_after_real = utc_ms(2026, 12, 6, 3, 10), .delay = 1'234};
    auto d = next_deadlines(r, s);
    CHECK(!d.boot);
    CHECK(d.real == utc_ms(2026, 12, 6, 4) + 1'234);
    // It ran at 04:00:01.234: the next is 05:00 plus the new delay.
    ran(s, 0, 0, utc_ms(2026, 12, 6, 4) + 1'234, 99);
    CHECK(next_deadlines(r, s).real == utc_ms(2026, 12, 6, 5) + 99);
    // A persistent stamp from two days ago: the missed event is due at once.
    timer_state missed{.calendar_after_real = utc_ms(2026, 12, 4, 3)};
    CHECK(next_deadlines(r, missed).real == utc_ms(2026, 12, 4, 4));
}
