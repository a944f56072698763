// Signals to process 1: init (the boot-argument parser), halt, poweroff, reboot, kexec, exit,
// emergency, rescue, normal; and the argv[0] personalities halt, poweroff, reboot, shutdown,
// telinit, runlevel. Signal numbers are CONVENTIONS.md's (SIGRTMIN is glibc's, 34).
#include <fmt/core.h>
#include <signal.h>
#include <time.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "boot_args.hpp"
#include "cli.hpp"
#include "common/text_file.hpp"

namespace hw::ctl {

namespace {

pid_t init_pid() {
    if (const char* env = std::getenv("HEARTWOOD_INIT_PID"); env && *env) {
        int pid = 0;
        auto [p, ec] = std::from_chars(env, env + std::strlen(env), pid);
        if (ec == std::errc() && *p == '\0' && pid > 0) return pid;
    }
    return 1;
}

// Sends SIGRTMIN+offset for each offset, in order. --dry-run prints instead; --verbose prints
// as well.
int signal_init(const context& ctx, std::span<const int> offsets) {
    pid_t pid = init_pid();
    for (int off : offsets) {
        if (ctx.dry_run || ctx.verbose)
            fmt::print("{}send {} to process {}\n", ctx.dry_run ? "would " : "",
                       describe_init_signal(off), pid);
        if (ctx.dry_run) continue;
        if (::kill(pid, SIGRTMIN + off) != 0) {
            report_error(ctx, fmt::format("unable to send {} to process {}: {}",
                                          describe_init_signal(off), pid, std::strerror(errno)));
            return exit_code::failure;
        }
    }
    return exit_code::ok;
}

int power(context& ctx, std::string_view verb, int plain, int forced) {
    if (!ctx.cl.args.empty()) {
        report_error(ctx, fmt::format("{}: takes no arguments", verb));
        return exit_code::usage;
    }
    int off = ctx.force ? forced : plain;
    return signal_init(ctx, std::span<const int>(&off, 1));
}

// Plain: ask process 1 (signals). Forced: isolate the target here and now.
int mode(context& ctx, std::string_view target, boot_mode m) {
    if (!ctx.cl.args.empty()) {
        report_error(ctx, fmt::format("{}: takes no arguments", target));
        return exit_code::usage;
    }
    if (ctx.force) {
        ctx.cl.args = {std::string(target)};
        return verb_isolate(ctx);
    }
    auto sigs = boot_signals(m);
    return signal_init(ctx, sigs);
}

}  // namespace

int verb_init(context& ctx) {
    auto d = parse_boot_args(ctx.cl.args);
    for (const auto& n : d.notes) report_warning(ctx, n);
    if (ctx.verbose && !d.ignored.empty()) {
        std::string joined;
        for (const auto& a : d.ignored) joined += (joined.empty() ? "" : " ") + a;
        fmt::print("ignoring boot arguments: {}\n", joined);
    }
    if (ctx.verbose || ctx.dry_run) fmt::print("boot mode: {}\n", boot_mode_name(d.mode));
    return signal_init(ctx, d.signals);
}

int verb_halt(context& ctx) {
    return power(ctx, "halt", 3, 13);
}
int verb_poweroff(context& ctx) {
    return power(ctx, "poweroff", 4, 14);
}
int verb_reboot(context& ctx) {
    return power(ctx, "reboot", 5, 15);
}
// Reboot into the kernel loaded with `kexec -l`; process 1 reboots normally when none is.
int verb_kexec(context& ctx) {
    return power(ctx, "kexec", 6, 16);
}

namespace {

// `exit`'s arguments: none is 0; N; or those a service's `restart` program is given (`exit N`,
// `term|kill|abort|crash SIG N [core]`), so that a container's main service can have
// `exec system-control exit "$@"` as its `restart`: the container then ends as that service
// did, a signal as 128 + N (as shells and container runtimes report one).
std::optional<int> exit_status_from(const std::vector<std::string>& args) {
    int n = 0;
    if (args.empty()) return 0;
    if (args.size() == 1) {
        if (parse_number(args[0], n) && n >= 0 && n <= 255) return n;
        return std::nullopt;
    }
    if (args[0] == "exit" && args.size() == 2) return exit_status_from({args[1]});
    bool by_signal = args[0] == "term" || args[0] == "kill" || args[0] == "abort" ||
                     args[0] == "crash";
    if (by_signal && (args.size() == 3 || (args.size() == 4 && args[3] == "core")) &&
        parse_number(args[2], n) && n > 0 && n < 128) {
        return 128 + n;
    }
    return std::nullopt;
}

}  // namespace

// The container's PID 1 ends its namespace with this status once the poweroff target is
// reached (or at once with -f): the poweroff signal, queued with the status as its value.
int verb_exit(context& ctx) {
    auto status = exit_status_from(ctx.cl.args);
    if (!status) {
        report_error(ctx, "exit: expected a status of 0-255, or a restart program's arguments "
                          "(exit N, or term|kill|abort|crash SIGNAL N)");
        return exit_code::usage;
    }
    pid_t pid = init_pid();
    int off = ctx.force ? 14 : 4;
    if (ctx.dry_run || ctx.verbose)
        fmt::print("{}send {} with exit status {} to process {}\n", ctx.dry_run ? "would " : "",
                   describe_init_signal(off), *status, pid);
    if (ctx.dry_run) return exit_code::ok;
    union sigval value{};
    value.sival_int = *status;
    if (::sigqueue(pid, SIGRTMIN + off, value) != 0) {
        report_error(ctx, fmt::format("unable to send {} to process {}: {}",
                                      describe_init_signal(off), pid, std::strerror(errno)));
        return exit_code::failure;
    }
    return exit_code::ok;
}

int verb_emergency(context& ctx) {
    return mode(ctx, "emergency", boot_mode::emergency);
}
int verb_rescue(context& ctx) {
    return mode(ctx, "rescue", boot_mode::rescue);
}
int verb_normal(context& ctx) {
    return mode(ctx, "normal", boot_mode::normal);
}
// Process 1 runs its executable again, keeping its children, jobs and descriptors: how an
// upgraded system-manager takes over without a reboot.
int verb_reexec(context& ctx) {
    if (!ctx.cl.args.empty()) {
        report_error(ctx, "reexec: takes no arguments");
        return exit_code::usage;
    }
    constexpr int reexec_offset = 25;
    return signal_init(ctx, std::span<const int>(&reexec_offset, 1));
}

namespace {

// The personalities parse their own (traditional) options: single letters from `known`,
// plus --dry-run, --verbose, --force and --help.
struct personality_args {
    context ctx;
    std::string flags;                    // the option letters given
    std::vector<std::string_view> words;  // the other arguments
    bool help = false;
    std::string error;

    bool has(char c) const { return flags.find(c) != std::string::npos; }
};

personality_args split(std::string_view program, std::span<char* const> argv,
                       std::string_view known) {
    personality_args p;
    p.ctx.program = std::string(program);
    for (char* arg : argv) {
        std::string_view a(arg);
        if (a == "--dry-run")
            p.ctx.dry_run = true;
        else if (a == "--verbose")
            p.ctx.verbose = true;
        else if (a == "--force")
            p.ctx.force = true;
        else if (a == "--help")
            p.help = true;
        else if (a == "--no-wall" || a == "--no-sync" || a == "--no-wtmp")
            continue;
        else if (a.starts_with("--"))
            p.error = fmt::format("unknown option {}", a);
        else if (a.size() > 1 && a[0] == '-' && !known.empty()) {
            for (char c : a.substr(1)) {
                if (known.find(c) == std::string_view::npos)
                    p.error = fmt::format("unknown option -{}", c);
                p.flags += c;
                if (c == 'f') p.ctx.force = true;
            }
        } else {
            p.words.push_back(a);
        }
    }
    return p;
}

// halt [-p] [-f] [-w], poweroff [-f], reboot [-f] (and -n, -d: accepted, ignored).
int halt_like(std::string_view name, std::span<char* const> argv) {
    auto p = split(name, argv, "fpwndh");
    if (!p.error.empty() || p.help || p.has('h') || !p.words.empty()) {
        if (p.error.empty() && !p.words.empty()) p.error = "takes no arguments";
        if (!p.error.empty()) report_error(p.ctx, p.error);
        fmt::print(stderr, "usage: {} [-f] [-p] [-w] [--dry-run]\n", name);
        return p.error.empty() ? exit_code::ok : exit_code::usage;
    }
    if (p.has('w')) return exit_code::ok;  // only a wtmp record: there is none
    std::string_view what = name;
    if (name == "halt" && p.has('p')) what = "poweroff";
    int plain = what == "halt" ? 3 : what == "poweroff" ? 4 : 5;
    int off = p.ctx.force ? plain + 10 : plain;
    return signal_init(p.ctx, std::span<const int>(&off, 1));
}

// shutdown [-H|-P|-h|-r] [-k] [-c] [TIME] [MESSAGE...]; TIME is now, +MINUTES or HH:MM.
int shutdown(std::span<char* const> argv) {
    auto p = split("shutdown", argv, "HPhrkcf");
    if (!p.error.empty()) {
        report_error(p.ctx, p.error);
        return exit_code::usage;
    }
    if (p.help) {
        fmt::print(
            "usage: shutdown [-H|-P|-h|-r] [-k] [--dry-run] [now|+MINUTES|HH:MM] [MESSAGE]\n");
        return exit_code::ok;
    }
    if (p.has('c')) {
        report_error(p.ctx,
                     "unable to cancel: a scheduled shutdown is a sleeping shutdown "
                     "process here; kill that process");
        return exit_code::failure;
    }
    int plain = p.has('r') ? 5 : p.has('H') ? 3 : 4;
    std::vector<std::string_view> rest = p.words;
    long minutes = 1;  // systemd's default
    if (!rest.empty()) {
        std::string_view t = rest.front();
        rest.erase(rest.begin());
        if (t == "now") {
            minutes = 0;
        } else if (t.starts_with('+')) {
            auto [q, ec] = std::from_chars(t.data() + 1, t.data() + t.size(), minutes);
            if (ec != std::errc() || q != t.data() + t.size() || minutes < 0) {
                report_error(p.ctx, fmt::format("unable to understand the time {}", t));
                return exit_code::usage;
            }
        } else if (auto colon = t.find(':'); colon != std::string_view::npos) {
            int hh = -1, mm = -1;
            std::from_chars(t.data(), t.data() + colon, hh);
            std::from_chars(t.data() + colon + 1, t.data() + t.size(), mm);
            if (hh < 0 || hh > 23 || mm < 0 || mm > 59) {
                report_error(p.ctx, fmt::format("unable to understand the time {}", t));
                return exit_code::usage;
            }
            std::time_t now = std::time(nullptr);
            std::tm local{};
            ::localtime_r(&now, &local);
            long from = local.tm_hour * 60 + local.tm_min, to = hh * 60 + mm;
            minutes = (to - from + 24 * 60) % (24 * 60);
        } else {
            report_error(p.ctx, fmt::format("unable to understand the time {}", t));
            return exit_code::usage;
        }
    }
    std::string message;
    for (auto w : rest) message += (message.empty() ? "" : " ") + std::string(w);
    std::string_view what = plain == 5 ? "reboot" : plain == 3 ? "halt" : "poweroff";
    if (minutes > 0 || !message.empty() || p.has('k'))
        fmt::print(stderr, "shutdown: {} in {} minute{}{}{}\n", what, minutes,
                   minutes == 1 ? "" : "s", message.empty() ? "" : ": ", message);
    if (p.has('k')) return exit_code::ok;  // warn only
    if (minutes > 0 && !p.ctx.dry_run) {
        timespec left{minutes * 60, 0};
        while (::nanosleep(&left, &left) != 0 && errno == EINTR) {
        }
    }
    int off = p.ctx.force ? plain + 10 : plain;
    return signal_init(p.ctx, std::span<const int>(&off, 1));
}

// telinit LEVEL: 0 poweroff, 6 reboot, 1 s S rescue, 2-5 normal, b emergency, q Q u U nothing.
int telinit(std::span<char* const> argv) {
    auto p = split("telinit", argv, "");
    if (!p.error.empty() || p.help || p.words.size() != 1) {
        if (!p.error.empty()) report_error(p.ctx, p.error);
        fmt::print(stderr, "usage: telinit [--dry-run] 0|1|2|3|4|5|6|s|S|b|q|Q|u|U\n");
        return exit_code::usage;
    }
    std::string_view level = p.words.front();
    if (level == "q" || level == "Q" || level == "u" || level == "U") return exit_code::ok;
    std::string arg(level);
    auto d = parse_boot_args(std::span<const std::string>(&arg, 1));
    if (!d.ignored.empty()) {
        report_error(p.ctx, fmt::format("unknown run level {}", level));
        return exit_code::usage;
    }
    return signal_init(p.ctx, d.signals);
}

}  // namespace

std::optional<int> run_personality(std::string_view name, std::span<char* const> argv) {
    if (name == "halt" || name == "poweroff" || name == "reboot") return halt_like(name, argv);
    if (name == "shutdown") return shutdown(argv);
    if (name == "telinit") return telinit(argv);
    if (name == "runlevel") {
        fmt::print("N N\n");  // there are no run levels: "unknown", as nosh says it
        return exit_code::ok;
    }
    return std::nullopt;
}

}  // namespace hw::ctl
