// system_manager: process #1's state machine and its one event loop.
//
// It owns: the io_uring loop; the signalfd; both ends of the system log pipe (so a logger
// restart loses nothing); the service-manager's listening control socket (so connections queue
// while it restarts); the fd store and its socket (descriptors the service-manager parks here);
// and its children: the logger, the service-manager, at most one job per channel
// (`system-control ...`), and an emergency shell when nothing else can run.
//
// Life cycle:
//   running      restart the logger and service-manager whenever they exit (immediately after a
//                good run, with a doubling delay when they die young), run the jobs that
//                signals ask for, reap every orphan.
//   final stop   entered by a forced halt/poweroff/reboot/kexec signal, then in order:
//     drain_jobs          let running jobs end (bounded), then kill them
//     stop_manager        SIGTERM the service-manager (bounded), then SIGKILL
//     terminate_rest      SIGTERM+SIGCONT every other process but the logger; ends early when
//                         none is left (checked on every reap, no polling)
//     kill_rest           log the stragglers by name, SIGKILL them (bounded wait)
//     drain_logger        close our ends of the log pipe; the logger writes out and exits at EOF
//     then: sync, unmount/remount read-only (not in a container), reboot(2) (only as PID 1;
//     otherwise exit 0). A kexec that the kernel refuses (no kernel loaded; always in a PID
//     namespace) is logged with the reason and becomes an ordinary reboot. PID 1 of a container
//     (a nested PID namespace) exits instead when `system-control exit N` asked for status N,
//     or when reboot(2) is refused there (container_exit_status() in requests.hpp).
//   A shutdown job that ends without asking for its final action leads to it all the same.
//   re-execution  (SIGRTMIN+25; SIGTERM outside a container) while running: execve() of our own
//                 executable keeping children and descriptors; the new image adopt()s the
//                 state (reexec_state.hpp). A failed execve() changes nothing.
// Every handler is noexcept. Nothing blocks except spawn()'s wait for a child's exec.
// Last resort: if reboot(2) itself fails, PID 1 logs it and stays in the loop reaping (it
// never exits, which would panic the kernel).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <sys/signalfd.h>
#include <vector>

#include "common/event_loop.hpp"
#include "common/unique_fd.hpp"
#include "daemon/fd_store.hpp"
#include "daemon/requests.hpp"
#include "daemon/system_manager/reexec_state.hpp"
#include "daemon/system_manager/settings.hpp"
#include "daemon/system_manager/setup.hpp"

namespace hw::sysmgr {

using clock = std::chrono::steady_clock;

// The descriptors system_manager takes over from main().
struct owned_descriptors {
    unique_fd signal_fd;         // signalfd for every signal we act on (all blocked)
    unique_fd log_read;          // system log pipe, read end (handed to the logger)
    unique_fd log_write;         // system log pipe, write end, blocking (handed to children)
    unique_fd log_write_own;     // the same pipe, our own non-blocking description
    unique_fd console_messages;  // our fallback sink (non-blocking); may be empty
    unique_fd console_children;  // the console for the logger's stderr and shells; may be empty
    unique_fd control_socket;    // listening, handed to each service-manager as fd 3
};

class system_manager {
public:
    system_manager(settings s, host_facts facts, std::unique_ptr<event_loop> loop,
                   owned_descriptors fds);
    // Takes over the children and jobs of a previous image of PID 1 (the descriptors came to
    // the constructor). Call before run().
    void adopt(const reexec_state& state) noexcept;
    // Starts the logger, the service-manager and the init job (after adopt(): only what is not
    // running), then loops for ever.
    [[noreturn]] void run() noexcept;

private:
    enum class phase {
        running, drain_jobs, stop_manager, terminate_rest, kill_rest, drain_logger, finished
    };

    struct restartable {
        const char* name;
        // Short caps: while the logger is down the log pipe fills and writers block; while the
        // service-manager is down nothing is supervised.
        std::chrono::milliseconds max_backoff;
        pid_t pid = -1;
        clock::time_point started{};
        std::chrono::milliseconds backoff{0};
        op_id restart_timer;
        bool shell_offered = false;  // an emergency shell was offered for this failure streak
    };

    struct job_slot {
        pid_t pid = -1;
        op_id deadline;
    };

    // Children.
    void start_logger() noexcept;
    void start_manager() noexcept;
    void schedule_restart(restartable& child, void (system_manager::*start)()) noexcept;
    bool start_job(channel c, target t) noexcept;  // false: could not run, channel free
    void arm_job_deadline(channel c, target t, pid_t pid) noexcept;
    void dispatch_jobs() noexcept;
    void offer_emergency_shell(const char* why) noexcept;
    void on_child_exit(pid_t pid, int status) noexcept;
    void on_job_exit(channel c, int status) noexcept;
    void finish_shutdown_job(target t) noexcept;

    // Events.
    void watch_signals() noexcept;
    void on_signals() noexcept;
    void on_signal(const signalfd_siginfo& info) noexcept;
    void reap_named(std::span<const pid_t> pids) noexcept;
    void sweep_children() noexcept;
    void watch_store() noexcept;
    void on_store_readable() noexcept;
    void send_handover() noexcept;

    // Re-execution (reexec_state.hpp): only while running, and not in the middle of a handover.
    void request_reexec() noexcept;
    void reexec() noexcept;
    reexec_state snapshot() const;

    // Final stop.
    void begin_final(final_action a) noexcept;
    void enter(phase p) noexcept;
    void check_progress() noexcept;
    void arm_phase_timer(std::chrono::milliseconds d) noexcept;
    void on_phase_timeout() noexcept;
    void signal_others(int sig) noexcept;
    [[noreturn]] void finish() noexcept;

    settings settings_;
    host_facts facts_;
    std::unique_ptr<event_loop> loop_;
    owned_descriptors fds_;
    fd_store store_;
    unique_fd store_peer_;               // our end of the current service-manager's store socket
    std::vector<std::string> handover_;  // names still to send to the new service-manager
    bool handover_end_pending_ = false;

    job_board board_;
    job_slot jobs_[2];
    restartable logger_{"system-logger", std::chrono::seconds(1)};
    restartable manager_{"service-manager", std::chrono::seconds(5)};
    pid_t shell_pid_ = -1;
    int logger_drain_restarts_ = 0;  // bounded retries while draining the log at the end
    bool resumed_ = false;         // adopted from a previous image: no init job
    bool reexec_pending_ = false;  // asked for while the fd store was being handed over

    phase phase_ = phase::running;
    std::optional<final_action> final_;
    std::optional<int> exit_status_;  // asked for by `system-control exit N`
    op_id phase_timer_;
    clock::time_point last_sweep_{};
    op_id sweep_timer_;  // a sweep put off by the rate limit
};

}  // namespace hw::sysmgr
