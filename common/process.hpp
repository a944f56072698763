// process: starting programs and handling processes by pidfd.
//
// spawn() starts one program (a vfork-like clone, then exec) with a precise descriptor layout
// and reports which step failed in the child (chdir, setsid, dup2, limits, setgid, setuid,
// cgroup, exec): the child, which shares our memory until it execs, leaves the failed step there
// before it exits (sanitized builds fork, and the child writes it to a close-on-exec pipe).
// The parent waits only for that exec, never for the program. The child starts with an empty
// signal mask and default dispositions whatever the parent had (a PID 1 blocks and ignores
// most signals).
// An environment entry that is exactly "LISTEN_PID=" gets the child's own pid appended, for the
// socket-passing convention (the parent cannot know the pid before forking).
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "error.hpp"
#include "unique_fd.hpp"

namespace hw {

enum class spawn_stage { fork, pipe, signals, setsid, chdir, fds, cgroup, limits, setgid, setuid, exec };
std::string_view stage_name(spawn_stage s) noexcept;

struct spawn_request {
    std::vector<std::string> argv;      // argv[0] is searched in PATH unless it contains '/'
    std::optional<std::vector<std::string>> env;  // unset: inherit the parent's environment
    std::string cwd;                    // empty: leave as is
    // Descriptors for the child's 0, 1, 2 (borrowed); -1 opens /dev/null there.
    std::array<int, 3> stdio{-1, -1, -1};
    // Further (parent fd, child fd) pairs, child fds >= 3. Everything else is closed on exec.
    std::vector<std::pair<int, int>> extra_fds;
    bool new_session = true;
    bool controlling_tty = false;       // with new_session: make stdin the controlling terminal
    // Signals the program starts with blocked (the rest of the mask is cleared). A program that
    // installs a handler and then unblocks loses no signal sent while it was starting.
    std::vector<int> blocked_signals;
    int cgroup_procs_fd = -1;           // if set, the child writes itself into this cgroup.procs
    // If set, the child's soft RLIMIT_NOFILE (at most its hard limit, which stays as it is).
    std::optional<rlim_t> nofile_soft;
    std::optional<uid_t> uid;
    std::optional<gid_t> gid;
};

struct spawn_failure {
    spawn_stage stage;
    std::error_code error;
};

struct child_process {
    pid_t pid = -1;
    unique_fd pidfd;  // may be empty on kernels without pidfd_open (then poll via SIGCHLD)
};

// Starts the program. On failure nothing is left running: a child that failed is reaped.
// The child is made like vfork's (our memory is not copied; we wait until it has exec'ed) and
// gets a copy of our descriptors numbered below the highest one it is given, none above.
std::expected<child_process, spawn_failure> spawn(const spawn_request& req) noexcept;

// A process that holds many descriptors for long (one set per service) keeps them at
// high_fd_base or above, so that its spawns stay cheap: the pipes and descriptors a spawn
// hands on are then low-numbered, and nothing above them is copied into the child.
// Best effort: the descriptor stays where it is when it cannot move (RLIMIT_NOFILE).
inline constexpr int high_fd_base = 1024;
void move_high(unique_fd& fd) noexcept;

// Thin, error-returning wrappers over the pidfd system calls.
result<unique_fd> pidfd_open(pid_t pid) noexcept;
result<void> pidfd_signal(int pidfd, int sig) noexcept;
// The wait status of the process behind `pidfd` once it has been reaped, by whichever process
// reaped it: the kernel (Linux 6.15+, PIDFD_GET_INFO with PIDFD_INFO_EXIT) records it at reaping
// for every process a pidfd still refers to. nullopt while it is alive or a zombie, or on older
// kernels.
std::optional<int> pidfd_exit_status(int pidfd) noexcept;

// Reaps one exited child without blocking: nullopt when none is waiting. With pid > 0 only that
// child (the kernel looks it up directly); with -1 any child (the kernel scans every child, so
// with thousands of children a sweep costs milliseconds).
struct reaped {
    pid_t pid;
    int status;  // as from waitpid()
};
std::optional<reaped> reap_one(pid_t pid = -1) noexcept;

// "exited 3", "killed by SIGKILL", "killed by SIGSEGV (core dumped)".
std::string describe_wait_status(int status);

}  // namespace hw
