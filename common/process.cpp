#include "process.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <linux/close_range.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

namespace hw {

namespace {

constexpr std::array stage_names = {"fork", "pipe",   "signals", "setsid", "chdir",
                                    "fds",  "cgroup", "setgid",  "setuid", "exec"};

struct exec_report {
    int stage;
    int error;
};

constexpr std::string_view listen_pid_prefix = "LISTEN_PID=";
constexpr std::size_t listen_pid_digits = 20;

// In the child: completes the placeholder left by c_strings() with getpid(), in place.
void fill_listen_pid(char* const* envp) {
    for (; *envp; ++envp) {
        if (std::strncmp(*envp, listen_pid_prefix.data(), listen_pid_prefix.size()) != 0) continue;
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

// Runs in the forked child: only async-signal-safe calls from here on. Never returns.
[[noreturn]] void child_main(const spawn_request& req, char* const* argv, char* const* envp,
                             int report_fd) {
    auto die = [report_fd](spawn_stage stage) {
        exec_report r{static_cast<int>(stage), errno};
        [[maybe_unused]] auto n = ::write(report_fd, &r, sizeof r);
        _exit(127);
    };
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

std::vector<char*> c_strings(const std::vector<std::string>& v) {
    std::vector<char*> out;
    out.reserve(v.size() + 1);
    for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
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
            env_storage = *req.env;
            for (auto& e : env_storage) {
                if (e == listen_pid_prefix) e.append(listen_pid_digits, ' ');  // room for the pid
            }
            envp = c_strings(env_storage);
        }
    } catch (...) {
        return failure(spawn_stage::fork, ENOMEM);
    }
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return failure(spawn_stage::pipe, errno);
    unique_fd report_read(report[0]), report_write(report[1]);

    pid_t pid = fork();
    if (pid < 0) return failure(spawn_stage::fork, errno);
    if (pid == 0) child_main(req, argv.data(), req.env ? envp.data() : nullptr, report[1]);

    report_write.reset();
    exec_report r{};
    ssize_t n;
    do {
        n = ::read(report_read.get(), &r, sizeof r);
    } while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(sizeof r)) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        return failure(static_cast<spawn_stage>(r.stage), r.error);
    }
    child_process child{pid, {}};
    if (auto fd = pidfd_open(pid)) child.pidfd = std::move(*fd);
    return child;
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
