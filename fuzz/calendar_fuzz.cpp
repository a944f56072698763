// Calendar events (ctl/calendar): OnCalendar= values come from unit files, which packages ship.
// The first line of the input is the event, the second a time in seconds since the epoch (0
// when missing). What parses gives the same event parsed again; its next time is after the
// given one, and every field of it is one the event allows (in UTC: the replay sets TZ=UTC).
#include <stdlib.h>

#include <charconv>
#include <ctime>
#include <string>

#include "ctl/calendar.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace hw::ctl::calendar;
    static bool utc_zone = [] {
        ::setenv("TZ", "UTC", 1);
        ::tzset();
        return true;
    }();
    (void)utc_zone;
    auto in = hw::fuzz::text(data, size);
    std::string_view text = hw::fuzz::take_until(in, '\n');
    std::string_view when_text = hw::fuzz::take_until(in, '\n');
    long long after = 0;
    std::from_chars(when_text.data(), when_text.data() + when_text.size(), after);
    if (after < 0 || after > 7'000'000'000LL) after = 0;  // within the years events can name

    auto spec = parse(text);
    if (!spec) {
        FUZZ_CHECK(!spec.error().empty());
        return 0;
    }
    auto again = parse(text);
    FUZZ_CHECK(again && again->years == spec->years && again->months == spec->months &&
               again->days == spec->days && again->weekdays == spec->weekdays &&
               again->hours == spec->hours && again->minutes == spec->minutes &&
               again->seconds == spec->seconds && again->utc == spec->utc);
    auto next_time = next(*spec, static_cast<std::time_t>(after));
    if (!next_time) return 0;
    FUZZ_CHECK(*next_time > after);
    std::tm t{};
    ::gmtime_r(&*next_time, &t);
    FUZZ_CHECK(t.tm_year + 1900 >= first_year && t.tm_year + 1900 <= last_year);
    FUZZ_CHECK(spec->years.test(static_cast<std::size_t>(t.tm_year + 1900 - first_year)));
    FUZZ_CHECK(spec->months.test(static_cast<std::size_t>(t.tm_mon + 1)));
    FUZZ_CHECK(spec->days.test(static_cast<std::size_t>(t.tm_mday)));
    FUZZ_CHECK(spec->weekdays.test(static_cast<std::size_t>(t.tm_wday)));
    FUZZ_CHECK(spec->hours.test(static_cast<std::size_t>(t.tm_hour)));
    FUZZ_CHECK(spec->minutes.test(static_cast<std::size_t>(t.tm_min)));
    FUZZ_CHECK(spec->seconds.test(static_cast<std::size_t>(t.tm_sec)));
    return 0;
}
