#include "systemd_convert.hpp"

#include <fmt/core.h>
#include <string.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <span>

#include "common/bundle.hpp"
#include "systemd_converter.hpp"

namespace hw::ctl::systemd {

namespace {

using std::chrono::microseconds;

struct standard_name {
    std::string_view systemd, heartwood;
};
// systemd's standard targets that heartwood has (units/README.md, part 2).
constexpr std::array<standard_name, 18> standard_targets = {{
    {"default", "normal"},
    {"multi-user", "multi-user"},
    {"graphical", "workstation"},
    {"basic", "basic"},
    {"sysinit", "sysinit"},
    {"local-fs", "local-fs"},
    {"local-fs-pre", "local-fs-pre"},
    {"swap", "swap"},
    {"shutdown", "shutdown"},
    {"umount", "unmount"},
    {"rescue", "rescue"},
    {"emergency", "emergency"},
    {"halt", "halt"},
    {"poweroff", "poweroff"},
    {"reboot", "reboot"},
    {"kexec", "kexec"},
    {"getty", "multi-user"},
    {"ctrl-alt-del", "reboot"},
}};

// systemd's services that heartwood ships its own of (units/README.md, part 2).
constexpr std::array<standard_name, 8> standard_services = {{
    {"rescue", "rescue-shell"},
    {"emergency", "emergency-shell"},
    {"console-getty", "console-getty"},
    {"systemd-udevd", "udev"},
    {"systemd-udev-trigger", "udev-trigger"},
    {"systemd-remount-fs", "remount-root"},
    {"systemd-modules-load", "kernel-modules"},
    {"systemd-random-seed", "random-seed"},
}};

// heartwood's name for one of systemd's standard targets or services; nullptr for another unit.
const standard_name* standard(bool target, std::string_view stem) {
    std::span<const standard_name> table = standard_services;
    if (target) table = standard_targets;
    for (const auto& t : table)
        if (t.systemd == stem) return &t;
    return nullptr;
}

// fstab-bundles' name for the mount of `path`: mount@ + the path without its leading '/', '/'
// written '-' and any other byte outside [A-Za-z0-9._+:-] written '_'.
std::string mount_bundle(std::string_view path) {
    std::string name = "mount@";
    for (char c : path.substr(1)) {
        bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("._+:-").find(c) != std::string_view::npos;
        name += c == '/' ? '-' : keep ? c : '_';
    }
    return name;
}

std::string unsupported_kind(std::string_view suffix) {
    if (suffix == "path") return "not supported: path activation";
    return fmt::format("not supported: .{} units (only services and targets convert)", suffix);
}

constexpr std::array<std::string_view, 7> restart_policies = {
    "no", "always", "on-success", "on-failure", "on-abnormal", "on-abort", "on-watchdog"};

// A signal's number from its name ("SIGUSR1" or "USR1"); 0 if there is none.
int signal_number(std::string_view name) {
    if (name.starts_with("SIG")) name.remove_prefix(3);
    for (int s = 1; s < 32; ++s)
        if (const char* abbrev = ::sigabbrev_np(s); abbrev && name == abbrev) return s;
    return 0;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : std::string(separator)) + p;
    return out;
}

// Why a setting heartwood has no use for is not used, for the "unused" warning.
std::string_view unused_reason(std::string_view key) {
    struct reason {
        std::string_view key, why;
    };
    static constexpr std::array<reason, 8> reasons = {{
        {"PIDFile", "a forked daemon stays in the service's process tree"},
        {"ExecStop", "heartwood signals the processes, then runs stop, which is ExecStopPost="},
        {"ExecReload", "system-control reload sends SIGHUP"},
        {"ExecStartPost", "nothing runs when a service becomes ready"},
        {"SyslogIdentifier", "output goes to the system log under the service's name"},
        {"Alias", "no aliases: a link to the bundle under another name is one"},
        {"Also", "enable the other bundles by name"},
        {"KillSignal", "services are stopped with SIGTERM (and SIGHUP with SendSIGHUP=yes)"},
    }};
    for (const auto& r : reasons)
        if (r.key == key) return r.why;
    for (std::string_view p : {"Private",
                               "Protect",
                               "Restrict",
                               "SystemCall",
                               "Capability",
                               "AmbientCapabilities",
                               "ReadWrite",
                               "ReadOnly",
                               "Inaccessible",
                               "Dynamic",
                               "MemoryDenyWriteExecute",
                               "LockPersonality",
                               "IPAddress",
                               "RootDirectory",
                               "RootImage",
                               "BindPaths",
                               "BindReadOnlyPaths",
                               "TemporaryFileSystem",
                               "NoExecPaths",
                               "ExecPaths",
                               "DevicePolicy",
                               "DeviceAllow",
                               "SecureBits",
                               "KeyringMode",
                               "RemoveIPC",
                               "MountFlags"})
        if (key.starts_with(p)) return "sandboxing is not converted";
    for (std::string_view p : {"CPUShares", "StartupCPU", "StartupIO", "StartupMemory",
                               "AllowedCPUs", "AllowedMemoryNodes", "CPUQuotaPeriodSec",
                               "MemoryZSwap", "ManagedOOM", "IODevice", "IORead", "IOWrite",
                               "BlockIO", "Slice", "Delegate"})
        if (key.starts_with(p)) return "this resource control is not converted";
    return {};
}

// `ExecReload=/bin/kill -HUP $MAINPID`: what system-control reload does already.
bool reload_is_sighup(std::string_view value) {
    auto words = split_words(value);
    if (!words || words->size() < 3 || words->back() != "$MAINPID") return false;
    auto& w = *words;
    bool kill = w[0] == "/bin/kill" || w[0] == "/usr/bin/kill" || w[0] == "kill";
    bool hup = (w.size() == 3 && (w[1] == "-HUP" || w[1] == "-SIGHUP" || w[1] == "-1")) ||
               (w.size() == 4 && w[1] == "-s" && (w[2] == "HUP" || w[2] == "SIGHUP"));
    return kill && hup;
}

}  // namespace

std::expected<bundle_ref, std::string> bundle_for_unit(std::string_view text) {
    auto n = parse_unit_name(text);
    if (!n) return std::unexpected(fmt::format("'{}' is not a unit name", text));
    if (n->templated && n->instance.empty())
        return std::unexpected(fmt::format("{} is a template, not a unit", text));
    std::string stem = n->templated ? n->prefix + "@" + n->instance : n->prefix;
    bundle_ref ref;
    if (n->suffix == "service" || n->suffix == "target" || n->suffix == "socket") {
        bool target = n->suffix == "target";
        const standard_name* t = standard(target, stem);
        ref = {t ? std::string(t->heartwood) : stem, target};
    } else if (n->suffix == "timer") {
        ref = {stem + ".timer", false};
    } else if (n->suffix == "mount") {
        std::string path = unescape_path(stem);
        ref = {path == "/" ? "remount-root" : mount_bundle(path), false};
    } else {
        return std::unexpected(unsupported_kind(n->suffix));
    }
    if (!valid_bundle_name(ref.name))
        return std::unexpected(fmt::format("{}: '{}' cannot be a bundle name", text, ref.name));
    return ref;
}

conversion convert_unit(const unit_source& unit, const bundle_exists& exists) {
    std::string_view base = std::string_view(unit.name).substr(unit.name.rfind('/') + 1);
    auto name = parse_unit_name(base);
    if (!name) {
        conversion c;
        c.problems.push_back(
            {diagnostic::level::error, unit.path, 0, fmt::format("'{}' is not a unit name", base)});
        return c;
    }
    return converter(unit, std::move(*name), exists).convert();
}

std::expected<bundle_ref, std::string> installed_into(std::string_view unit_name) {
    if (unit_name == "sockets.target" || unit_name == "timers.target")
        return bundle_ref{"multi-user", true};
    return bundle_for_unit(unit_name);
}

std::string seconds_text(microseconds d) {
    if (d == microseconds::max() || d.count() <= 0) return "0";
    long long ms = (d.count() + 999) / 1000;
    std::string out = std::to_string(ms / 1000);
    if (ms % 1000 == 0) return out;
    std::string frac = fmt::format("{:03}", ms % 1000);
    while (frac.back() == '0') frac.pop_back();
    return out + "." + frac;
}

converter::converter(const unit_source& unit, unit_name name, const bundle_exists& exists)
    : unit_(unit),
      name_(name),
      set_(unit.assignments),
      spec_(std::move(name), unit.path),
      exists_(exists) {}

conversion converter::convert() {
    conversion result;
    auto self = bundle_for_unit(name_.full());
    if (name_.templated && name_.instance.empty())
        error_in_file(fmt::format("{} is a template: convert an instance of it, as {}@NAME.{}",
                                  name_.full(), name_.prefix, name_.suffix));
    else if (!self)
        error_in_file(self.error());
    else if (name_.suffix == "socket")
        error_in_file(fmt::format("a socket unit is converted with its service: convert {}.service",
                                  name_.templated ? name_.prefix + "@" + name_.instance
                                                  : name_.prefix));
    else if (name_.suffix == "mount")
        error_in_file(
            "not supported: mount units (heartwood mounts what /etc/fstab lists: "
            "fstab-bundles)");
    else if (standard(self->target, name_.prefix))  // skipped: no bundle, but no error either
        problems_.push_back({diagnostic::level::warning, unit_.path, 0,
                             fmt::format("heartwood has its own {} {}: not converted", self->name,
                                         self->target ? "target" : "service")});
    if (!problems_.empty()) {
        result.problems = std::move(problems_);
        return result;
    }
    out_.self = *self;
    set_.last("Unit", "Description");  // in the programs' comments
    set_.last("Unit", "Documentation");
    if (self->target)
        target();
    else if (name_.suffix == "timer")
        timer_unit();
    else
        service();
    relationships(self->target);
    auto is_error = [](const diagnostic& d) { return d.severity == diagnostic::level::error; };
    bool errors = std::any_of(problems_.begin(), problems_.end(), is_error);
    if (!errors) report_unused();  // after an error, what was not asked for is no news
    std::sort(out_.links.begin(), out_.links.end());
    out_.links.erase(std::unique(out_.links.begin(), out_.links.end()), out_.links.end());
    sort_problems();
    if (!errors) result.bundle = std::move(out_);
    result.problems = std::move(problems_);
    return result;
}

void converter::target() {
    // A target has no programs: it is up as soon as it is started.
    set_.last("Unit", "AllowIsolate");  // any target may be isolated
}

void converter::service() {
    auto start = commands("ExecStart");
    const assignment* type_at = set_.last("Service", "Type");
    bool has_bus_name = set_.last("Service", "BusName") != nullptr;
    std::string type = type_at         ? type_at->value
                       : has_bus_name  ? "dbus"
                       : start.empty() ? "oneshot"
                                       : "simple";
    readiness ready = readiness::on_spawn;
    if (type == "notify" || type == "notify-reload")
        ready = readiness::sd_notify;
    else if (type == "oneshot" || type == "forking")
        ready = readiness::after_run;
    else if (type != "simple" && type != "exec" && type != "idle" && type != "dbus")
        return error(*type_at, fmt::format("Type={}: not a service type", type));
    bool oneshot = type == "oneshot";
    if (!oneshot && start.size() != 1) {
        std::string message =
            fmt::format("Type={} needs exactly one ExecStart= command, not {}", type, start.size());
        return start.empty() ? error_in_file(message) : error(*start[1].at, message);
    }
    if (type == "dbus") {
        add_link("wants", {"dbus", false});
        add_link("after", {"dbus", false});
    }
    set_.last("Service", "NotifyAccess");  // any process of the service may notify
    if (ready == readiness::sd_notify) out_.files.push_back({"service/sd_notify", "", false});
    if (ready == readiness::after_run) out_.files.push_back({"service/ready_after_run", "", false});
    if (boolean("Service", "RemainAfterExit").value_or(false) || type == "forking")
        out_.files.push_back({"service/remain", "", false});
    sockets(oneshot);
    timeouts(oneshot);
    kill_settings();
    resource_controls();
    auto conditions = checks("Condition");
    restart_policy(ready, oneshot, conditions);
    programs(start, conditions);
    for (const assignment* a : set_.list("Service", "ExecReload"))
        if (!reload_is_sighup(a->value)) unused(*a, unused_reason("ExecReload"));
}

void converter::timeouts(bool oneshot) {
    // The later of two assignments (they are one vector, in the order of the files).
    auto later = [](const assignment* a, const assignment* b) {
        return !a ? b : !b ? a : std::max(a, b);
    };
    const assignment* both = set_.last("Service", "TimeoutSec");
    const assignment* start = later(both, set_.last("Service", "TimeoutStartSec"));
    const assignment* stop = later(both, set_.last("Service", "TimeoutStopSec"));
    // systemd's defaults: 90 s, and no start limit for a oneshot.
    auto start_time = start ? timespan(start)
                            : std::optional(oneshot ? microseconds(0) : microseconds(90'000'000));
    auto stop_time = stop ? timespan(stop) : std::optional(microseconds(90'000'000));
    if (start_time)
        out_.files.push_back({"service/timeout-start", seconds_text(*start_time) + "\n"});
    if (stop_time) out_.files.push_back({"service/timeout-stop", seconds_text(*stop_time) + "\n"});
    if (const assignment* w = set_.last("Service", "WatchdogSec")) {
        auto t = timespan(w);
        if (t && t->count() > 0 && *t != microseconds::max())
            out_.files.push_back({"service/watchdog-timeout", seconds_text(*t) + "\n"});
    }
}

namespace {

// A systemd byte size (MemoryMax=): digits with an optional K, M, G or T (base 1024), or
// infinity, as cgroup v2 takes it ("512M", "max"); nullopt for anything else, percentages
// included (a share of this machine's memory is not known when converting).
std::optional<std::string> cgroup_bytes(std::string_view v) {
    if (v == "infinity") return "max";
    std::string_view digits = v;
    char unit = 0;
    if (!v.empty() && std::string_view("KMGT").find(v.back()) != std::string_view::npos) {
        unit = v.back();
        digits.remove_suffix(1);
    }
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
        return std::nullopt;
    }
    return unit ? fmt::format("{}{}", n, unit) : std::to_string(n);
}

}  // namespace

// MemoryMax=, TasksMax=, CPUQuota=, CPUWeight=, IOWeight=...: files of the bundle's cgroup/,
// which service-manager writes into the service's cgroup (units/README.md, section 5).
void converter::resource_controls() {
    enum class kind { bytes, count, weight, quota };
    struct knob {
        std::string_view key, file;
        kind k;
    };
    static constexpr std::array<knob, 10> knobs = {{
        {"MemoryMin", "memory.min", kind::bytes},
        {"MemoryLow", "memory.low", kind::bytes},
        {"MemoryHigh", "memory.high", kind::bytes},
        {"MemoryMax", "memory.max", kind::bytes},
        {"MemoryLimit", "memory.max", kind::bytes},  // cgroup v1's name for it
        {"MemorySwapMax", "memory.swap.max", kind::bytes},
        {"TasksMax", "pids.max", kind::count},
        {"CPUWeight", "cpu.weight", kind::weight},
        {"IOWeight", "io.weight", kind::weight},
        {"CPUQuota", "cpu.max", kind::quota},
    }};
    for (const auto& knob : knobs) {
        const assignment* a = set_.last("Service", knob.key);
        if (!a || a->value.empty()) continue;
        std::string_view v = a->value;
        std::optional<std::string> value;
        unsigned n = 0;
        switch (knob.k) {
            case kind::bytes:
                value = cgroup_bytes(v);
                break;
            case kind::count:
                if (v == "infinity") value = "max";
                if (parse_count(v, n)) value = std::to_string(n);
                break;
            case kind::weight:
                if (parse_count(v, n) && n >= 1 && n <= 10000) value = std::to_string(n);
                break;
            case kind::quota:  // a share of one CPU per 100 ms: 50% is "50000 100000"
                if (v.ends_with('%') && parse_count(v.substr(0, v.size() - 1), n) && n > 0)
                    value = fmt::format("{} 100000", std::uint64_t(n) * 1000);
                break;
        }
        if (value) {
            out_.files.push_back({"service/cgroup/" + std::string(knob.file), *value + "\n"});
        } else if (knob.k != kind::quota && (v.ends_with('%') || v == "idle")) {
            warn(*a, fmt::format("{}={}: not converted (a share of the machine, or idle, is not "
                                 "a cgroup value heartwood writes)",
                                 knob.key, v));
        } else {
            error(*a, fmt::format("{}={}: not a value for {}", knob.key, v, knob.file));
        }
    }
    // Accounting is always on where the controllers are (service-manager enables them).
    for (std::string_view key : {"CPUAccounting", "MemoryAccounting", "TasksAccounting",
                                 "IOAccounting"})
        set_.last("Service", key);
}

void converter::kill_settings() {
    if (const assignment* m = set_.last("Service", "KillMode")) {
        if (m->value == "mixed")
            warn(*m,
                 "KillMode=mixed: heartwood sends SIGTERM to every process of the service, "
                 "not only to its main process");
        else if (m->value == "process" || m->value == "none")
            warn(*m, fmt::format("KillMode={}: heartwood stops every process of the service, not "
                                 "only its main process",
                                 m->value));
        else if (m->value != "control-group")
            error(*m, fmt::format("KillMode={}: not a kill mode", m->value));
    }
    if (const assignment* s = set_.last("Service", "KillSignal");
        s && s->value != "SIGTERM" && s->value != "TERM" && s->value != "15")
        unused(*s, unused_reason("KillSignal"));
    if (boolean("Service", "SendSIGHUP").value_or(false))
        out_.files.push_back({"service/use_hangup", "", false});
    if (!boolean("Service", "SendSIGKILL").value_or(true))
        out_.files.push_back({"service/no_kill_signal", "", false});
}

void converter::restart_policy(readiness ready, bool oneshot,
                               const std::vector<condition_check>& conditions) {
    const assignment* r = set_.last("Service", "Restart");
    std::string policy = r ? r->value : "no";
    if (std::find(restart_policies.begin(), restart_policies.end(), policy) ==
        restart_policies.end())
        return error(*r, fmt::format("Restart={}: not a restart policy", policy));
    if (oneshot && (policy == "always" || policy == "on-success"))
        return error(*r,
                     fmt::format("Restart={} with Type=oneshot: systemd refuses it too", policy));
    const assignment* delay_at = set_.last("Service", "RestartSec");
    auto delay = delay_at ? timespan(delay_at) : std::optional(microseconds(100'000));
    if (!delay) return;
    auto force = exit_patterns("RestartForceExitStatus");
    auto prevent = exit_patterns("RestartPreventExitStatus");
    auto success = exit_patterns("SuccessExitStatus");
    std::vector<const assignment*> limits = {
        set_.last("Unit", "StartLimitBurst"), set_.last("Service", "StartLimitBurst"),
        set_.last("Unit", "StartLimitIntervalSec"), set_.last("Service", "StartLimitInterval")};
    bool plain = force.empty() && prevent.empty() && conditions.empty();
    if (ready == readiness::after_run && policy == "no" && plain) return;  // never run again
    if (ready != readiness::after_run && policy == "always" && plain)
        return builtin_restart(*delay, limits);
    for (const assignment* l : limits)
        if (l) unused(*l, "heartwood's restart-limit applies only to Restart=always");
    auto text = restart_program(policy, *delay, oneshot, conditions, {force, prevent, success});
    out_.files.push_back({"service/restart", std::move(text), true});
}

// Restart=always: heartwood's own policy, at systemd's steady pace (no growing backoff).
void converter::builtin_restart(microseconds delay, const std::vector<const assignment*>& limits) {
    out_.files.push_back({"service/restart-delay", seconds_text(delay) + "\n"});
    out_.files.push_back({"service/restart-delay-max", seconds_text(delay) + "\n"});
    const assignment* burst = limits[0] ? limits[0] : limits[1];
    const assignment* interval = limits[2] ? limits[2] : limits[3];
    if (burst) {
        unsigned n = 0;
        if (!parse_count(burst->value, n))
            error(*burst, fmt::format("{}={}: not a number", burst->key, burst->value));
        auto t = interval ? timespan(interval) : std::nullopt;
        bool unlimited = t && t->count() == 0;
        out_.files.push_back({"service/restart-limit", fmt::format("{}\n", unlimited ? 0 : n)});
    }
    if (interval) {
        if (auto t = timespan(interval); t && t->count() > 0)
            out_.files.push_back({"service/restart-reset", seconds_text(*t) + "\n"});
    }
}

std::string converter::restart_program(std::string_view policy, microseconds delay, bool oneshot,
                                       const std::vector<condition_check>& conditions,
                                       const exit_lists& lists) {
    std::vector<std::string> body = check_lines(conditions, "exit 1", "not restarting");
    std::vector<std::string> clean = {"\"exit 0\""};
    if (!oneshot)  // SIGHUP, SIGINT, SIGPIPE, SIGTERM end a daemon cleanly (not a oneshot)
        for (const char* s : {"\"signal 1\"", "\"signal 2\"", "\"signal 13\"", "\"signal 15\""})
            clean.push_back(s);
    clean.insert(clean.end(), lists.success.begin(), lists.success.end());
    std::vector<std::string> branches;
    if (!lists.force.empty()) branches.push_back(join(lists.force, " | ") + ") ;;");
    if (!lists.prevent.empty()) branches.push_back(join(lists.prevent, " | ") + ") exit 1 ;;");
    std::string clean_pattern = join(clean, " | ");
    if (policy == "no")
        branches.push_back("*) exit 1 ;;");
    else if (policy == "on-success")
        branches.insert(branches.end(), {clean_pattern + ") ;;", "*) exit 1 ;;"});
    else if (policy == "on-failure")
        branches.push_back(clean_pattern + ") exit 1 ;;");
    else if (policy == "on-abnormal" || policy == "on-abort")
        branches.push_back(clean_pattern + " | \"exit \"*) exit 1 ;;");
    else if (policy == "on-watchdog")  // the watchdog ends a service with SIGABRT
        branches.insert(branches.end(), {"\"signal 6\") ;;", "*) exit 1 ;;"});
    if (policy == "no" && lists.force.empty()) {
        body.push_back("exit 1");
    } else {
        if (!branches.empty()) {
            body.push_back("case $1 in exit) how=\"exit $2\" ;; *) how=\"signal $3\" ;; esac");
            body.push_back("case $how in");
            for (auto& b : branches) body.push_back("    " + b);
            body.push_back("esac");
        }
        body.push_back(delay.count() > 0 ? "exec sleep " + seconds_text(delay) : "exit 0");
    }
    body.insert(body.begin(),
                fmt::format("# Restart={}: whether run runs again. $1 $2 $3 are \"exit "
                            "N\" or \"CLASS SIGNAL N\"; exit 0 means yes.",
                            policy));
    return script("restart", body);
}

// The values of `key` (exit codes and signal names) as case patterns: "exit N", "signal N".
std::vector<std::string> converter::exit_patterns(std::string_view key) {
    std::vector<std::string> out;
    for (const assignment* a : set_.list("Service", key)) {
        for (const auto& w : split_words(a->value).value_or(std::vector<std::string>{})) {
            unsigned code = 0;
            if (parse_count(w, code) && code <= 255)
                out.push_back(fmt::format("\"exit {}\"", code));
            else if (int s = signal_number(w))
                out.push_back(fmt::format("\"signal {}\"", s));
            else
                error(*a, fmt::format("{}=: '{}' is neither an exit status nor a signal", key, w));
        }
    }
    return out;
}

void converter::relationships(bool is_target) {
    struct relation {
        std::string_view section, key, dir;
        bool requirement;
    };
    // Requisite=, BindsTo= and PartOf= are requirements too: heartwood has nothing closer.
    static constexpr std::array<relation, 10> relations = {{
        {"Unit", "Wants", "wants", false},
        {"Unit", "Requires", "requires", true},
        {"Unit", "Requisite", "requires", true},
        {"Unit", "BindsTo", "requires", true},
        {"Unit", "PartOf", "requires", true},
        {"Unit", "Conflicts", "conflicts", false},
        {"Unit", "After", "after", false},
        {"Unit", "Before", "before", false},
        {"Install", "WantedBy", "wanted-by", false},
        {"Install", "RequiredBy", "wanted-by", false},
    }};
    for (const auto& r : relations)
        for (const assignment* a : set_.list(r.section, r.key))
            link_units(*a, r.dir, r.requirement);
    requires_mounts_for();
    if (boolean("Unit", "DefaultDependencies").value_or(true)) default_dependencies(is_target);
}

void converter::link_units(const assignment& at, std::string_view dir, bool requirement) {
    auto words = split_words(at.value);
    if (!words) return error(at, fmt::format("{}=: {}", at.key, words.error()));
    for (const auto& w : *words) {
        auto name = spec_.expand_text(w);
        if (!name) {
            error(at, fmt::format("{}=: {}", at.key, name.error()));
            continue;
        }
        auto ref = dir == "wanted-by" ? installed_into(*name) : bundle_for_unit(*name);
        if (!ref) {
            warn(at, fmt::format("{}={}: {}; left out", at.key, *name, ref.error()));
            continue;
        }
        if (*ref == out_.self) continue;
        std::string d(dir);
        if (requirement && !exists_(*ref) && ref->target) {
            warn(at, fmt::format("{}={}: there is no target {}, so this is written as wants/{} "
                                 "(a requirement that does not exist keeps this from starting)",
                                 at.key, *name, ref->name, ref->name));
            d = "wants";
        } else if (requirement && !exists_(*ref)) {
            warn(at, fmt::format("{}={}: there is no bundle {} (yet): this cannot start until "
                                 "there is",
                                 at.key, *name, ref->name));
        }
        add_link(std::move(d), std::move(*ref));
    }
}

// RequiresMountsFor=PATH: requires and after the fstab mounts of PATH and its parents that exist.
void converter::requires_mounts_for() {
    for (const assignment* a : set_.list("Unit", "RequiresMountsFor")) {
        for (const auto& w : split_words(a->value).value_or(std::vector<std::string>{})) {
            auto path = spec_.expand_text(w);
            if (!path || !path->starts_with('/')) {
                error(*a, fmt::format("RequiresMountsFor=: '{}' is not an absolute path", w));
                continue;
            }
            for (std::size_t end = path->find('/', 1);; end = path->find('/', end + 1)) {
                bundle_ref mount{mount_bundle(path->substr(0, end)), false};
                if (exists_(mount)) {
                    add_link("requires", mount);
                    add_link("after", mount);
                }
                if (end == std::string::npos) break;
            }
        }
    }
}

// systemd's implicit dependencies (DefaultDependencies=yes).
void converter::default_dependencies(bool is_target) {
    add_link("before", {"shutdown", true});
    add_link("stopped-by", {"shutdown", true});
    if (is_target) {  // a target is reached once what it wants and requires is
        std::vector<bundle_ref> members;
        for (const auto& l : out_.links)
            if (l.dir == "wants" || l.dir == "requires") members.push_back(l.to);
        for (auto& m : members) add_link("after", std::move(m));
        return;
    }
    add_link("requires", {"sysinit", true});
    add_link("after", {"sysinit", true});
    add_link("after", {"basic", true});
}

// In the order of the files (the unit's, then its drop-ins'), then of lines.
void converter::sort_problems() {
    std::vector<std::string> files = {unit_.path};
    for (const auto& a : unit_.assignments)
        if (std::find(files.begin(), files.end(), a.file) == files.end()) files.push_back(a.file);
    auto rank = [&](const diagnostic& d) {
        return std::pair(std::find(files.begin(), files.end(), d.file) - files.begin(), d.line);
    };
    std::stable_sort(problems_.begin(), problems_.end(),
                     [&](const diagnostic& a, const diagnostic& b) { return rank(a) < rank(b); });
}

void converter::add_link(std::string dir, bundle_ref to) {
    out_.links.push_back({std::move(dir), std::move(to)});
}

void converter::report_unused() {
    for (const assignment* a : set_.unused()) {
        if (a->section.starts_with("X-")) continue;
        bool known = a->section == "Unit" || a->section == "Install" ||
                     (a->section == "Service" && !out_.self.target);
        if (known)
            unused(*a, unused_reason(a->key));
        else
            warn(*a, fmt::format("unused: [{}] {}=", a->section, a->key));
    }
}

std::optional<bool> converter::boolean(std::string_view section, std::string_view key) {
    const assignment* a = set_.last(section, key);
    if (!a) return std::nullopt;
    auto b = parse_boolean(a->value);
    if (!b) error(*a, fmt::format("{}={}: not a boolean (yes or no)", a->key, a->value));
    return b;
}

std::optional<microseconds> converter::timespan(const assignment* at) {
    auto t = parse_timespan(at->value);
    if (!t)
        error(*at,
              fmt::format("{}={}: not a time span (like 90, 1min 30s, 500ms)", at->key, at->value));
    return t;
}

void converter::error(const assignment& at, std::string message) {
    problems_.push_back({diagnostic::level::error, at.file, at.line, std::move(message)});
}

void converter::warn(const assignment& at, std::string message) {
    problems_.push_back({diagnostic::level::warning, at.file, at.line, std::move(message)});
}

void converter::unused(const assignment& at, std::string_view why) {
    warn(at, why.empty() ? fmt::format("unused: {}=", at.key)
                         : fmt::format("unused: {}= ({})", at.key, why));
}

void converter::error_in_file(std::string message) {
    problems_.push_back({diagnostic::level::error, unit_.path, 0, std::move(message)});
}

bool parse_count(std::string_view text, unsigned& out) {
    if (text.empty() || text.size() > 9) return false;
    out = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        out = out * 10 + static_cast<unsigned>(c - '0');
    }
    return true;
}

}  // namespace hw::ctl::systemd
