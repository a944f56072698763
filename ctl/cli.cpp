#include "cli.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstdlib>

#include "common/bundle_cache.hpp"
#include "common/log.hpp"

namespace hw::ctl {

namespace {

constexpr std::array<option_spec, 23> options_table = {{
    {"root", 0, true, "DIR: bundles, presets and links under DIR (an image)"},
    {"socket", 0, true, "PATH: the service-manager's control socket"},
    {"verbose", 'v', false, "print the job's event log"},
    {"dry-run", 'n', false, "plan and print, change nothing"},
    {"pretend", 0, false, "the same as --dry-run"},
    {"quiet", 'q', false, "print nothing, only the exit status"},
    {"force", 'f', false, "halt/poweroff/reboot/kexec at once; emergency/rescue/normal by isolate"},
    {"json", 0, false, "show: one JSON object per bundle"},
    {"reverse", 0, false, "list-dependencies: who depends on NAME"},
    {"all", 'a', false, "list: also bundles that are not loaded"},
    {"lines", 'l', true, "N: status: how many log lines (default 10)"},
    {"bundle-root", 0, true, "DIR: convert-systemd-units writes bundles there (default .)"},
    {"timeout", 0, true, "SECONDS: default start timeout (90; 0 = for ever)"},
    {"stop-timeout", 0, true, "SECONDS: default stop timeout before SIGKILL (30)"},
    {"colour", 0, false, "colour even when not on a terminal"},
    {"color", 0, false, ""},
    {"no-colour", 0, false, "never colour"},
    {"no-color", 0, false, ""},
    {"help", 'h', false, "this text"},
    {"version", 0, false, "the version"},
    {"no-pager", 0, false, ""},
    {"no-legend", 0, false, ""},
    {"no-wall", 0, false, ""},
}};

const option_spec* find_long(std::string_view name) {
    for (const auto& o : options_table)
        if (o.long_name == name) return &o;
    return nullptr;
}
const option_spec* find_short(char c) {
    for (const auto& o : options_table)
        if (o.short_name == c) return &o;
    return nullptr;
}

std::optional<std::chrono::milliseconds> seconds_option(std::string_view text) {
    double v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size() || v < 0 || v > 1e8)
        return std::nullopt;
    return std::chrono::milliseconds(static_cast<long long>(v * 1000));
}

}  // namespace

std::span<const option_spec> all_options() {
    return options_table;
}

std::optional<std::string> command_line::value(std::string_view name) const {
    auto it = given.find(name);
    if (it == given.end()) return std::nullopt;
    return it->second;
}

std::expected<command_line, std::string> parse_command_line(std::span<char* const> argv) {
    command_line cl;
    bool options_done = false;
    for (std::size_t i = 0; i < argv.size(); ++i) {
        std::string_view a = argv[i];
        if (options_done || a.size() < 2 || a[0] != '-') {
            cl.args.emplace_back(a);
            continue;
        }
        if (a == "--") {
            options_done = true;
            continue;
        }
        auto take_value = [&](const option_spec& o) -> std::expected<std::string, std::string> {
            if (i + 1 >= argv.size())
                return std::unexpected(fmt::format("option --{} needs a value", o.long_name));
            return std::string(argv[++i]);
        };
        if (a.starts_with("--")) {
            auto name = a.substr(2);
            auto eq = name.find('=');
            const option_spec* o = find_long(name.substr(0, eq));
            if (!o) return std::unexpected(fmt::format("unknown option {}", a));
            if (eq != std::string_view::npos) {
                if (!o->takes_value)
                    return std::unexpected(fmt::format("option --{} takes no value", o->long_name));
                cl.given[std::string(o->long_name)] = std::string(name.substr(eq + 1));
            } else if (o->takes_value) {
                auto v = take_value(*o);
                if (!v) return std::unexpected(v.error());
                cl.given[std::string(o->long_name)] = *v;
            } else {
                cl.given[std::string(o->long_name)] = "";
            }
            continue;
        }
        for (std::size_t j = 1; j < a.size(); ++j) {
            const option_spec* o = find_short(a[j]);
            if (!o) return std::unexpected(fmt::format("unknown option -{}", a[j]));
            if (!o->takes_value) {
                cl.given[std::string(o->long_name)] = "";
                continue;
            }
            if (j + 1 < a.size()) {
                cl.given[std::string(o->long_name)] = std::string(a.substr(j + 1));
            } else {
                auto v = take_value(*o);
                if (!v) return std::unexpected(v.error());
                cl.given[std::string(o->long_name)] = *v;
            }
            break;
        }
    }
    return cl;
}

std::string context::root() const {
    return cl.value("root").value_or("");
}

bundle_path context::search_path() const {
    return bundle_path::from_environment(root());
}

std::string context::socket_path() const {
    if (auto s = cl.value("socket")) return *s;
    if (const char* env = std::getenv("HEARTWOOD_CONTROL_SOCKET"); env && *env) return env;
    return root() + "/run/service-manager/control";
}

std::expected<job_options, std::string> context::job_opts() const {
    job_options o;
    if (auto t = cl.value("timeout")) {
        auto v = seconds_option(*t);
        if (!v) return std::unexpected(fmt::format("--timeout {}: not a number of seconds", *t));
        o.start_timeout = *v;
    }
    if (auto t = cl.value("stop-timeout")) {
        auto v = seconds_option(*t);
        if (!v)
            return std::unexpected(fmt::format("--stop-timeout {}: not a number of seconds", *t));
        o.stop_timeout = *v;
    }
    return o;
}

void report_error(const context& ctx, std::string_view text) {
    fmt::print(stderr, "{}: error: {}\n", ctx.program, text);
}

void report_warning(const context& ctx, std::string_view text) {
    if (!ctx.quiet) fmt::print(stderr, "{}: warning: {}\n", ctx.program, text);
}

void report_problems(const context& ctx, const diagnostics& problems) {
    for (const auto& d : problems) {
        if (is_problem(d))
            report_warning(ctx, to_string(d));
        else if (ctx.verbose && !ctx.quiet)
            fmt::print(stderr, "{}: note: {}\n", ctx.program, to_string(d));
    }
}

loaded load_named(const context& ctx, const std::vector<std::string>& names, reading how,
                  bool lint) {
    bundle_loader::options opts;
    opts.lint = lint;
    opts.follow_all = how != reading::start_closure;
    opts.install_links = how != reading::start_closure;
    auto read = load_bundles_cached(default_bundle_cache_dir(), ctx.search_path(), names, opts,
                                    how == reading::whole_tree);
    loaded out;
    out.tree = std::move(read.tree);
    for (auto id : read.ids) {
        if (id)
            out.ids.push_back(*id);
        else
            out.all_found = false;
    }
    return out;
}

}  // namespace hw::ctl
