// bench-orphans: makes N orphans for the namespace's PID 1 and times how long PID 1 takes to
// reap them (scenario S4 of bench/run).
//
//   bench-orphans N
//
// Run inside the PID namespace (bench/run enters it with nsenter). Children are forked one at a
// time; each forks up to 100 grandchildren, reports their pids and exits; once the child is
// reaped here, its grandchildren have been reparented to PID 1. Every grandchild blocks reading a pipe whose only writer is this
// process. Then the clock starts and the writer is closed: all N grandchildren exit at once
// and become PID 1's zombies. The clock stops when none of their pids exists any more
// (kill(pid, 0) fails with ESRCH: reaped). That check is a sweep over the pids not yet seen
// reaped, every 0.5 ms (the resolution of the result). Bounded: 120 s.
//
// Prints one line: "orphans N create_ms C reap_ms R", exit 0; on failure a message on stderr
// and exit 1. The pids of a fresh namespace are not reused within one run (pid_max is far
// above 2 N), so ESRCH means reaped.
#include <fcntl.h>
#include <fmt/core.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <algorithm>
#include <cstring>
#include <string_view>
#include <vector>

#include "common/unique_fd.hpp"

namespace {

double now_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

struct pipe_pair {
    hw::unique_fd read_end, write_end;
};

bool make_pipe(pipe_pair& p) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    p.read_end.reset(fds[0]);
    p.write_end.reset(fds[1]);
    return true;
}

// The grandchild: wait for the release (EOF on the pipe), then exit. Async-signal-safe only.
[[noreturn]] void orphan_body(int release_fd) {
    char c;
    while (::read(release_fd, &c, 1) < 0 && errno == EINTR) {
    }
    ::_exit(0);
}

constexpr long batch = 100;

// The child: fork `count` grandchildren, report their pids in one write on report_fd (atomic:
// under PIPE_BUF), exit (orphaning them).
[[noreturn]] void child_body(long count, int release_read, int release_write, int report_fd) {
    ::close(release_write);  // in the forked copy only: the grandchildren must not hold it
    pid_t pids[batch];
    for (long i = 0; i < count; ++i) {
        pids[i] = ::fork();
        if (pids[i] == 0) orphan_body(release_read);
        if (pids[i] < 0) ::_exit(1);  // those made so far exit with the writer's end
    }
    auto bytes = static_cast<ssize_t>(sizeof(pid_t) * static_cast<std::size_t>(count));
    ::_exit(::write(report_fd, pids, static_cast<std::size_t>(bytes)) == bytes ? 0 : 2);
}

}  // namespace

int main(int argc, char** argv) {
    long n = 0;
    if (argc != 2) {
        fmt::print(stderr, "usage: bench-orphans N\n");
        return 1;
    }
    std::string_view arg(argv[1]);
    auto [p, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), n);
    if (ec != std::errc() || p != arg.data() + arg.size() || n < 1 || n > 15000) {
        fmt::print(stderr, "bench-orphans: N must be 1..15000\n");
        return 1;
    }
    pipe_pair release, report;
    if (!make_pipe(release) || !make_pipe(report)) {
        fmt::print(stderr, "bench-orphans: unable to create a pipe: {}\n", std::strerror(errno));
        return 1;
    }
    std::vector<pid_t> orphans;
    orphans.reserve(static_cast<std::size_t>(n));
    double t_create = now_ms();
    for (long made = 0; made < n;) {
        long count = std::min(batch, n - made);
        pid_t c = ::fork();
        if (c < 0) {
            fmt::print(stderr, "bench-orphans: unable to fork: {}\n", std::strerror(errno));
            return 1;  // the orphans made so far exit when this process (the writer) is gone
        }
        if (c == 0) child_body(count, release.read_end.get(), release.write_end.get(),
                               report.write_end.get());
        int status = 0;
        while (::waitpid(c, &status, 0) < 0 && errno == EINTR) {
        }
        pid_t pids[batch];
        auto bytes = static_cast<ssize_t>(sizeof(pid_t) * static_cast<std::size_t>(count));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
            ::read(report.read_end.get(), pids, static_cast<std::size_t>(bytes)) != bytes) {
            fmt::print(stderr, "bench-orphans: orphans {}..{} were not made\n", made,
                       made + count - 1);
            return 1;
        }
        orphans.insert(orphans.end(), pids, pids + count);
        made += count;
    }
    double t0 = now_ms();
    release.write_end.reset();  // the release: every orphan reads EOF and exits
    std::vector<pid_t> left = orphans;
    timespec pause{0, 500000};
    while (!left.empty()) {
        std::vector<pid_t> still;
        for (pid_t g : left)
            if (::kill(g, 0) == 0 || errno != ESRCH) still.push_back(g);
        left.swap(still);
        if (left.empty()) break;
        if (now_ms() - t0 > 120000) {
            fmt::print(stderr, "bench-orphans: {} of {} orphans not reaped after 120 s\n",
                       left.size(), n);
            return 1;
        }
        ::nanosleep(&pause, nullptr);
    }
    double t1 = now_ms();
    fmt::print("orphans {} create_ms {:.1f} reap_ms {:.2f}\n", n, t0 - t_create, t1 - t0);
    return 0;
}
