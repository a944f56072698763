// Query verbs that ask the service-manager: status, show, list, is-active, is-loaded.
#include <fmt/core.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <ctime>
#include <fcntl.h>
#include <unistd.h>

#include "common/text_file.hpp"
#include "common/unique_fd.hpp"
#include <set>

#include "cli.hpp"
#include "common/process.hpp"
#include "install.hpp"

namespace hw::ctl {

namespace {

constexpr std::string_view green = "\x1b[32m", red = "\x1b[31m", yellow = "\x1b[33m",
                           bold = "\x1b[1m", reset = "\x1b[0m";

// A named bundle as the service-manager knows it: its bundle (when found on disk) and name.
struct target {
    std::string name;
    std::optional<bundle> found;
    bundle_tree tree;  // holds found's relationships
    std::optional<node_id> id;
};

target lookup(const context& ctx, const std::string& arg, reading how = reading::start_closure) {
    target t;
    auto l = load_named(ctx, {arg}, how);
    if (l.all_found) {
        t.id = l.ids.front();
        t.found = l.tree.at(*t.id);
        t.name = t.found->name;
    } else {
        t.name = arg;  // perhaps loaded from elsewhere: ask by the name given
    }
    t.tree = std::move(l.tree);
    return t;
}

std::string_view state_colour(service_state s) {
    switch (s) {
        case service_state::ready:
        case service_state::running:
            return green;
        case service_state::failed:
            return red;
        case service_state::starting:
        case service_state::stopping:
            return yellow;
        case service_state::stopped:
            break;
    }
    return "";
}

std::string ago(std::chrono::seconds s) {
    auto n = s.count();
    if (n < 60) return fmt::format("{}s", n);
    if (n < 3600) return fmt::format("{}min {}s", n / 60, n % 60);
    if (n < 86400) return fmt::format("{}h {}min", n / 3600, (n % 3600) / 60);
    return fmt::format("{}d {}h", n / 86400, (n % 86400) / 3600);
}

std::string wall_time(std::chrono::system_clock::time_point t) {
    std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm local{};
    ::localtime_r(&tt, &local);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %z", &local);
    return buf;
}

// The log file of a bundle: its `log` bundle's main/current (nosh's convention).
std::optional<std::string> log_file(const target& t) {
    if (!t.id) return std::nullopt;
    auto loggers = t.tree.relations.out(*t.id, edge_kind::log);
    if (loggers.empty()) return std::nullopt;
    std::string current = t.tree.at(loggers.front()).path + "/main/current";
    struct stat st;
    if (::stat(current.c_str(), &st) != 0) return std::nullopt;
    return current;
}

// The last n lines of a log file, read from at most its last 64 KiB.
std::vector<std::string> last_lines(const std::string& file, std::size_t n) {
    constexpr off_t tail_bytes = 64 * 1024;
    unique_fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0) return {};
    off_t from = std::max<off_t>(0, st.st_size - tail_bytes);
    std::string text(static_cast<std::size_t>(st.st_size - from), '\0');
    ssize_t got = ::pread(fd.get(), text.data(), text.size(), from);
    text.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
    auto lines = split_lines(text);
    if (from > 0 && !lines.empty()) lines.erase(lines.begin());  // cut in the middle of a line
    if (lines.size() > n) lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(n));
    return {lines.begin(), lines.end()};
}

int want_names(const context& ctx, std::string_view verb) {
    if (!ctx.cl.args.empty()) return exit_code::ok;
    report_error(ctx, fmt::format("{}: no bundle named (try --help)", verb));
    return exit_code::usage;
}

std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\')
            out += '\\', out += static_cast<char>(c);
        else if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else if (c < 0x20)
            out += fmt::format("\\u{:04x}", c);
        else
            out += static_cast<char>(c);
    }
    return out + "\"";
}

// "memory 1.2M, tasks 5, cpu 0.03s" from the service's own cgroup (the cgroup of its main
// process, when that is the service-manager's services/<name>); nullopt otherwise (process
// groups, where the cgroup is the manager's and says nothing about the service).
std::optional<std::string> cgroup_usage(std::string_view name, std::uint32_t pid) {
    auto membership = read_text_file(fmt::format("/proc/{}/cgroup", pid).c_str());
    if (!membership) return std::nullopt;
    std::string_view path;
    for (auto line : split_lines(*membership))
        if (line.starts_with("0::")) path = line.substr(3);
    if (!path.ends_with(fmt::format("/services/{}", name))) return std::nullopt;
    std::string dir = fmt::format("/sys/fs/cgroup{}", path);
    auto first_number = [&](const char* file, std::string_view key) -> std::optional<double> {
        auto text = read_text_file((dir + "/" + file).c_str(), 4096);
        if (!text) return std::nullopt;
        auto fields = split_fields(*text);
        for (std::size_t i = 0; i < fields.size(); ++i) {
            bool here = key.empty() ? i == 0 : (fields[i] == key && ++i < fields.size());
            double v = 0;
            if (here && parse_number(fields[i], v)) return v;
        }
        return std::nullopt;
    };
    std::vector<std::string> parts;
    if (auto m = first_number("memory.current", {})) {
        parts.push_back(fmt::format("memory {:.1f}M", *m / (1024 * 1024)));
    }
    if (auto t = first_number("pids.current", {})) parts.push_back(fmt::format("tasks {:.0f}", *t));
    if (auto u = first_number("cpu.stat", "usage_usec")) {
        parts.push_back(fmt::format("cpu {:.2f}s", *u / 1e6));
    }
    if (parts.empty()) return std::nullopt;
    std::string out = std::string(path) + ":";
    for (const auto& p : parts) out += (out.ends_with(':') ? " " : ", ") + p;
    return out;
}

}  // namespace

int verb_status(context& ctx) {
    if (int u = want_names(ctx, "status")) return u;
    std::size_t lines = 10;
    if (auto l = ctx.cl.value("lines")) lines = std::strtoul(l->c_str(), nullptr, 10);
    auto control = connect_or_report(ctx);
    if (!control) return exit_code::failure;
    int status = exit_code::ok;
    for (const auto& arg : ctx.cl.args) {
        target t = lookup(ctx, arg);
        auto st = control->status(t.name);
        if (!st) {
            report_error(ctx,
                         fmt::format("unable to ask about {}: {}", t.name, st.error().message));
            if (st.error().connection_lost) return exit_code::failure;
            status = exit_code::no;
            continue;
        }
        fmt::print("{}{}{}{}\n", ctx.paint(bold), t.name, ctx.paint(reset),
                   t.found ? fmt::format(" ({})", t.found->path) : std::string());
        if (!*st) {
            fmt::print("  state:     not loaded{}\n",
                       t.found ? (is_enabled(t.found->path) ? ", enabled" : ", disabled") : "");
            status = exit_code::no;
            continue;
        }
        const service_status& s = **st;
        auto since = std::chrono::duration_cast<std::chrono::seconds>(clock::now() - s.since);
        fmt::print("  state:     {}{}{}{}, since {} ({} ago)\n", ctx.paint(state_colour(s.state)),
                   state_name(s.state), ctx.paint(state_colour(s.state).empty() ? "" : reset),
                   s.ready && s.state != service_state::ready ? ", ready" : "",
                   wall_time(s.since_wall), ago(since));
        if (s.pid) fmt::print("  main pid:  {}\n", s.pid);
        if (auto usage = s.pid ? cgroup_usage(t.name, s.pid) : std::nullopt)
            fmt::print("  cgroup:    {}\n", *usage);
        if (s.last_wait_status) fmt::print("  last exit: {}\n", describe_wait_status(*s.last_wait_status));
        if (s.restarts) fmt::print("  restarts:  {}\n", s.restarts);
        if (!s.status_text.empty()) fmt::print("  status:    {}\n", s.status_text);
        if (auto log = log_file(t); log && lines) {
            fmt::print("  log:       {}\n", *log);
            for (const auto& line : last_lines(*log, lines)) fmt::print("    {}\n", line);
        }
    }
    return status;
}

int verb_show(context& ctx) {
    if (int u = want_names(ctx, "show")) return u;
    bool json = ctx.cl.has("json");
    auto control = connect_manager(ctx);
    int status = exit_code::ok;
    if (!control) {
        report_warning(ctx, control.error().message + "; showing what the bundles say");
        status = exit_code::failure;
    }
    for (const auto& arg : ctx.cl.args) {
        target t = lookup(ctx, arg, reading::whole_tree);
        std::vector<std::pair<std::string, std::string>> kv;  // value already JSON-encoded
        auto str = [&](std::string key, std::string_view v) {
            kv.emplace_back(key, json_string(v));
        };
        auto raw = [&](std::string key, std::string v) { kv.emplace_back(key, std::move(v)); };
        auto yes = [&](std::string key, bool v) { raw(key, v ? "true" : "false"); };
        str("Name", t.name);
        if (t.found) {
            const bundle& b = *t.found;
            str("Path", b.path);
            str("ServiceDir", b.service_dir);
            yes("Enabled", !b.flags.down);
            yes("Remain", b.flags.remain);
            yes("ReadyAfterRun", b.flags.ready_after_run);
            yes("UseHangup", b.flags.use_hangup);
            yes("NoKillSignal", b.flags.no_kill_signal);
            if (b.start_timeout)
                raw("TimeoutStartSec", fmt::format("{:g}", b.start_timeout->count() / 1000.0));
            if (b.stop_timeout)
                raw("TimeoutStopSec", fmt::format("{:g}", b.stop_timeout->count() / 1000.0));
            static constexpr std::pair<edge_kind, const char*> keys[] = {
                {edge_kind::wants, "Wants"},
                {edge_kind::requires_, "Requires"},
                {edge_kind::conflicts, "Conflicts"},
                {edge_kind::required_by, "RequiredBy"},
                {edge_kind::after, "After"},
                {edge_kind::before, "Before"},
                {edge_kind::wanted_by, "WantedBy"},
                {edge_kind::stopped_by, "StoppedBy"},
                {edge_kind::log, "Log"}};
            for (auto [kind, key] : keys) {
                std::vector<std::string> names;
                for (auto id : t.tree.relations.out(*t.id, kind))
                    names.push_back(t.tree.at(id).name);
                std::sort(names.begin(), names.end());
                std::string list = "[";
                for (const auto& n : names) list += (list.size() > 1 ? "," : "") + json_string(n);
                kv.emplace_back(key, list + "]");
            }
        } else {
            status = std::max(status, exit_code::no);
        }
        if (control) {
            auto st = (*control)->status(t.name);
            if (!st) {
                report_error(ctx,
                             fmt::format("unable to ask about {}: {}", t.name, st.error().message));
                status = exit_code::failure;
            } else {
                yes("Loaded", st->has_value());
                if (*st) {
                    const service_status& s = **st;
                    str("State", state_name(s.state));
                    raw("MainPID", std::to_string(s.pid));
                    yes("Ready", s.ready);
                    str("Since", wall_time(s.since_wall));
                    if (s.last_wait_status) {
                        raw("LastWaitStatus", std::to_string(*s.last_wait_status));
                        str("LastExit", describe_wait_status(*s.last_wait_status));
                    }
                    raw("Restarts", std::to_string(s.restarts));
                    str("StatusText", s.status_text);
                }
            }
        }
        if (json) {
            std::string obj = "{";
            for (const auto& [k, v] : kv)
                obj += fmt::format("{}\"{}\":{}", obj.size() > 1 ? "," : "", k, v);
            fmt::print("{}}}\n", obj);
            continue;
        }
        for (const auto& [k, v] : kv) {
            std::string plain = v;
            if (plain.starts_with('"')) {
                plain = plain.substr(1, plain.size() - 2);
            } else if (plain.starts_with('[')) {
                plain = plain.substr(1, plain.size() - 2);
                std::erase(plain, '"');
                std::replace(plain.begin(), plain.end(), ',', ' ');
            } else if (plain == "true" || plain == "false") {
                plain = plain == "true" ? "yes" : "no";
            }
            fmt::print("{}={}\n", k, plain);
        }
        if (ctx.cl.args.size() > 1) fmt::print("\n");
    }
    return status;
}

int verb_list(context& ctx) {
    auto control = connect_or_report(ctx);
    if (!control) return exit_code::failure;
    auto services = control->list();
    if (!services) {
        report_error(ctx, fmt::format("unable to list services: {}", services.error().message));
        return exit_code::failure;
    }
    std::vector<std::pair<std::string, std::string>> rows;
    std::set<std::string> loaded_names;
    for (const auto& s : *services) {
        loaded_names.insert(s.name);
        std::string state =
            fmt::format("{}{}{}", ctx.paint(state_colour(s.state)), state_name(s.state),
                        ctx.paint(state_colour(s.state).empty() ? "" : reset));
        rows.emplace_back(s.name, s.pid ? fmt::format("{} (pid {})", state, s.pid) : state);
    }
    if (ctx.cl.has("all")) {
        auto l = load_named(ctx, {}, reading::whole_tree);
        for (const auto& b : l.tree.bundles)
            if (!loaded_names.contains(b.name)) rows.emplace_back(b.name, "not loaded");
    }
    std::sort(rows.begin(), rows.end());
    std::size_t width = 4;
    for (const auto& r : rows) width = std::max(width, r.first.size());
    for (const auto& [name, state] : rows) fmt::print("{:<{}}  {}\n", name, width, state);
    return exit_code::ok;
}

namespace {

// Asks the state of every named service; `good` says which state answers yes.
int ask_each(context& ctx, std::string_view verb,
             bool (*good)(const std::optional<service_status>&)) {
    if (int u = want_names(ctx, verb)) return u;
    auto control = connect_or_report(ctx);
    if (!control) return exit_code::failure;
    int status = exit_code::ok;
    for (const auto& arg : ctx.cl.args) {
        target t = lookup(ctx, arg);
        auto st = control->status(t.name);
        if (!st) {
            report_error(ctx,
                         fmt::format("unable to ask about {}: {}", t.name, st.error().message));
            return exit_code::failure;
        }
        if (!ctx.quiet)
            fmt::print("{}\n", *st ? state_name((*st)->state) : std::string_view("not loaded"));
        if (!good(*st)) status = exit_code::no;
    }
    return status;
}

}  // namespace

int verb_is_active(context& ctx) {
    return ask_each(ctx, "is-active", [](const std::optional<service_status>& s) {
        return s && (s->state == service_state::ready || s->state == service_state::running);
    });
}

int verb_is_loaded(context& ctx) {
    return ask_each(ctx, "is-loaded",
                    [](const std::optional<service_status>& s) { return s.has_value(); });
}

}  // namespace hw::ctl
