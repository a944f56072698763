#include "process.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace hw {

namespace {

constexpr std::array stage_names = {"fork",   "pipe",   "signals", "setsid", "chdir", "fds",
                                    "cgroup", "limits", "setgid",  "setuid", "exec"};

// What the child says when a step fails: stage -1 means none did (it exec'ed).
struct exec_report {
    int stage = -1;
    int error = 0;
};

constexpr std::string_view listen_pid_prefix = "LISTEN_PID=";
constexpr std::size_t listen_pid_digits = 20;

// "LISTEN_PID=" padded with room for the pid: only spawn()'s own copy holds this.
bool is_listen_pid_placeholder(const char* e) {
    if (std::strncmp(e, listen_pid_prefix.data(), listen_pid_prefix.size()) != 0) return false;
    e += listen_pid_prefix.size();
    for (std::size_t i = 0; i < listen_pid_digits; ++i) {
        if (e[i] != ' ') return false;
    }
    return e[listen_pid_digits] == '\0';
}

// In the child: completes the placeholder left by spawn() with getpid(), in place.
void fill_listen_pid(char* const* envp) {
    for (; *envp; ++envp) {
        if (!is_listen_pid_placeholder(*envp)) continue;
        char* out = *envp + listen_pid_prefix.size();
        char digits[listen_pid_digits];
        std::size_t n = 0;
        for (pid_t pid = getpid(); pid > 0 && n < listen_pid_digits; pid /= 10) {
            digits[n++] = static_cast<char>('0' + pid % 10);
        }
        while (n > 0) *out++ = digits[--n];
        *out = '\0';
    }
}

struct child_args {
    const spawn_request* req;
    char* const* argv;
    char* const* envp;
    // Where a failure is reported: shared memory when the child shares ours (clone), else a
    // close-on-exec pipe (fork); the other is null or -1.
    exec_report* report;
    int report_fd;
    int keep_below;  // every descriptor the child uses is below this
};

// Runs in the child, which shares our memory and (until its first step) our descriptor table,
// while we are suspended (CLONE_VM | CLONE_VFORK | CLONE_FILES): only async-signal-safe calls,
// no writes to memory we still use, and it never returns. Its first step gives it a descriptor
// table of its own holding only the descriptors below keep_below: the kernel copies nothing
// above, so the cost of a spawn does not grow with the descriptors the parent holds up there.
[[noreturn]] void child_main(const child_args& a) {
    const spawn_request& req = *a.req;
    char* const* argv = a.argv;
    char* const* envp = a.envp;
    auto die = [&a](spawn_stage stage) {
        exec_report r{static_cast<int>(stage), errno};
        if (a.report) {
            *a.report = r;  // the parent reads it once we are gone
        } else {
            [[maybe_unused]] auto n = ::write(a.report_fd, &r, sizeof r);
        }
        _exit(127);
    };
    if (::syscall(SYS_close_range, static_cast<unsigned>(a.keep_below), ~0U,
                  CLOSE_RANGE_UNSHARE) != 0 &&
        ::unshare(CLONE_FILES) != 0) {  // a kernel before 5.9: copy the whole table
        die(spawn_stage::fds);
    }
    sigset_t mask;
    sigemptyset(&mask);
    for (int sig : req.blocked_signals) sigaddset(&mask, sig);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);  // EINVAL for KILL/STOP
    if (sigprocmask(SIG_SETMASK, &mask, nullptr) != 0) die(spawn_stage::signals);
    if (req.new_session && setsid() < 0) die(spawn_stage::setsid);

    if (!req.cwd.empty() && chdir(req.cwd.c_str()) != 0) die(spawn_stage::chdir);

    // Move every source descriptor above the highest target first, so that no dup2 below
    // overwrites a source that is still needed.
    int highest = 3 + static_cast<int>(req.extra_fds.size()) + 64;
    for (const auto& [from, to] : req.extra_fds) highest = std::max(highest, to + 1);
    int sources[3 + 64];
    std::size_t count = 0;
    for (int fd : req.stdio) {
        int src = fd >= 0 ? fd : ::open("/dev/null", O_RDWR | O_CLOEXEC);
        if (src < 0) die(spawn_stage::fds);
        sources[count++] = fcntl(src, F_DUPFD_CLOEXEC, highest);
        if (sources[count - 1] < 0) die(spawn_stage::fds);
    }
    for (const auto& [from, to] : req.extra_fds) {
        if (count >= std::size(sources)) break;
        sources[count] = fcntl(from, F_DUPFD_CLOEXEC, highest);
        if (sources[count++] < 0) die(spawn_stage::fds);
    }
    for (std::size_t i = 0; i < count; ++i) {
        int target = i < 3 ? static_cast<int>(i) : req.extra_fds[i - 3].second;
        if (dup2(sources[i], target) < 0) die(spawn_stage::fds);  // dup2 clears CLOEXEC
    }
    if (req.controlling_tty) ioctl(0, TIOCSCTTY, 1);  // best effort: a shell works without
    if (envp) fill_listen_pid(envp);
    if (req.cgroup_procs_fd >= 0 && ::write(req.cgroup_procs_fd, "0\n", 2) != 2) {
        die(spawn_stage::cgroup);
    }
    if (req.nofile_soft) {
        rlimit nofile{};
        if (::getrlimit(RLIMIT_NOFILE, &nofile) != 0) die(spawn_stage::limits);
        nofile.rlim_cur = std::min(*req.nofile_soft, nofile.rlim_max);
        if (::setrlimit(RLIMIT_NOFILE, &nofile) != 0) die(spawn_stage::limits);
    }
    if (req.gid && (setgroups(0, nullptr) != 0 || setgid(*req.gid) != 0)) {
        die(spawn_stage::setgid);
    }
    if (req.uid && setuid(*req.uid) != 0) die(spawn_stage::setuid);
    if (envp) {
        execvpe(argv[0], argv, envp);
    } else {
        execvp(argv[0], argv);
    }
    die(spawn_stage::exec);
    _exit(127);  // not reached: die() does not return
}

[[maybe_unused]] int child_entry(void* p) {  // unused in sanitized builds
    child_main(*static_cast<const child_args*>(p));
}

// The child's stack: what child_main and execvpe need (execvpe builds the PATH candidates and
// a script's argv on the stack), as posix_spawn sizes it.
std::size_t child_stack_size(const spawn_request& req) {
    std::size_t size = 64 * 1024 + (req.argv.size() + 2) * sizeof(char*);
    if (const char* path = std::getenv("PATH")) size += std::strlen(path);
    for (const auto& a : req.argv) size += a.size();
    long page = ::sysconf(_SC_PAGESIZE);
    std::size_t p = page > 0 ? static_cast<std::size_t>(page) : 4096;
    return (size + p - 1) / p * p;
}

std::vector<char*> c_strings(const std::vector<std::string>& v) {
    std::vector<char*> out;
    out.reserve(v.size() + 1);
    for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

// Every signal blocked for the life of the scope: no handler of ours may run in the child,
// which shares our memory, before it has reset the dispositions.
class all_signals_blocked {
  public:
    all_signals_blocked() noexcept {
        sigset_t all;
        sigfillset(&all);
        ::pthread_sigmask(SIG_SETMASK, &all, &saved_);
    }
    ~all_signals_blocked() { ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
    all_signals_blocked(const all_signals_blocked&) = delete;
    all_signals_blocked& operator=(const all_signals_blocked&) = delete;

  private:
    sigset_t saved_;
};

// Starts the child running child_main(args) and returns once it has exec'ed or exited: its pid
// (or -1 with the reason in `err`), with the step that failed, if one did, in `report`.
pid_t start_child(child_args& args, std::size_t stack_size, exec_report& report, int& err) {
#if defined(__SANITIZE_ADDRESS__)
    // AddressSanitizer takes a child running on a stack of our making for a stack overflow of
    // its own bookkeeping, so a sanitized build forks (slower, the same behaviour) and the child
    // reports through a close-on-exec pipe: its end closes with nothing written on exec.
    (void)stack_size;
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
        err = errno;
        report = {static_cast<int>(spawn_stage::pipe), errno};
        return -1;
    }
    unique_fd report_read(pipe_fds[0]), report_write(pipe_fds[1]);
    args.report_fd = report_write.get();
    args.keep_below = std::max(args.keep_below, args.report_fd + 1);
    pid_t pid;
    {
        all_signals_blocked blocked;
        pid = ::fork();
        if (pid == 0) child_main(args);
    }
    err = errno;
    report_write.reset();
    if (pid < 0) return pid;
    ssize_t n;
    do {
        n = ::read(report_read.get(), &report, sizeof report);
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(sizeof report)) report = {};
    return pid;
#else
    void* stack = ::mmap(nullptr, stack_size, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
    if (stack == MAP_FAILED) {
        err = errno;
        return -1;
    }
    args.report = &report;
    pid_t pid;
    {
        all_signals_blocked blocked;
        // Like vfork: we resume once the child has exec'ed or exited, so its report (if any)
        // is in `report` by then. Neither our pages nor our descriptor table are copied.
        pid = ::clone(child_entry, static_cast<char*>(stack) + stack_size,
                      CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, &args);
    }
    err = errno;
    ::munmap(stack, stack_size);
    return pid;
#endif
}

}  // namespace

std::string_view stage_name(spawn_stage s) noexcept {
    return stage_names[static_cast<std::size_t>(s)];
}

std::expected<child_process, spawn_failure> spawn(const spawn_request& req) noexcept {
    auto failure = [](spawn_stage stage, int err) {
        return std::unexpected(spawn_failure{stage, {err, std::system_category()}});
    };
    if (req.argv.empty()) return failure(spawn_stage::exec, EINVAL);
    std::vector<char*> argv, envp;
    std::vector<std::string> env_storage;
    try {
        argv = c_strings(req.argv);
        if (req.env) {
            // The child writes only into a placeholder, which lives in a copy of our own; without
            // one, the caller's strings serve as they are.
            bool placeholder = false;
            for (const auto& e : *req.env) placeholder = placeholder || e == listen_pid_prefix;
            if (placeholder) {
                env_storage = *req.env;
                for (auto& e : env_storage) {
                    if (e == listen_pid_prefix) e.append(listen_pid_digits, ' ');  // pid's room
                }
            }
            envp = c_strings(placeholder ? env_storage : *req.env);
        }
    } catch (...) {
        return failure(spawn_stage::fork, ENOMEM);
    }
    child_args args{&req, argv.data(), req.env ? envp.data() : nullptr, nullptr, -1, 0};
    for (int fd : req.stdio) args.keep_below = std::max(args.keep_below, fd);
    for (const auto& [from, to] : req.extra_fds) args.keep_below = std::max(args.keep_below, from);
    args.keep_below = std::max(args.keep_below, req.cgroup_procs_fd) + 1;

    int start_errno = 0;
    exec_report report;
    pid_t pid = start_child(args, child_stack_size(req), report, start_errno);
    if (pid < 0) {
        return failure(
            report.stage >= 0 ? static_cast<spawn_stage>(report.stage) : spawn_stage::fork,
            start_errno);
    }
    if (report.stage >= 0) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        return failure(static_cast<spawn_stage>(report.stage), report.error);
    }
    child_process child{pid, {}};
    if (auto fd = pidfd_open(pid)) child.pidfd = std::move(*fd);
    return child;
}

void move_high(unique_fd& fd) noexcept {
    if (!fd || fd.get() >= high_fd_base) return;
    int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, high_fd_base);
    if (moved >= 0) fd.reset(moved);
}

result<unique_fd> pidfd_open(pid_t pid) noexcept {
    int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0) return fail();
    return unique_fd(fd);
}

result<void> pidfd_signal(int pidfd, int sig) noexcept {
    if (::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) != 0) return fail();
    return {};
}

namespace {
// <linux/pidfd.h>'s struct pidfd_info, first version (Debian 12's headers predate it).
struct pidfd_info_v0 {
    std::uint64_t mask;
    std::uint64_t cgroupid;
    std::uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
    std::int32_t exit_code;
};
static_assert(sizeof(pidfd_info_v0) == 64);
constexpr unsigned long pidfd_get_info = _IOWR(0xFF, 11, pidfd_info_v0);
constexpr std::uint64_t pidfd_info_exit = 1u << 3;
}  // namespace

std::optional<int> pidfd_exit_status(int pidfd) noexcept {
    pidfd_info_v0 info{};
    info.mask = pidfd_info_exit;
    if (::ioctl(pidfd, pidfd_get_info, &info) != 0 || !(info.mask & pidfd_info_exit))
        return std::nullopt;
    return info.exit_code;
}

std::optional<reaped> reap_one(pid_t which) noexcept {
    int status = 0;
    pid_t pid;
    do {
        pid = waitpid(which, &status, WNOHANG);
    } while (pid < 0 && errno == EINTR);
    if (pid <= 0) return std::nullopt;
    return reaped{pid, status};
}

std::string describe_wait_status(int status) {
    if (WIFEXITED(status)) return fmt::format("exited {}", WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        const char* name = sigabbrev_np(WTERMSIG(status));
        return fmt::format("killed by SIG{}{}", name ? name : std::to_string(WTERMSIG(status)),
                           WCOREDUMP(status) ? " (core dumped)" : "");
    }
    return fmt::format("wait status {:#x}", status);
}

}  // namespace hw
