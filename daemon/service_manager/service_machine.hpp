// service_machine: the life cycle of one service as a pure (state x event) -> (state, effects)
// machine. No I/O, no clock, no processes: the caller passes `now` (CLOCK_MONOTONIC) with every
// event and carries out the effects it gets back (daemon/manager.cpp); tests feed events with a
// fake clock and look at the effects.
//
// The model (units/README.md is the user-facing version):
//   A service runs up to four programs from its bundle, one at a time: `start` (optional setup),
//   `run` (the service itself), `restart` (optional: decides whether run runs again), `stop`
//   (optional cleanup when it goes down for good). Each program runs in the service's process
//   tree (a cgroup, or a process group as fallback); "the tree" below is the current one.
//
//   up:    start ---exit 0---> run ---(ready)---> ...    a failing start fails the service
//   run ends on its own: leftovers in the tree get TERM (+CONT), then KILL after timeout-stop;
//          then the restart decision: `remain` + exit 0 keeps the service up with no process;
//          a `restart` program decides (exit 0: run again); without one, a ready_after_run
//          service is done (exit 0) or failed, any other service restarts by the built-in
//          policy: the first restart at once, then restart_delay doubling up to
//          restart_delay_max; the count resets once run stayed up restart_reset; past
//          restart_limit consecutive restarts the service is failed and left alone.
//   down:  TERM (+HUP with use_hangup) and CONT to the tree, KILL after timeout-stop (never
//          with no_kill_signal: the rest is abandoned), then `stop`, then stopped.
//   A start that is not ready within timeout-start (start program, or readiness of run) fails.
//
// Want flags follow daemontools: `u` want up, `d` want down (signals), `_` want down without
// signalling, `o` up once (no restart), `O` no restart and no start.
// Timers: the machine keeps at most one deadline (deadline()); the caller arms one timer for it
// and sends timer_fired when it passes. Stale timer events are harmless: the machine checks its
// deadline against `now`.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/protocol.hpp"

namespace hw::svc {

using mono_time = std::chrono::nanoseconds;  // since the CLOCK_MONOTONIC epoch
using std::chrono::milliseconds;

enum class program : std::uint8_t { start = 0, run = 1, restart = 2, stop = 3 };
std::string_view program_name(program p) noexcept;

enum class readiness : std::uint8_t {
    on_spawn,         // ready as soon as run is executing (nosh's meaning)
    notification_fd,  // s6: a newline on fd N
    sd_notify,        // READY=1 on NOTIFY_SOCKET
    after_run,        // ready_after_run: run exited 0
};

// What a bundle declares, as far as the machine cares (see bundle_config.hpp for the files).
struct service_config {
    bool has_start = false;
    bool has_run = true;
    bool has_restart = false;
    bool has_stop = false;
    bool remain = false;
    bool use_hangup = false;
    bool no_kill_signal = false;
    readiness ready_by = readiness::on_spawn;
    milliseconds start_timeout{60000};  // 0: none
    milliseconds stop_timeout{10000};   // TERM -> KILL
    milliseconds kill_grace{5000};      // KILL -> give up waiting
    milliseconds watchdog_timeout{0};   // 0: none
    milliseconds restart_delay{100};
    milliseconds restart_delay_max{30000};
    milliseconds restart_reset{10000};
    std::uint32_t restart_limit = 10;  // 0: unlimited
};

// Internal phase; several map to one public service_state (see public_state()).
enum class phase : std::uint8_t {
    stopped,
    failed,
    starting,  // `start` runs
    running,   // `run` runs
    up_idle,   // remain: run ended well, nothing runs, still up
    deciding,  // `restart` runs
    backoff,   // waiting to run again
    killing,   // TERM/KILL sent to the tree, waiting for it to empty; then `intent`
    stopping,  // `stop` runs
};
std::string_view phase_name(phase p) noexcept;

// What happens once a `killing` phase is over.
enum class intent : std::uint8_t { decide, down, fail };
enum class kill_stage : std::uint8_t { none, term_sent, kill_sent };

// A wait status meaning "ended, status unknown" (ended while no manager ran; PID 1 reaped it).
inline constexpr int unknown_status = -1;

struct exit_record {
    bool valid = false;
    int wait_status = 0;
    mono_time when{};
};

// The whole state; plain data, so it can be saved and restored across a manager restart.
struct machine_state {
    phase ph = phase::stopped;
    bool want_up = false;
    bool no_restart = false;  // `o`/`O`: do not restart after the current run
    bool ready = false;
    std::optional<program> current;  // the program whose process runs (if any)
    bool main_gone = true;           // the current program's main process has ended
    intent after_kill = intent::down;
    kill_stage killed = kill_stage::none;
    bool failing = false;  // going down because of a failure (ends in failed)
    bool watchdog_armed = false;
    bool self_stopping = false;  // STOPPING=1 received from the current run
    std::optional<mono_time> deadline;
    mono_time since{};  // last public state change
    mono_time run_started{};
    std::uint32_t restart_count = 0;
    int last_run_status = 0;
    exit_record records[4];  // indexed by program
};

// Events.
enum class letter_event : std::uint8_t { up, down, down_quiet, once, once_at_most };
struct exited {
    program prog;
    int wait_status;  // unknown_status when unknown
    bool tree_empty;  // nothing else is left in the tree (as far as the caller knows)
};
struct tree_empty {};
struct timer_fired {};
struct became_ready {};
struct watchdog_ping {
    bool trigger = false;  // WATCHDOG=trigger: act as if the watchdog expired now
};
struct stopping_notice {};  // STOPPING=1: the service says it is on its way out
struct extend_timeout {
    std::chrono::microseconds by;
};
struct reloading {};
using event = std::variant<letter_event, exited, tree_empty, timer_fired, became_ready,
                           watchdog_ping, extend_timeout, reloading, stopping_notice>;

// Effects, in the order they must be carried out.
struct spawn {
    program prog;
    std::vector<std::string> args;  // after argv[0] (only `restart` has any)
};
enum class signal_target : std::uint8_t { main, tree };
struct send_signal {
    signal_target target;
    int sig;
};
struct watch_tree {};  // deliver tree_empty once the current tree is empty (at once if so)
struct publish {
    proto::service_state state;
};
struct note {  // something worth a log line, already phrased
    bool warning;
    std::string text;
};
using effect = std::variant<spawn, send_signal, watch_tree, publish, note>;

class service_machine {
  public:
    explicit service_machine(service_config cfg, machine_state st = {})
        : cfg_(cfg), st_(st), published_(public_state()) {}

    std::vector<effect> handle(const event& ev, mono_time now);

    const machine_state& state() const noexcept { return st_; }
    const service_config& config() const noexcept { return cfg_; }
    void set_config(const service_config& cfg) noexcept { cfg_ = cfg; }
    std::optional<mono_time> deadline() const noexcept { return st_.deadline; }
    proto::service_state public_state() const noexcept;

    // The `restart` program's arguments for a wait status (nosh's convention):
    // {"exit", "N"} or {"term"|"kill"|"abort"|"crash", "NAME-or-N", "N", ["core"]}.
    static std::vector<std::string> restart_args(int wait_status);

  private:
    void on_letter(letter_event l);
    void on_exited(const exited& e);
    void on_tree_empty();
    void on_timer();
    void on_ready();

    void begin_start();
    void begin_run();
    void decide();
    void restart_by_policy();
    void kill_tree(intent then);
    void escalate();
    void finish_kill();
    void go_down(bool failed);
    void finish_down();
    void terminate_current();
    void abandon();
    void arm_watchdog();
    void watchdog_expired();
    void enter(phase p);
    void emit_public();
    void say(bool warning, std::string text);
    template <class T, class... A>
    void emit(A&&... args) {
        out_.emplace_back(T{std::forward<A>(args)...});  // braces: clang 14 lacks P0960
    }

    service_config cfg_;
    machine_state st_;
    // Per handle() call:
    mono_time now_{};
    std::vector<effect> out_;
    proto::service_state published_ = proto::service_state::stopped;
};

}  // namespace hw::svc
