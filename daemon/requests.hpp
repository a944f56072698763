// requests: what a signal to PID 1 asks for, and which system-control job runs next.
//
// Pure logic, no I/O. `classify_signal` is the signal table of the system-manager (Linux
// numbers, glibc's SIGRTMIN). `job_board` holds the pending target requests and decides what the
// two job channels run next:
//   - the regular channel runs one job at a time, highest priority first:
//       init > sysinit > normal > rescue > halt > poweroff > reboot > kexec
//     so sysinit always completes before normal or rescue starts;
//   - the emergency channel runs `start emergency` on its own, so it works while a regular job
//     is stuck.
// A shutdown request (halt/poweroff/reboot/kexec) drops pending boot requests and asks for the
// running boot job (init/sysinit/normal/rescue) to be cut short: nobody wants poweroff to wait
// for a boot job that is stuck on a hanging fsck.
#pragma once

#include <array>
#include <optional>
#include <string_view>
#include <vector>

namespace hw::sysmgr {

enum class target : unsigned char {
    init, sysinit, normal, rescue, halt, poweroff, reboot, kexec, emergency
};
inline constexpr std::size_t target_count = 9;
std::string_view target_name(target t) noexcept;
bool is_shutdown_target(target t) noexcept;

// kexec: reboot(2) into the kernel loaded with `kexec -l`; the system-manager falls back to an
// ordinary reboot when the kernel refuses (none loaded, or in a PID namespace).
enum class final_action : unsigned char { halt, poweroff, reboot, kexec };
std::string_view final_action_name(final_action a) noexcept;

struct signal_meaning {
    enum class kind : unsigned char { ignore, reap, start_target, final, reexec } what =
        kind::ignore;
    target start{};
    final_action final{};
};

// `in_container`: SIGTERM means "poweroff" only there (it is what `docker stop` sends); on a
// real machine it means "re-execute" (as for systemd), never a shutdown. SIGRTMIN+25 means
// "re-execute" everywhere (systemd's number too).
signal_meaning classify_signal(int signo, bool in_container) noexcept;

// The final action a shutdown target ends in (halt -> halt, ...); nullopt for the others.
std::optional<final_action> final_action_of(target t) noexcept;

// The exit status a request carries for a container: `system-control exit N` sends the
// poweroff signal (SIGRTMIN+4, or +14 when forced) with sigqueue() and N as its value, which a
// kill() cannot do. nullopt for anything else: another signal, a kill(), a value not in 0-255.
std::optional<int> requested_exit_status(int signo, int si_code, int value) noexcept;

// How PID 1 of a container (a nested PID namespace) ends it by exiting, when reboot(2) is
// refused (the runtime withholds CAP_SYS_BOOT, as Docker and Podman do) or an exit status was
// requested: with `requested` if any, else 0 for halt and poweroff (a clean stop, as
// `docker stop` expects) and 129 for reboot and kexec (128 + SIGHUP: the status a runtime
// reports for a namespace that reboot(2) ended, so restart policies treat both alike).
int container_exit_status(final_action a, std::optional<int> requested) noexcept;

enum class channel : unsigned char { regular, emergency };

class job_board {
public:
    // Records a request. Returns true when a running boot job should be cut short because a
    // shutdown was requested.
    bool request(target t) noexcept;
    // The next job to run on `c`, if that channel is idle and something is pending; the channel
    // is then busy until finished(c).
    std::optional<target> take_next(channel c) noexcept;
    void finished(channel c) noexcept;
    std::optional<target> running(channel c) const noexcept;
    bool is_pending(target t) const noexcept;
    bool idle() const noexcept;

    // For a re-executed PID 1: the requests not started yet, and taking over a running job.
    std::vector<target> pending() const;
    void resume_running(channel c, target t) noexcept;

private:
    std::array<bool, target_count> pending_{};
    std::array<std::optional<target>, 2> running_{};
};

}  // namespace hw::sysmgr
