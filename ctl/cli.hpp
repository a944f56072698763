// cli: what every verb of system-control shares: the parsed command line, exit codes, where
// bundles and the service-manager are, output helpers (colour only on a terminal).
//
// Options may appear anywhere before "--"; every verb sees the same option table (one that does
// not apply to a verb is ignored by it). Errors are reported on stderr as
// "system-control: error: unable to <verb> <object>: <reason>" and mapped to exit codes:
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/bundle_tree.hpp"
#include "job.hpp"
#include "service_control.hpp"

namespace hw::ctl {

namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int no = 1;         // the answer is no, a job failed, problems were found
inline constexpr int usage = 100;    // the command line is wrong
inline constexpr int failure = 111;  // a system call failed, the service-manager is unreachable
}  // namespace exit_code

struct option_spec {
    std::string_view long_name;
    char short_name;  // 0: none
    bool takes_value;
    std::string_view help;
};

struct command_line {
    std::vector<std::string> args;                          // positionals after the verb
    std::map<std::string, std::string, std::less<>> given;  // long name -> value ("" for flags)

    bool has(std::string_view name) const { return given.contains(name); }
    std::optional<std::string> value(std::string_view name) const;
};

// Parses argv[first..]; on error returns the message.
std::expected<command_line, std::string> parse_command_line(std::span<char* const> argv);
std::span<const option_spec> all_options();

struct context {
    std::string program = "system-control";
    command_line cl;
    bool verbose = false;
    bool dry_run = false;
    bool quiet = false;
    bool force = false;
    bool colour = false;  // stdout is a terminal (or --colour), and not --no-colour

    std::string root() const;         // --root, or ""
    bundle_path search_path() const;  // HEARTWOOD_BUNDLE_PATH or defaults, under --root
    std::string socket_path() const;  // --socket, $HEARTWOOD_CONTROL_SOCKET, or the default
    std::expected<job_options, std::string> job_opts() const;

    // "\x1b[32m" etc. when colour is on; "" otherwise.
    std::string_view paint(std::string_view sgr) const { return colour ? sgr : ""; }
};

// Messages on stderr in the house grammar.
void report_error(const context& ctx, std::string_view text);
void report_warning(const context& ctx, std::string_view text);
void report_problems(const context& ctx, const diagnostics& problems);

// Connects to the service-manager (the adapter point: see manager.cpp).
control_result<std::unique_ptr<service_control>> connect_manager(const context& ctx);
// connect_manager(), reporting a failure; nullptr then.
std::unique_ptr<service_control> connect_or_report(const context& ctx);

// How much of the tree to read besides the named bundles.
enum class reading {
    start_closure,  // what a start job reaches (wants/, requires/, conflicts/, log)
    reachable,      // everything reachable through any link
    whole_tree,     // every bundle of every root (stop jobs, reverse queries, check)
};
// Loads the named bundles. Missing names are diagnostics in tree.problems, and leave ids
// shorter and all_found false.
struct loaded {
    bundle_tree tree;
    std::vector<node_id> ids;
    bool all_found = true;
};
loaded load_named(const context& ctx, const std::vector<std::string>& names, reading how,
                  bool lint = false);

using verb_handler = int (*)(context&);
struct verb {
    std::string_view name;
    verb_handler run;
    std::string_view usage;    // arguments, e.g. "[-n] NAME..."
    std::string_view summary;  // one line
};
std::span<const verb> all_verbs();

// The handlers, one file per group (verb_*.cpp).
int verb_start(context&);
int verb_stop(context&);
int verb_restart(context&);
int verb_try_restart(context&);
int verb_reload(context&);
int verb_isolate(context&);
int verb_status(context&);
int verb_show(context&);
int verb_list(context&);
int verb_is_active(context&);
int verb_is_loaded(context&);
int verb_is_enabled(context&);
int verb_enable(context&);
int verb_disable(context&);
int verb_preset(context&);
int verb_cat(context&);
int verb_find(context&);
int verb_check(context&);
int verb_convert_systemd_units(context&);
int verb_list_dependencies(context&);
int verb_init(context&);
int verb_halt(context&);
int verb_poweroff(context&);
int verb_reboot(context&);
int verb_kexec(context&);
int verb_exit(context&);
int verb_emergency(context&);
int verb_rescue(context&);
int verb_normal(context&);
int verb_reexec(context&);
int verb_help(context&);
int verb_version(context&);

// argv[0] personalities: halt, poweroff, reboot, shutdown, telinit, runlevel. Returns nullopt
// when `name` is not one of them.
std::optional<int> run_personality(std::string_view name, std::span<char* const> argv);

}  // namespace hw::ctl
