// systemd_converter: the converter behind convert_unit() (systemd_convert.hpp), shared by its
// three files: systemd_convert.cpp (the service's life cycle, relationships, the restart
// decision), systemd_programs.cpp (the start, run and stop programs: environment, working
// directory, limits, user, output, commands) and systemd_conditions.cpp (Condition...=,
// Assert...=). One object converts one unit.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "systemd_convert.hpp"
#include "systemd_exec.hpp"

namespace hw::ctl::systemd {

// How a service tells it is ready (Type=).
enum class readiness { on_spawn, sd_notify, after_run };

struct located_command {
    command cmd;
    const assignment* at;
};

// One Condition...= or Assert...= as a sh test that succeeds when it holds.
struct condition_check {
    std::string test;
    std::string text;      // "ConditionPathExists=!/etc/x", for the message
    bool trigger = false;  // '|': one of the triggering checks must hold
};

// RestartForceExitStatus=, RestartPreventExitStatus=, SuccessExitStatus= as case patterns.
struct exit_lists {
    std::vector<std::string> force, prevent, success;
};

class converter {
  public:
    converter(const unit_source& unit, unit_name name, const bundle_exists& exists);
    conversion convert();

  private:
    using microseconds = std::chrono::microseconds;

    // systemd_convert.cpp: the bundle.
    void service();
    void target();
    void timeouts(bool oneshot);
    void kill_settings();
    void resource_controls();
    void restart_policy(readiness ready, bool oneshot,
                        const std::vector<condition_check>& conditions);
    void builtin_restart(microseconds delay, const std::vector<const assignment*>& limits);
    std::string restart_program(std::string_view policy, microseconds delay, bool oneshot,
                                const std::vector<condition_check>& conditions,
                                const exit_lists& lists);
    std::vector<std::string> exit_patterns(std::string_view key);
    void relationships(bool is_target);
    // systemd_timer.cpp: a timer unit, as a service that runs timer-wait.
    void timer_unit();
    // systemd_socket.cpp: the socket unit of the service, made by socket-listen in run.
    void sockets(bool oneshot);
    void socket_unit(const unit_source& socket);
    void socket_install(settings& s, const specifiers& sp);
    void link_units(const assignment& at, std::string_view dir, bool requirement);
    void requires_mounts_for();
    void default_dependencies(bool is_target);
    void add_link(std::string dir, bundle_ref to);
    void report_unused();
    void sort_problems();
    std::optional<bool> boolean(std::string_view section, std::string_view key);
    std::optional<microseconds> timespan(const assignment* at);

    // systemd_programs.cpp and systemd_conditions.cpp: the programs.
    void programs(const std::vector<located_command>& start,
                  const std::vector<condition_check>& conditions);
    std::vector<located_command> commands(std::string_view key);
    std::vector<std::string> environment_lines();
    std::vector<std::string> user_lines() const;
    std::vector<std::string> setup_lines();
    std::optional<std::string> working_directory_line();
    std::optional<std::string> limits_line();
    std::vector<std::string> process_lines();
    std::vector<std::string> scheduling_lines();
    std::optional<std::string> io_scheduling_line();
    std::optional<std::string> cpu_scheduling_line();
    std::optional<std::string> cpu_affinity_line();
    std::optional<unsigned> number(const assignment& a, unsigned low, unsigned high);
    std::optional<std::string> output_line();
    void collect_user();
    void collect_directories();
    std::vector<condition_check> checks(std::string_view kind);
    std::optional<std::string> condition_test(const assignment& at, std::string_view check,
                                              std::string_view arg);
    std::vector<std::string> check_lines(const std::vector<condition_check>& checks,
                                         std::string_view outcome, std::string_view why) const;
    std::optional<shell_word> word(const assignment& at, std::string_view text);
    std::string command_text(const located_command& c, bool last, bool as_user) const;
    std::string script(std::string_view program, const std::vector<std::string>& body) const;

    // Diagnostics, with the file and line of `at`.
    void error(const assignment& at, std::string message);
    void warn(const assignment& at, std::string message);
    void unused(const assignment& at, std::string_view why = {});
    void error_in_file(std::string message);  // about the unit as a whole

    // A directory of RuntimeDirectory= and friends.
    struct directory {
        std::string path;  // "/run/foo"
        std::string mode;  // "0755"
        bool owned;        // by User= and Group= (not ConfigurationDirectory=)
        bool removed;      // at stop (RuntimeDirectory= unless preserved)
    };

    const unit_source& unit_;
    unit_name name_;
    settings set_;
    specifiers spec_;
    const bundle_exists& exists_;
    bundle_spec out_;
    diagnostics problems_;
    std::string user_;        // User= as a sh word, "" when unset
    std::string group_;       // Group= as a sh word, or the user's own group, or ""
    std::string privileges_;  // "setpriv ... --" before commands run as User=, or ""
    std::vector<directory> directories_;
    std::vector<std::string> directory_env_;  // "export RUNTIME_DIRECTORY=..." lines
    std::string listen_;  // "socket-listen ... --" before the main command, or ""
    std::vector<std::string> removed_files_;  // by stop: sockets with RemoveOnStop=yes
    bool env_reader_ = false;  // EnvironmentFile= is used: the bundle gets the reader
};

// The bundle that WantedBy= or RequiredBy= names: as bundle_for_unit(), except that
// sockets.target and timers.target, which heartwood has not, are multi-user: converted sockets
// and timers are services that run from there.
std::expected<bundle_ref, std::string> installed_into(std::string_view unit_name);

// A whole decimal number (at most 9 digits).
bool parse_count(std::string_view text, unsigned& out);

// "1024", "64K", "1G" (powers of 1024, as systemd reads sizes); `sizes`: without a suffix only.
std::optional<std::uint64_t> parse_size(std::string_view text, bool sizes = true);

}  // namespace hw::ctl::systemd
