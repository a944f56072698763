// The programs of a converted service (see systemd_converter.hpp): each is a POSIX sh script
// that says `set -e`, checks what it must (Condition...= in run, Assert...= in start: see
// systemd_conditions.cpp), sets up
// the environment, the working directory, limits and output as systemd would for every command,
// then runs the commands: run the ExecStart= ones (exec'ing the last, so that it is the main
// process), start the ExecStartPre= ones, stop the ExecStopPost= ones.
#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "systemd_converter.hpp"

namespace hw::ctl::systemd {

namespace {

// systemd's EnvironmentFile= syntax, read when a program starts: KEY=VALUE lines, comments,
// quotes, escapes and continued lines (env-file.c), printed as sh assignments for eval.
constexpr std::string_view environment_reader =
    R"(# EnvironmentFile= as systemd reads it: KEY=VALUE lines, # and ; comments, '...' and "..."
# quotes, backslash escapes, continued lines. Prints an sh assignment per variable, for eval.
# Written by system-control convert-systemd-units.
{ text = text $0 "\n" }
END {
    q = "\047"
    state = "key"
    n = length(text)
    for (i = 1; i <= n; i++) {
        c = substr(text, i, 1)
        if (state == "key") {
            if (c == "\n") key = ""
            else if (c == "=") state = "pre"
            else if (key == "" && (c == "#" || c == ";")) state = "comment"
            else if (key != "" || (c != " " && c != "\t")) key = key c
        } else if (state == "comment") {
            if (c == "\\") state = "comment-escape"
            else if (c == "\n") state = "key"
        } else if (state == "comment-escape") {
            state = "comment"
        } else if (state == "pre") {
            if (c == "\n") { emit(); state = "key" }
            else if (c == q) state = "single"
            else if (c == "\"") state = "double"
            else if (c == "\\") state = "escape"
            else if (c != " " && c != "\t") { value = value c; state = "value" }
        } else if (state == "value") {
            if (c == "\n") { emit(); state = "key" }
            else if (c == "\\") { value = value blanks; blanks = ""; state = "escape" }
            else if (c == " " || c == "\t") blanks = blanks c
            else { value = value blanks c; blanks = "" }
        } else if (state == "escape") {
            if (c != "\n") value = value c
            state = "value"
        } else if (state == "single") {
            if (c == q) state = "pre"
            else value = value c
        } else if (state == "double") {
            if (c == "\"") state = "pre"
            else if (c == "\\") state = "double-escape"
            else value = value c
        } else if (state == "double-escape") {
            if (c == "\"" || c == "\\" || c == "`" || c == "$") value = value c
            else if (c != "\n") value = value "\\" c
            state = "double"
        }
    }
    if (state != "key" && state != "comment" && state != "comment-escape") emit()
}
function emit(   out, j, ch) {
    sub(/[ \t]+$/, "", key)
    if (key ~ /^[A-Za-z_][A-Za-z0-9_]*$/) {
        out = ""
        for (j = 1; j <= length(value); j++) {
            ch = substr(value, j, 1)
            out = out (ch == q ? q "\\" q q : ch)
        }
        print "export " key "=" q out q
    }
    key = ""; value = ""; blanks = ""
}
)";

struct directory_kind {
    std::string_view key, base, variable;
    bool owned;
};
constexpr std::array<directory_kind, 5> directory_kinds = {{
    {"RuntimeDirectory", "/run", "RUNTIME_DIRECTORY", true},
    {"StateDirectory", "/var/lib", "STATE_DIRECTORY", true},
    {"CacheDirectory", "/var/cache", "CACHE_DIRECTORY", true},
    {"LogsDirectory", "/var/log", "LOGS_DIRECTORY", true},
    {"ConfigurationDirectory", "/etc", "CONFIGURATION_DIRECTORY", false},
}};

enum class limit_unit { count, bytes, seconds, usec, nice };
struct limit_kind {
    std::string_view key, option;
    limit_unit unit;
};
constexpr std::array<limit_kind, 16> limit_kinds = {{
    {"LimitCPU", "cpu", limit_unit::seconds},
    {"LimitFSIZE", "fsize", limit_unit::bytes},
    {"LimitDATA", "data", limit_unit::bytes},
    {"LimitSTACK", "stack", limit_unit::bytes},
    {"LimitCORE", "core", limit_unit::bytes},
    {"LimitRSS", "rss", limit_unit::bytes},
    {"LimitNOFILE", "nofile", limit_unit::count},
    {"LimitAS", "as", limit_unit::bytes},
    {"LimitNPROC", "nproc", limit_unit::count},
    {"LimitMEMLOCK", "memlock", limit_unit::bytes},
    {"LimitLOCKS", "locks", limit_unit::count},
    {"LimitSIGPENDING", "sigpending", limit_unit::count},
    {"LimitMSGQUEUE", "msgqueue", limit_unit::bytes},
    {"LimitNICE", "nice", limit_unit::nice},
    {"LimitRTPRIO", "rtprio", limit_unit::count},
    {"LimitRTTIME", "rttime", limit_unit::usec},
}};

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text, bool sizes) {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    std::string_view suffix(end, static_cast<std::size_t>(text.data() + text.size() - end));
    if (ec != std::errc() || end == text.data()) return std::nullopt;
    if (suffix.empty()) return value;
    constexpr std::string_view suffixes = "KMGTPE";
    auto power = suffixes.find(suffix);
    if (!sizes || suffix.size() != 1 || power == std::string_view::npos) return std::nullopt;
    unsigned shift = 10 * static_cast<unsigned>(power + 1);
    if (value > (~std::uint64_t(0) >> shift)) return std::nullopt;
    return value << shift;
}

namespace {

// One side (soft or hard) of a Limit...= value, as prlimit(1) takes it.
std::optional<std::string> limit_value(std::string_view text, limit_unit unit) {
    using std::chrono::seconds;
    if (text == "infinity") return "unlimited";
    unsigned n = 0;
    switch (unit) {
        case limit_unit::count:
        case limit_unit::bytes:
            if (auto v = parse_size(text, unit == limit_unit::bytes)) return std::to_string(*v);
            return std::nullopt;
        case limit_unit::seconds:
        case limit_unit::usec: {
            auto t = parse_timespan(text, unit == limit_unit::seconds
                                              ? std::chrono::microseconds(seconds(1))
                                              : std::chrono::microseconds(1));
            if (!t) return std::nullopt;
            auto count = unit == limit_unit::usec ? t->count() : (t->count() + 999'999) / 1'000'000;
            return std::to_string(count);
        }
        case limit_unit::nice: {  // "+5"/"-5": a nice value; else the raw limit (1..40)
            bool sign = text.starts_with('+') || text.starts_with('-');
            if (!parse_count(text.substr(sign ? 1 : 0), n)) return std::nullopt;
            int v = text.starts_with('-') ? -static_cast<int>(n) : static_cast<int>(n);
            if (sign && (v < -20 || v > 19)) return std::nullopt;
            return std::to_string(sign ? 20 - v : v);
        }
    }
    return std::nullopt;
}

bool plain_path(std::string_view path) {
    for (char c : path)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("_@+:,./-").find(c) != std::string_view::npos))
            return false;
    return !path.empty() && path.find("..") == std::string_view::npos;
}

void append(std::vector<std::string>& to, const std::vector<std::string>& lines) {
    to.insert(to.end(), lines.begin(), lines.end());
}

bool splits_a_variable(const std::vector<located_command>& commands) {
    for (const auto& c : commands)
        for (const auto& w : c.cmd.words)
            if (w.split) return true;
    return false;
}

}  // namespace

void converter::programs(const std::vector<located_command>& start,
                         const std::vector<condition_check>& conditions) {
    collect_user();
    collect_directories();
    auto pre = commands("ExecStartPre");
    auto post = commands("ExecStopPost");
    auto asserts = checks("Assert");
    bool pre_post_as_user = !boolean("Service", "PermissionsStartOnly").value_or(false);
    auto environment = environment_lines();
    auto setup = setup_lines();
    if (splits_a_variable(start) || splits_a_variable(pre) || splits_a_variable(post))
        setup.push_back("set -f  # a lone $VAR is split into words, which are not patterns");

    auto run = check_lines(conditions, "exit 0", "not starting");
    append(run, environment);
    append(run, setup);
    for (std::size_t i = 0; i < start.size(); ++i)
        run.push_back(command_text(start[i], i + 1 == start.size(), true));
    if (start.empty()) run.push_back("exit 0  # no ExecStart=: nothing to do");
    out_.files.push_back({"service/run", script("run", run), true});

    if (!asserts.empty() || !pre.empty() || !directories_.empty()) {
        auto body = check_lines(asserts, "exit 1", "not starting");
        append(body, environment);
        for (const auto& d : directories_) {
            std::string owner = d.owned && !user_.empty()
                                    ? fmt::format(" -o {} -g {}", user_, group_)
                                    : std::string();
            body.push_back(fmt::format("install -d -m {}{} {}", d.mode, owner, d.path));
        }
        if (!pre.empty()) append(body, setup);
        for (const auto& c : pre) body.push_back(command_text(c, false, pre_post_as_user));
        out_.files.push_back({"service/start", script("start", body), true});
    }

    std::string removed;
    for (const auto& d : directories_)
        if (d.removed) removed += " " + d.path;
    for (const auto& f : removed_files_) removed += " " + f;
    if (!post.empty() || !removed.empty()) {
        std::vector<std::string> body;
        if (!removed.empty()) body.push_back(fmt::format("trap 'rm -rf --{}' EXIT", removed));
        if (!post.empty()) {
            append(body, environment);
            append(body, setup);
        }
        for (const auto& c : post) body.push_back(command_text(c, false, pre_post_as_user));
        out_.files.push_back({"service/stop", script("stop", body), true});
    }
    if (env_reader_)
        out_.files.push_back({"service/environment-file.awk", std::string(environment_reader)});
}

std::vector<located_command> converter::commands(std::string_view key) {
    std::vector<located_command> out;
    for (const assignment* a : set_.list("Service", key)) {
        auto parsed = parse_command_line(a->value, spec_);
        if (!parsed) {
            error(*a, fmt::format("{}=: {}", key, parsed.error()));
            continue;
        }
        for (const auto& w : parsed->warnings) warn(*a, fmt::format("{}=: {}", key, w));
        for (auto& c : parsed->commands) out.push_back({std::move(c), a});
    }
    return out;
}

// User=, Group=, SupplementaryGroups=, NoNewPrivileges=: util-linux's setpriv before commands.
void converter::collect_user() {
    auto rendered = [this](const char* key) {
        const assignment* a = set_.last("Service", key);
        auto w = a ? word(*a, a->value) : std::nullopt;
        return w ? render(*w) : std::string();
    };
    user_ = rendered("User");
    group_ = rendered("Group");
    std::vector<std::string> extra;
    for (const assignment* a : set_.list("Service", "SupplementaryGroups"))
        for (const auto& g : split_words(a->value).value_or(std::vector<std::string>{}))
            if (auto w = word(*a, g)) extra.push_back(render(*w));
    std::string groups;
    for (const auto& g : extra) groups += "," + g;
    std::string s;
    if (!user_.empty()) {
        if (group_.empty()) group_ = "\"$user_gid\"";  // the user's own, read by user_lines()
        s = fmt::format(" --reuid={} --regid={}", user_, group_);
        s += extra.empty() ? " --init-groups"
                           : fmt::format(" --groups=\"$(id -G {} | tr ' ' ,)\"{}", user_, groups);
    } else if (!group_.empty()) {
        s = fmt::format(" --regid={}", group_);
        s += extra.empty() ? " --keep-groups" : " --groups=" + groups.substr(1);
    } else if (!extra.empty()) {
        s = " --groups=" + groups.substr(1);
    }
    if (boolean("Service", "NoNewPrivileges").value_or(false)) s += " --no-new-privs";
    privileges_ = s.empty() ? std::string() : "setpriv" + s + " --";
}

// RuntimeDirectory= and friends: created by start, named in the environment, the runtime ones
// removed by stop.
void converter::collect_directories() {
    std::string preserve = "no";
    if (const assignment* p = set_.last("Service", "RuntimeDirectoryPreserve")) {
        auto b = parse_boolean(p->value);
        preserve = b ? (*b ? "yes" : "no") : p->value;
        if (preserve != "yes" && preserve != "no" && preserve != "restart")
            error(*p, fmt::format("RuntimeDirectoryPreserve={}: not yes, no or restart", p->value));
    }
    for (const auto& kind : directory_kinds) {
        std::string mode = "0755";
        if (const assignment* m = set_.last("Service", std::string(kind.key) + "Mode")) {
            unsigned v = 0;
            if (m->value.size() > 4 || !parse_count(m->value, v) ||
                m->value.find_first_of("89") != std::string::npos)
                error(*m, fmt::format("{}={}: not an octal mode", m->key, m->value));
            mode = m->value;
        }
        std::string paths;
        for (const assignment* a : set_.list("Service", kind.key)) {
            for (const auto& w : split_words(a->value).value_or(std::vector<std::string>{})) {
                auto name = spec_.expand_text(w);
                if (!name || name->starts_with('/') || !plain_path(*name)) {
                    error(*a, fmt::format("{}=: '{}' is not a relative path of plain characters",
                                          kind.key, w));
                    continue;
                }
                std::string path = fmt::format("{}/{}", kind.base, *name);
                bool removed = kind.key == "RuntimeDirectory" && preserve == "no";
                directories_.push_back({path, mode, kind.owned, removed});
                paths += (paths.empty() ? "" : ":") + path;
            }
        }
        if (!paths.empty())
            directory_env_.push_back(fmt::format("export {}={}", kind.variable, paths));
    }
}

// What systemd gives every command of a service with User=: HOME, SHELL, USER, LOGNAME.
std::vector<std::string> converter::user_lines() const {
    if (user_.empty()) return {};
    return {"IFS=: read -r _ _ _ user_gid _ HOME SHELL <<EOF", "$(getent passwd " + user_ + ")",
            "EOF", fmt::format("export HOME SHELL USER={} LOGNAME={}", user_, user_)};
}

std::vector<std::string> converter::environment_lines() {
    auto lines = user_lines();
    append(lines, directory_env_);
    for (const assignment* a : set_.list("Service", "Environment")) {
        auto vars = parse_environment(a->value, spec_);
        if (!vars) error(*a, fmt::format("Environment=: {}", vars.error()));
        for (const auto& v : vars.value_or(std::vector<environment_variable>{}))
            lines.push_back(fmt::format("export {}={}", v.name, render(v.value)));
    }
    auto files = set_.list("Service", "EnvironmentFile");
    if (!files.empty()) {
        env_reader_ = true;
        lines.push_back(
            "read_env_file() { vars=$(awk -f ./environment-file.awk \"$1\") && "
            "eval \"$vars\"; }");
    }
    for (const assignment* a : files) {
        std::string_view v = a->value;
        bool optional = v.starts_with('-');
        auto path = word(*a, optional ? v.substr(1) : v);
        if (!path) continue;
        std::string p = render(*path);
        lines.push_back(optional ? fmt::format("[ ! -e {} ] || read_env_file {}", p, p)
                                 : "read_env_file " + p);
    }
    for (const assignment* a : set_.list("Service", "UnsetEnvironment")) {
        for (const auto& w : split_words(a->value).value_or(std::vector<std::string>{})) {
            auto eq = w.find('=');
            std::string name = w.substr(0, eq);
            if (!valid_variable_name(name))
                error(*a, fmt::format("UnsetEnvironment=: '{}' is not a variable name", w));
            else if (eq == std::string::npos)
                lines.push_back("unset " + name);
            else
                lines.push_back(fmt::format("[ \"${{{}-}}\" != {} ] || unset {}", name,
                                            sh_quote(w.substr(eq + 1)), name));
        }
    }
    set_.list("Service", "PassEnvironment");  // heartwood passes its whole environment
    return lines;
}

std::vector<std::string> converter::setup_lines() {
    std::vector<std::string> lines;
    if (auto cd = working_directory_line()) lines.push_back(*cd);
    if (const assignment* u = set_.last("Service", "UMask")) {
        unsigned v = 0;
        if (u->value.size() > 4 || !parse_count(u->value, v) ||
            u->value.find_first_of("89") != std::string::npos)
            error(*u, fmt::format("UMask={}: not an octal mode", u->value));
        else
            lines.push_back("umask " + u->value);
    }
    if (auto l = limits_line()) lines.push_back(*l);
    append(lines, process_lines());
    append(lines, scheduling_lines());
    if (const assignment* in = set_.last("Service", "StandardInput"); in && in->value != "null")
        unused(*in, "standard input is /dev/null");
    if (auto o = output_line()) lines.push_back(*o);
    return lines;
}

std::optional<std::string> converter::working_directory_line() {
    const assignment* a = set_.last("Service", "WorkingDirectory");
    if (!a) return "cd /";
    std::string_view v = a->value;
    bool optional = v.starts_with('-');
    if (optional) v.remove_prefix(1);
    std::string dir;
    if (v == "~") {
        dir = user_.empty() ? "/root" : "\"$HOME\"";
    } else {
        auto w = word(*a, v);
        if (!w) return std::nullopt;
        if (w->pieces.empty() || w->pieces[0].what != shell_word::kind::text ||
            !w->pieces[0].value.starts_with('/')) {
            error(*a, fmt::format("WorkingDirectory={}: not an absolute path (or ~)", a->value));
            return std::nullopt;
        }
        dir = render(*w);
    }
    return optional ? fmt::format("cd {} 2>/dev/null || cd /", dir) : "cd " + dir;
}

std::optional<std::string> converter::limits_line() {
    std::string options;
    for (const auto& kind : limit_kinds) {
        const assignment* a = set_.last("Service", kind.key);
        if (!a) continue;
        std::string_view v = a->value;
        auto colon = v.find(':');
        auto soft = limit_value(v.substr(0, colon), kind.unit);
        auto hard =
            colon == std::string_view::npos ? soft : limit_value(v.substr(colon + 1), kind.unit);
        if (!soft || !hard) {
            error(*a, fmt::format("{}={}: not a limit", kind.key, a->value));
            continue;
        }
        options += fmt::format(" --{}={}:{}", kind.option, *soft, *hard);
    }
    if (options.empty()) return std::nullopt;
    return "prlimit --pid $$" + options;
}

// Nice=, OOMScoreAdjust=: set on the script's own process, which the commands inherit.
std::vector<std::string> converter::process_lines() {
    std::vector<std::string> lines;
    struct range {
        const char* key;
        int low, high;
        const char* line;
    };
    static constexpr std::array<range, 2> ranges = {{
        {"Nice", -20, 19, "renice -n {} -p $$ >/dev/null"},
        // As systemd: a container may refuse it, which is no failure.
        {"OOMScoreAdjust", -1000, 1000, "echo {} 2>/dev/null >/proc/self/oom_score_adj || :"},
    }};
    for (const auto& r : ranges) {
        const assignment* a = set_.last("Service", r.key);
        if (!a) continue;
        std::string_view v = a->value;
        bool minus = v.starts_with('-');
        unsigned n = 0;
        bool number = parse_count(v.substr(minus || v.starts_with('+') ? 1 : 0), n);
        int value = minus ? -static_cast<int>(n) : static_cast<int>(n);
        if (!number || value < r.low || value > r.high)
            error(*a,
                  fmt::format("{}={}: not a number from {} to {}", r.key, a->value, r.low, r.high));
        else
            lines.push_back(fmt::format(fmt::runtime(r.line), value));
    }
    return lines;
}

// IOScheduling...=, CPUScheduling...=, CPUAffinity=: util-linux's ionice, chrt and taskset on
// the script's own process, which the commands inherit.
std::vector<std::string> converter::scheduling_lines() {
    std::vector<std::string> lines;
    for (auto line : {io_scheduling_line(), cpu_scheduling_line(), cpu_affinity_line()})
        if (line) lines.push_back(std::move(*line));
    return lines;
}

std::optional<unsigned> converter::number(const assignment& a, unsigned low, unsigned high) {
    unsigned n = 0;
    if (parse_count(a.value, n) && n >= low && n <= high) return n;
    error(a, fmt::format("{}={}: not a number from {} to {}", a.key, a.value, low, high));
    return std::nullopt;
}

std::optional<std::string> converter::io_scheduling_line() {
    static constexpr std::array<std::string_view, 4> classes = {"none", "realtime", "best-effort",
                                                                "idle"};
    const assignment* c = set_.last("Service", "IOSchedulingClass");
    const assignment* priority = set_.last("Service", "IOSchedulingPriority");
    if (!c && !priority) return std::nullopt;
    auto found = c ? std::find(classes.begin(), classes.end(), c->value) : classes.begin() + 2;
    if (found == classes.end()) {
        error(*c, fmt::format("IOSchedulingClass={}: not a class", c->value));
        return std::nullopt;
    }
    auto index = found - classes.begin();
    auto n = priority ? number(*priority, 0, 7) : std::nullopt;
    if (index == 3 || !n) return fmt::format("ionice -c {} -p $$", index);  // idle: no priority
    return fmt::format("ionice -c {} -n {} -p $$", index, *n);
}

std::optional<std::string> converter::cpu_scheduling_line() {
    static constexpr std::array<std::string_view, 5> policies = {"other", "batch", "idle", "fifo",
                                                                 "rr"};
    const assignment* policy = set_.last("Service", "CPUSchedulingPolicy");
    const assignment* priority = set_.last("Service", "CPUSchedulingPriority");
    bool reset = boolean("Service", "CPUSchedulingResetOnFork").value_or(false);
    if (!policy) {
        if (priority) unused(*priority, "it means nothing without CPUSchedulingPolicy=");
        return std::nullopt;
    }
    if (std::find(policies.begin(), policies.end(), policy->value) == policies.end()) {
        error(*policy, fmt::format("CPUSchedulingPolicy={}: not a policy", policy->value));
        return std::nullopt;
    }
    bool realtime = policy->value == "fifo" || policy->value == "rr";
    auto n = priority && realtime ? number(*priority, 1, 99) : std::optional(realtime ? 1u : 0u);
    if (!n) return std::nullopt;
    return fmt::format("chrt{} --{} -p {} $$", reset ? " -R" : "", policy->value, *n);
}

std::optional<std::string> converter::cpu_affinity_line() {
    std::string cpus;
    for (const assignment* a : set_.list("Service", "CPUAffinity")) {
        for (const auto& w : split_words(a->value).value_or(std::vector<std::string>{})) {
            if (w.find_first_not_of("0123456789-,") != std::string::npos)
                error(*a, fmt::format("CPUAffinity=: '{}' is not a list of CPUs", w));
            cpus += (cpus.empty() ? "" : ",") + w;
        }
    }
    if (cpus.empty()) return std::nullopt;
    return fmt::format("taskset -pc {} $$ >/dev/null", cpus);
}

// StandardOutput=, StandardError=: the system log (journal, syslog, kmsg: heartwood's default),
// a file, /dev/null or the console.
std::optional<std::string> converter::output_line() {
    auto target = [this](const assignment& a, int fd) -> std::string {
        std::string_view v = a.value;
        for (std::string_view log : {"journal", "syslog", "kmsg"})
            if (v == log || v == std::string(log) + "+console") return {};
        if (v == "null" || (v == "inherit" && fd == 1)) return fmt::format("{}>/dev/null", fd);
        if (v == "console") return fmt::format("{}>/dev/console", fd);
        struct file_kind {
            std::string_view prefix, op;
        };
        for (auto [prefix, op] :
             {file_kind{"file:", "<>"}, {"append:", ">>"}, {"truncate:", ">"}}) {
            if (!v.starts_with(prefix)) continue;
            auto w = word(a, v.substr(prefix.size()));
            return w ? fmt::format("{}{}{}", fd, op, render(*w)) : std::string();
        }
        unused(a,
               "only journal, syslog, kmsg, null, console, inherit, file:, append: and "
               "truncate: are converted");
        return {};
    };
    const assignment* out = set_.last("Service", "StandardOutput");
    const assignment* err = set_.last("Service", "StandardError");
    std::string o = out ? target(*out, 1) : std::string();
    std::string e = err && err->value != "inherit" ? target(*err, 2) : std::string();
    if (e.empty() && !o.empty() && (!err || err->value == "inherit")) e = "2>&1";
    if (o.empty() && e.empty()) return std::nullopt;
    return fmt::format("exec {}", o.empty() ? e : e.empty() ? o : o + " " + e);
}

std::optional<shell_word> converter::word(const assignment& at, std::string_view text) {
    shell_word w;
    if (auto r = spec_.expand(text, w); !r) {
        error(at, fmt::format("{}=: {}", at.key, r.error()));
        return std::nullopt;
    }
    return w;
}

std::string converter::command_text(const located_command& c, bool last, bool as_user) const {
    std::string text = render(c.cmd.words);
    if (as_user && !c.cmd.full_privileges && !privileges_.empty()) text = privileges_ + " " + text;
    // The main command (run's last) gets the service's sockets, made before any privilege drop.
    if (last && !listen_.empty()) text = listen_ + " " + text;
    if (c.cmd.ignore_failure) return text + " || :";  // '-': a failure is not one
    return last ? "exec " + text : text;
}

std::string converter::script(std::string_view program,
                              const std::vector<std::string>& body) const {
    std::string text = "#!/bin/sh\n";
    const assignment* description = nullptr;
    for (const auto& a : unit_.assignments)
        if (a.section == "Unit" && a.key == "Description") description = &a;
    auto expanded = description ? spec_.expand_text(description->value) : std::string();
    text += expanded && !expanded->empty() ? fmt::format("# {}: {}\n", out_.self.name, *expanded)
                                           : fmt::format("# {}\n", out_.self.name);
    text += fmt::format("# The {} program for {}, by system-control convert-systemd-units.\n",
                        program, unit_.path);
    text += "set -e\n";
    for (const auto& line : body) text += line + "\n";
    return text;
}

}  // namespace hw::ctl::systemd
