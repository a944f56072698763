// A timer unit (see systemd_converter.hpp): X.timer becomes the bundle X.timer, a service whose
// run program is timer-wait (ctl/timer_wait.cpp), which runs `system-control start X` at each
// deadline, as systemd starts the timer's unit. The timer is up while that service runs;
// enabling it (its WantedBy=timers.target is multi-user) arms it at boot.
#include <fmt/core.h>

#include <array>

#include "calendar.hpp"
#include "systemd_converter.hpp"

namespace hw::ctl::systemd {

namespace {

struct timer_key {
    std::string_view key, option;
};
// OnStartupSec= counts from the service manager's start, which is boot here.
constexpr std::array<timer_key, 6> duration_keys = {{
    {"OnBootSec", "--on-boot"},
    {"OnStartupSec", "--on-boot"},
    {"OnActiveSec", "--on-active"},
    {"OnUnitActiveSec", "--on-unit-active"},
    {"OnUnitInactiveSec", "--on-unit-inactive"},
    {"RandomizedDelaySec", "--randomized-delay"},
}};

}  // namespace

// Where the persistent timers keep the time of their last run (Persistent=yes).
constexpr std::string_view timer_stamp_dir = "/var/lib/heartwood/timers";

void converter::timer_unit() {
    std::vector<std::string> args = {"timer-wait"};
    bool calendar = false;
    // A deadline is given (a bad one is its own error); RandomizedDelaySec= is none.
    bool deadline = !set_.list("Timer", "OnCalendar").empty();
    for (const assignment* a : set_.list("Timer", "OnCalendar")) {
        auto text = spec_.expand_text(a->value);
        auto parsed = text ? calendar::parse(*text)
                           : std::expected<calendar::calendar_spec, std::string>(
                                 std::unexpected(text.error()));
        if (!parsed) {
            error(*a, fmt::format("OnCalendar={}: {}", a->value, parsed.error()));
            continue;
        }
        args.insert(args.end(), {"--on-calendar", sh_quote(*text)});
        calendar = true;
    }
    for (auto [key, option] : duration_keys)
        for (const assignment* a : set_.list("Timer", key)) {
            deadline = deadline || key != "RandomizedDelaySec";
            if (auto t = timespan(a))
                args.insert(args.end(), {std::string(option), seconds_text(*t)});
        }
    if (!deadline)
        error_in_file(
            "no OnCalendar=, OnBootSec=, OnStartupSec=, OnActiveSec=, "
            "OnUnitActiveSec= or OnUnitInactiveSec=: the timer would never run");

    // Conditions are checked when the timer starts, as systemd does: one that does not hold
    // stops it (run exits 0, and the restart program refuses), with a line in the log.
    auto conditions = checks("Condition");
    std::vector<std::string> body = check_lines(conditions, "exit 0", "not starting");
    if (!conditions.empty())
        out_.files.push_back(
            {"service/restart",
             restart_program("always", std::chrono::milliseconds(100), false, conditions, {}),
             true});
    if (auto persistent = boolean("Timer", "Persistent"); persistent.value_or(false) && calendar) {
        std::string stamp = fmt::format("{}/{}", timer_stamp_dir, out_.self.name);
        body.push_back(fmt::format("mkdir -p {}", timer_stamp_dir));
        args.insert(args.end(), {"--persistent", sh_quote(stamp)});
    }

    // Unit=: what it starts; by default the service of the timer's name.
    std::string unit = fmt::format(
        "{}.service", name_.templated ? name_.prefix + "@" + name_.instance : name_.prefix);
    const assignment* unit_at = set_.last("Timer", "Unit");
    if (unit_at) {
        auto text = spec_.expand_text(unit_at->value);
        if (!text) return error(*unit_at, fmt::format("Unit=: {}", text.error()));
        unit = *text;
    }
    auto target = bundle_for_unit(unit);
    if (!target) {
        std::string message = fmt::format("Unit={}: {}", unit, target.error());
        return unit_at ? error(*unit_at, message) : error_in_file(message);
    }
    if (!exists_(*target))
        problems_.push_back({diagnostic::level::warning, unit_.path, unit_at ? unit_at->line : 0,
                             fmt::format("there is no bundle {} (yet) for the timer to start "
                                         "(convert {} too)",
                                         target->name, unit)});
    std::string name = target->name + (target->target ? ".target" : ".service");
    args.insert(args.end(), {"--", "system-control", "start", sh_quote(name)});
    std::string command;
    for (const auto& a : args) command += (command.empty() ? "" : " ") + a;
    body.push_back("exec " + command);
    out_.files.push_back({"service/run", script("run", body), true});
}

}  // namespace hw::ctl::systemd
