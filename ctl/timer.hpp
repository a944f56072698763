// timer: what timer-wait (ctl/timer_wait.cpp) is asked to do, and when it next runs its
// program. Pure: the clocks are arguments.
//
// timer-wait runs the program after "--" (for converted timer units, `system-control start X`)
// each time one of its deadlines comes, like a systemd timer unit (systemd.timer(5)):
//   --on-calendar EVENT      each time the calendar event comes (calendar.hpp)
//   --on-boot SECONDS        once, that long after boot (at once if that has passed)
//   --on-active SECONDS      once, that long after timer-wait started
//   --on-unit-active SECONDS that long after each run of the program began
//   --on-unit-inactive SECONDS  that long after each run ended
//   --randomized-delay SECONDS  a random delay up to this much added to each deadline
//   --persistent FILE        its mtime is when the program last ran for a calendar event; one
//                            missed while timer-wait was not running runs it at once
// Each option may be given more than once. SECONDS may have a fraction ("1.5").
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "calendar.hpp"

namespace hw::ctl::timer {

using ms = std::int64_t;  // milliseconds

struct timer_request {
    std::vector<calendar::calendar_spec> calendars;
    std::vector<ms> on_boot, on_active, on_unit_active, on_unit_inactive;
    ms randomized_delay = 0;
    std::string persistent;            // the stamp file, or ""
    std::vector<std::string> program;  // never empty, unless `help`
    bool help = false;
};

// The command line after the program's name.
std::expected<timer_request, std::string> parse_arguments(std::span<const std::string> args);
std::string_view usage();

// "90", "0.5", "1.25": seconds, to the millisecond, as milliseconds.
std::optional<ms> parse_seconds(std::string_view text);

// What a running timer-wait knows. Times are milliseconds of CLOCK_BOOTTIME ("boot") or of
// CLOCK_REALTIME ("real").
struct timer_state {
    ms started_boot = 0;
    std::optional<ms> last_start_boot, last_end_boot;  // of the program's last run
    ms calendar_after_real = 0;                        // calendar events after this time are due
    ms delay = 0;              // the randomized delay of the coming deadline
    ms fired_until_boot = -1;  // one-shot deadlines up to this one are done
};

// The coming deadlines: the earliest monotonic one (boot) and the earliest calendar one (real),
// each with the state's delay added; none when nothing is left to come.
struct deadlines {
    std::optional<ms> boot, real;
};
deadlines next_deadlines(const timer_request& r, const timer_state& s);

// The state after the program ran from `start` to `end` (both read from both clocks), with
// `delay` the randomized delay for the next deadline.
void ran(timer_state& s, ms start_boot, ms end_boot, ms start_real, ms delay);

}  // namespace hw::ctl::timer
