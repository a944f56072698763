#include "timer.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace hw::ctl::timer {

namespace {

constexpr ms max_seconds = 10LL * 365 * 24 * 3600;  // ten years: "infinity" is not a deadline

void earliest(std::optional<ms>& best, ms candidate) {
    if (!best || candidate < *best) best = candidate;
}

}  // namespace

std::optional<ms> parse_seconds(std::string_view text) {
    auto dot = text.find('.');
    std::string_view whole = text.substr(0, dot);
    std::string_view fraction = dot == std::string_view::npos ? "" : text.substr(dot + 1);
    ms seconds = 0, millis = 0;
    auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
    if (whole.empty() || ec != std::errc() || end != whole.data() + whole.size() || seconds < 0 ||
        seconds > max_seconds)
        return std::nullopt;
    if (dot != std::string_view::npos) {
        if (fraction.empty() || fraction.size() > 3) return std::nullopt;
        for (std::size_t i = 0; i < 3; ++i) {
            char c = i < fraction.size() ? fraction[i] : '0';
            if (c < '0' || c > '9') return std::nullopt;
            millis = millis * 10 + (c - '0');
        }
    }
    return seconds * 1000 + millis;
}

std::expected<timer_request, std::string> parse_arguments(std::span<const std::string> args) {
    timer_request r;
    struct duration_option {
        std::string_view name;
        std::vector<ms> timer_request::*list;
    };
    const std::array<duration_option, 4> durations = {{
        {"--on-boot", &timer_request::on_boot},
        {"--on-active", &timer_request::on_active},
        {"--on-unit-active", &timer_request::on_unit_active},
        {"--on-unit-inactive", &timer_request::on_unit_inactive},
    }};
    std::size_t i = 0;
    for (; i < args.size(); ++i) {
        std::string_view name = args[i];
        if (name == "--") {
            ++i;
            break;
        }
        if (name == "--help") {
            r.help = true;
            return r;
        }
        if (!name.starts_with("--"))
            return std::unexpected(fmt::format("'{}': options come first, then -- PROGRAM", name));
        if (i + 1 == args.size())
            return std::unexpected(
                fmt::format("{} needs a value (or is unknown: try --help)", name));
        std::string_view value = args[++i];
        auto bad = [&](std::string_view why) {
            return std::unexpected(fmt::format("{} {}: {}", name, value, why));
        };
        auto list = std::find_if(durations.begin(), durations.end(),
                                 [&](const duration_option& d) { return d.name == name; });
        if (name == "--on-calendar") {
            auto spec = calendar::parse(value);
            if (!spec) return bad(spec.error());
            r.calendars.push_back(*spec);
        } else if (name == "--randomized-delay" || list != durations.end()) {
            auto t = parse_seconds(value);
            if (!t) return bad("not a number of seconds (like 90 or 0.5)");
            if (list != durations.end())
                (r.*(list->list)).push_back(*t);
            else
                r.randomized_delay = *t;
        } else if (name == "--persistent") {
            if (!value.starts_with('/')) return bad("not an absolute path");
            r.persistent = value;
        } else {
            return std::unexpected(fmt::format("unknown option {} (try --help)", name));
        }
    }
    r.program.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
    if (r.program.empty()) return std::unexpected("no program to run after --");
    if (r.calendars.empty() && r.on_boot.empty() && r.on_active.empty() &&
        r.on_unit_active.empty() && r.on_unit_inactive.empty())
        return std::unexpected("no deadline: give --on-calendar, --on-boot, --on-active, ...");
    return r;
}

std::string_view usage() {
    return R"(usage: timer-wait [OPTION...] -- PROGRAM [ARG...]

Runs PROGRAM each time one of the deadlines comes, and waits for it to end each time; never
exits by itself. Converted timer units run `timer-wait ... -- system-control start X`.

  --on-calendar EVENT          each time the calendar event comes (systemd.time(7): daily,
                               "Mon..Fri 09:00", "*-*-01 04:00:00 UTC", ...)
  --on-boot SECONDS            once, that long after boot
  --on-active SECONDS          once, that long after timer-wait started
  --on-unit-active SECONDS     that long after each run began
  --on-unit-inactive SECONDS   that long after each run ended
  --randomized-delay SECONDS   a random delay up to this much added to each deadline
  --persistent FILE            remembers the last run (FILE's mtime): a calendar event missed
                               while timer-wait was not running runs PROGRAM at once
)";
}

deadlines next_deadlines(const timer_request& r, const timer_state& s) {
    deadlines d;
    for (ms v : r.on_boot)
        if (v > s.fired_until_boot) earliest(d.boot, v);
    for (ms v : r.on_active)
        if (s.started_boot + v > s.fired_until_boot) earliest(d.boot, s.started_boot + v);
    if (s.last_start_boot)
        for (ms v : r.on_unit_active) earliest(d.boot, *s.last_start_boot + v);
    if (s.last_end_boot)
        for (ms v : r.on_unit_inactive) earliest(d.boot, *s.last_end_boot + v);
    for (const auto& spec : r.calendars) {
        std::time_t after = static_cast<std::time_t>(s.calendar_after_real / 1000);
        if (auto when = calendar::next(spec, after)) earliest(d.real, ms(*when) * 1000);
    }
    if (d.boot) *d.boot += s.delay;
    if (d.real) *d.real += s.delay;
    return d;
}

void ran(timer_state& s, ms start_boot, ms end_boot, ms start_real, ms delay) {
    s.last_start_boot = start_boot;
    s.last_end_boot = end_boot;
    s.fired_until_boot = std::max(s.fired_until_boot, start_boot);
    s.calendar_after_real = std::max(s.calendar_after_real, start_real);
    s.delay = delay;
}

}  // namespace hw::ctl::timer
