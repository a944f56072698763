// calendar: systemd's calendar events (systemd.time(7), "Calendar Events"), as OnCalendar=
// writes them, and the next time one of them comes. Pure (the time zone is the process's).
//
// Accepted: "[WEEKDAYS] [DATE] [TIME] [UTC]", where
//   WEEKDAYS  Mon, Monday, lists and ranges: "Mon..Fri", "Sat,Sun"
//   DATE      Y-M-D or M-D (the year then any)
//   TIME      H:M or H:M:S (seconds 00 when left out); 00:00:00 when TIME is left out
// and each number is "*", a value, a range "A..B", a repetition "A/N" or "*/N" or "A..B/N", or a
// list of those with ",". The shorthands minutely, hourly, daily, weekly, monthly, yearly
// (annually), quarterly and semiannually are what systemd says they are. Not accepted (an
// error): "~" (days from the end of a month), fractional seconds, time zones other than UTC.
#pragma once

#include <bitset>
#include <ctime>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace hw::ctl::calendar {

inline constexpr int first_year = 1970, last_year = 2199;

struct calendar_spec {
    std::bitset<last_year - first_year + 1> years;  // bit y - first_year
    std::bitset<13> months;                         // 1..12
    std::bitset<32> days;                           // 1..31
    std::bitset<7> weekdays;                        // 0 = Sunday, as tm_wday
    std::bitset<24> hours;
    std::bitset<60> minutes, seconds;
    bool utc = false;
};

std::expected<calendar_spec, std::string> parse(std::string_view text);

// The first second after `after` that the event matches (in local time, or UTC); nullopt when
// none comes before the end of last_year.
std::optional<std::time_t> next(const calendar_spec& spec, std::time_t after);

}  // namespace hw::ctl::calendar
