// timer-wait: runs a program each time a deadline comes (timer.hpp has the options); what
// converted timer units run. It sleeps in poll(2) on two timerfds, one on CLOCK_BOOTTIME (the
// deadlines relative to boot or to a run, which count time suspended, as systemd's do) and one
// on CLOCK_REALTIME for calendar events, cancelled when the clock is set so that the next event
// is computed again. No other wake-ups. Exit status: 100 for a wrong command line, 111 when a
// system call it needs fails; otherwise it does not exit by itself.
#include <fcntl.h>
#include <fmt/core.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <random>

#include "common/unique_fd.hpp"
#include "timer.hpp"

namespace {

using namespace hw::ctl::timer;
using hw::unique_fd;

constexpr int exit_usage = 100, exit_failure = 111;

ms now(clockid_t clock) {
    timespec ts{};
    ::clock_gettime(clock, &ts);
    return ms(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

ms random_delay(ms most) {
    if (most <= 0) return 0;
    static std::mt19937_64 generator{std::random_device{}()};
    return std::uniform_int_distribution<ms>(0, most - 1)(generator);
}

// The persistent stamp's mtime in milliseconds, or nullopt when there is none yet.
std::optional<ms> stamp_time(const std::string& path) {
    struct stat st;
    if (path.empty() || ::stat(path.c_str(), &st) != 0) return std::nullopt;
    return ms(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

void touch_stamp(const std::string& path) {
    if (path.empty()) return;
    unique_fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    if (!fd || ::futimens(fd.get(), nullptr) != 0)
        fmt::print(stderr, "timer-wait: warning: unable to update {}: {}\n", path,
                   std::strerror(errno));
}

// Runs the program and waits for it; reports a failure on stderr (the service's log).
void run_program(const std::vector<std::string>& program) {
    std::vector<char*> argv;
    for (const auto& a : program) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::execvp(argv[0], argv.data());
        fmt::print(stderr, "timer-wait: error: unable to run {}: {}\n", argv[0],
                   std::strerror(errno));
        ::_exit(127);
    }
    if (pid < 0) {
        fmt::print(stderr, "timer-wait: error: fork: {}\n", std::strerror(errno));
        return;
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        fmt::print(stderr, "timer-wait: {} exited {}\n", program[0], WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        fmt::print(stderr, "timer-wait: {} was killed by signal {}\n", program[0],
                   WTERMSIG(status));
}

// Arms `fd` for the absolute time `at` (milliseconds of its clock), or disarms it.
bool arm(int fd, std::optional<ms> at, int flags) {
    itimerspec spec{};
    if (at) {
        ms t = std::max<ms>(*at, 1);
        spec.it_value = {static_cast<time_t>(t / 1000), static_cast<long>(t % 1000) * 1'000'000};
    }
    return ::timerfd_settime(fd, at ? flags : 0, &spec, nullptr) == 0;
}

int run(const timer_request& r) {
    unique_fd boot_timer(::timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC | TFD_NONBLOCK));
    unique_fd real_timer(::timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK));
    if (!boot_timer || !real_timer) {
        fmt::print(stderr, "timer-wait: error: timerfd_create: {}\n", std::strerror(errno));
        return exit_failure;
    }
    timer_state s;
    s.started_boot = now(CLOCK_BOOTTIME);
    s.calendar_after_real = stamp_time(r.persistent).value_or(now(CLOCK_REALTIME));
    s.delay = random_delay(r.randomized_delay);
    for (;;) {
        deadlines d = next_deadlines(r, s);
        bool due = (d.boot && *d.boot <= now(CLOCK_BOOTTIME)) ||
                   (d.real && *d.real <= now(CLOCK_REALTIME));
        if (due) {
            ms start_boot = now(CLOCK_BOOTTIME), start_real = now(CLOCK_REALTIME);
            if (d.real && *d.real <= start_real) touch_stamp(r.persistent);
            run_program(r.program);
            ran(s, start_boot, now(CLOCK_BOOTTIME), start_real, random_delay(r.randomized_delay));
            continue;
        }
        if (!arm(boot_timer.get(), d.boot, TFD_TIMER_ABSTIME) ||
            !arm(real_timer.get(), d.real, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) {
            fmt::print(stderr, "timer-wait: error: timerfd_settime: {}\n", std::strerror(errno));
            return exit_failure;
        }
        pollfd fds[2] = {{boot_timer.get(), POLLIN, 0}, {real_timer.get(), POLLIN, 0}};
        // With no deadline left (one-shots done) this sleeps until the service is stopped.
        if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
            fmt::print(stderr, "timer-wait: error: poll: {}\n", std::strerror(errno));
            return exit_failure;
        }
        std::uint64_t expirations;  // drained; ECANCELED (the clock was set) just recomputes
        for (const auto& p : fds)
            if (p.revents) (void)!::read(p.fd, &expirations, sizeof expirations);
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    auto r = parse_arguments(args);
    if (!r) {
        fmt::print(stderr, "timer-wait: error: {}\n", r.error());
        return exit_usage;
    }
    if (r->help) {
        fmt::print("{}", usage());
        return 0;
    }
    return run(*r);
}
