// system-control: the administrator's command and the boot-time job runner.
// main() picks a personality by argv[0], parses the command line, and dispatches through the
// verb table below; each verb lives in a verb_*.cpp file.
#include <fmt/core.h>
#include <unistd.h>

#include <array>
#include <exception>

#include "cli.hpp"
#include "config.h"

namespace hw::ctl {

namespace {

constexpr std::array verbs = {
    verb{"start", verb_start, "[-n] [-v] NAME...", "start bundles with what they want and require"},
    verb{"stop", verb_stop, "[-n] [-v] NAME...", "stop bundles and what requires them"},
    verb{"restart", verb_restart, "[-n] NAME...", "stop, then start again what was stopped"},
    verb{"try-restart", verb_try_restart, "NAME...", "restart those of NAME... that are running"},
    verb{"reload", verb_reload, "NAME...", "send SIGHUP to the services"},
    verb{"isolate", verb_isolate, "[-n] TARGET", "start TARGET, stop all that it does not reach"},
    verb{"status", verb_status, "[-l N] NAME...", "state, pid, uptime, last exit, log tail"},
    verb{"show", verb_show, "[--json] NAME...", "every property as key=value (or JSON)"},
    verb{"list", verb_list, "[-a]", "every loaded service and its state"},
    verb{"list-dependencies", verb_list_dependencies, "[--reverse] NAME",
         "the tree of what NAME pulls in (or what pulls it in)"},
    verb{"is-active", verb_is_active, "NAME...", "exit 0 if every NAME is running"},
    verb{"is-loaded", verb_is_loaded, "NAME...", "exit 0 if every NAME is loaded"},
    verb{"is-enabled", verb_is_enabled, "NAME...", "exit 0 if no NAME has a down file"},
    verb{"enable", verb_enable, "[-n] NAME...", "make the wanted-by/stopped-by/requires links"},
    verb{"disable", verb_disable, "[-n] NAME...", "remove those links and create down"},
    verb{"preset", verb_preset, "[-n] NAME...", "enable or disable as the preset files say"},
    verb{"cat", verb_cat, "NAME...", "print the programs and relationships of bundles"},
    verb{"find", verb_find, "NAME...", "print where bundles are"},
    verb{"check", verb_check, "[NAME...]", "lint the bundle tree: report every problem"},
    verb{"convert-systemd-units", verb_convert_systemd_units,
         "[--bundle-root DIR] [-n] UNIT-FILE...",
         "systemd .service/.target files into bundles in DIR (enables nothing)"},
    verb{"init", verb_init, "[ARGS...]", "boot: signal process 1 as the kernel arguments say"},
    verb{"halt", verb_halt, "[-f]", "start the halt target (-f: halt at once)"},
    verb{"poweroff", verb_poweroff, "[-f]", "start the poweroff target (-f: at once)"},
    verb{"reboot", verb_reboot, "[-f]", "start the reboot target (-f: at once)"},
    verb{"kexec", verb_kexec, "[-f]", "start the kexec target (-f: at once; kexec -l first)"},
    verb{"exit", verb_exit, "[-f] [STATUS]",
         "container: power off, then PID 1 exits with STATUS (default 0)"},
    verb{"emergency", verb_emergency, "[-f]", "ask process 1 for emergency mode"},
    verb{"rescue", verb_rescue, "[-f]", "ask process 1 for rescue mode"},
    verb{"normal", verb_normal, "[-f]", "ask process 1 for normal mode"},
    verb{"reexec", verb_reexec, "", "ask process 1 to run its (upgraded) executable again"},
    verb{"help", verb_help, "", "this text"},
    verb{"version", verb_version, "", "print the version"},
};

const verb* find_verb(std::string_view name) {
    for (const auto& v : verbs)
        if (v.name == name) return &v;
    return nullptr;
}

}  // namespace

std::span<const verb> all_verbs() {
    return verbs;
}

int verb_help(context& ctx) {
    fmt::print("usage: {} [OPTION...] COMMAND [ARG...]\n\ncommands:\n", ctx.program);
    for (const auto& v : verbs) fmt::print("  {:<18} {:<18} {}\n", v.name, v.usage, v.summary);
    fmt::print("\noptions:\n");
    for (const auto& o : all_options()) {
        if (o.help.empty()) continue;
        std::string flag = o.short_name ? fmt::format("-{}, --{}", o.short_name, o.long_name)
                                        : fmt::format("    --{}", o.long_name);
        fmt::print("  {:<20} {}\n", flag, o.help);
    }
    fmt::print(
        "\nas halt, poweroff, reboot, shutdown, telinit or runlevel it behaves as those commands.\n"
        "\nexit status:\n"
        "  0    ok\n"
        "  1    no: not active/loaded/enabled, a job failed, problems were found\n"
        "  100  usage: the command line is wrong\n"
        "  111  system failure: a system call failed, the service-manager is unreachable\n"
        "\nenvironment:\n"
        "  HEARTWOOD_BUNDLE_PATH     bundle roots, ':'-separated (default /run/service-bundles:\n"
        "                            /etc/service-bundles:/usr/share/service-bundles)\n"
        "  HEARTWOOD_PRESET_PATH     preset directories, ':'-separated\n"
        "  HEARTWOOD_CACHE_DIR       where reads of the tree are cached (empty: nowhere; default\n"
        "                            /var/cache/heartwood for root, ~/.cache/heartwood otherwise)\n"
        "  HEARTWOOD_CONTROL_SOCKET  the service-manager's socket (/run/service-manager/control)\n"
        "  HEARTWOOD_INIT_PID        the process that init/halt/... signal (default 1; tests)\n");
    return exit_code::ok;
}

int verb_version(context&) {
    fmt::print("system-control (heartwood) {}\n", HEARTWOOD_VERSION);
    return exit_code::ok;
}

}  // namespace hw::ctl

int main(int argc, char** argv) {
    using namespace hw::ctl;
    std::string_view argv0 = argc > 0 ? argv[0] : "system-control";
    std::string_view name = argv0.substr(argv0.rfind('/') + 1);
    try {
        if (auto r = run_personality(name, std::span<char* const>(argv + 1, argc - 1))) return *r;
        context ctx;
        // `init` takes the kernel's arguments as they come (-s, -b, -z X ...): options are only
        // read before it.
        int raw_from = argc;
        for (int i = 1; i < argc; ++i) {
            std::string_view a = argv[i];
            if (a == "--") break;
            if (!a.starts_with('-')) {
                if (a == "init") raw_from = i + 1;
                break;
            }
            for (const auto& o : all_options()) {
                bool long_form = a.substr(2) == o.long_name;
                bool short_form = a.size() == 2 && o.short_name && a[1] == o.short_name;
                if (o.takes_value && (long_form || short_form)) ++i;
            }
        }
        auto cl = parse_command_line(std::span<char* const>(argv + 1, raw_from - 1));
        for (int i = raw_from; cl && i < argc; ++i) {
            std::string_view a = argv[i];
            // No kernel passes these; taking them as options keeps a mistyped dry run dry.
            if (a == "-n" || a == "--dry-run")
                cl->given["dry-run"] = "";
            else if (a == "-v" || a == "--verbose")
                cl->given["verbose"] = "";
            else
                cl->args.emplace_back(a);
        }
        if (!cl) {
            report_error(ctx, cl.error());
            return exit_code::usage;
        }
        ctx.cl = std::move(*cl);
        ctx.verbose = ctx.cl.has("verbose");
        ctx.dry_run = ctx.cl.has("dry-run") || ctx.cl.has("pretend");
        ctx.quiet = ctx.cl.has("quiet");
        ctx.force = ctx.cl.has("force");
        ctx.colour = (ctx.cl.has("colour") || ctx.cl.has("color") || ::isatty(1)) &&
                     !ctx.cl.has("no-colour") && !ctx.cl.has("no-color");
        if (ctx.cl.has("help")) return verb_help(ctx);
        if (ctx.cl.has("version")) return verb_version(ctx);
        if (ctx.cl.args.empty()) {
            report_error(ctx, "no command given (try --help)");
            return exit_code::usage;
        }
        const verb* v = find_verb(ctx.cl.args.front());
        if (!v) {
            report_error(ctx,
                         fmt::format("unknown command '{}' (try --help)", ctx.cl.args.front()));
            return exit_code::usage;
        }
        ctx.cl.args.erase(ctx.cl.args.begin());
        return v->run(ctx);
    } catch (const std::exception& e) {
        fmt::print(stderr, "system-control: fatal: {}\n", e.what());
        return exit_code::failure;
    }
}
