#include "common/process.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ostream>
#include <string>

namespace {
int wait_for(pid_t pid) {
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    return status;
}
}  // namespace

TEST_CASE("spawn runs the program with the requested stdout and reports its exit") {
    int p[2];
    REQUIRE(pipe2(p, O_CLOEXEC) == 0);
    hw::unique_fd r(p[0]), w(p[1]);
    hw::spawn_request req;
    req.argv = {"sh", "-c", "echo hello; exit 3"};
    req.stdio = {-1, w.get(), -1};
    auto child = hw::spawn(req);
    REQUIRE(child);
    w.reset();
    char buf[16] = {};
    CHECK(::read(r.get(), buf, sizeof buf) == 6);
    CHECK(std::string(buf) == "hello\n");
    CHECK(hw::describe_wait_status(wait_for(child->pid)) == "exited 3");
}

TEST_CASE("a missing program fails at the exec stage with ENOENT and leaves no child") {
    hw::spawn_request req;
    req.argv = {"/nonexistent/program"};
    auto child = hw::spawn(req);
    REQUIRE(!child);
    CHECK(child.error().stage == hw::spawn_stage::exec);
    CHECK(child.error().error == std::errc::no_such_file_or_directory);
    CHECK(waitpid(-1, nullptr, WNOHANG) < 0);  // ECHILD: the failed child was reaped
}

TEST_CASE("a bad working directory fails at the chdir stage") {
    hw::spawn_request req;
    req.argv = {"true"};
    req.cwd = "/nonexistent/dir";
    auto child = hw::spawn(req);
    REQUIRE(!child);
    CHECK(hw::stage_name(child.error().stage) == "chdir");
}

TEST_CASE("nofile_soft sets the child's soft descriptor limit, capped at its hard limit") {
    rlimit own{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &own) == 0);
    REQUIRE(own.rlim_max > 100);
    int p[2];
    REQUIRE(pipe2(p, O_CLOEXEC) == 0);
    hw::unique_fd r(p[0]), w(p[1]);
    hw::spawn_request req;
    req.argv = {"sh", "-c", "echo $(ulimit -Sn) $(ulimit -Hn)"};
    req.stdio = {-1, w.get(), -1};
    req.nofile_soft = 100;
    auto child = hw::spawn(req);
    REQUIRE(child);
    w.reset();
    char buf[64] = {};
    CHECK(::read(r.get(), buf, sizeof buf - 1) > 0);
    std::string hard = own.rlim_max == RLIM_INFINITY ? "unlimited" : std::to_string(own.rlim_max);
    CHECK(std::string(buf) == "100 " + hard + "\n");
    CHECK(hw::describe_wait_status(wait_for(child->pid)) == "exited 0");

    rlimit after{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &after) == 0);
    CHECK(after.rlim_cur == own.rlim_cur);  // the child's change is its own
}

TEST_CASE("extra descriptors land on the requested numbers even when they collide") {
    int p[2];
    REQUIRE(pipe2(p, O_CLOEXEC) == 0);
    hw::unique_fd r(p[0]), w(p[1]);
    hw::spawn_request req;
    req.argv = {"sh", "-c", "echo via-fd4 >&4"};
    req.extra_fds = {{w.get(), 4}};
    auto child = hw::spawn(req);
    REQUIRE(child);
    w.reset();
    char buf[16] = {};
    CHECK(::read(r.get(), buf, sizeof buf) == 8);
    CHECK(std::string(buf) == "via-fd4\n");
    wait_for(child->pid);
}

TEST_CASE("the pidfd of a spawned child becomes readable when it exits") {
    hw::spawn_request req;
    req.argv = {"true"};
    auto child = hw::spawn(req);
    REQUIRE(child);
    REQUIRE(child->pidfd);
    pollfd pfd{child->pidfd.get(), POLLIN, 0};
    CHECK(poll(&pfd, 1, 5000) == 1);
    auto r = hw::reap_one();
    REQUIRE(r);
    CHECK(r->pid == child->pid);
    CHECK(WIFEXITED(r->status));
}

TEST_CASE("a pidfd tells the exit status once the process is reaped, if the kernel records it") {
    hw::spawn_request req;
    req.argv = {"sh", "-c", "exit 7"};
    auto child = hw::spawn(req);
    REQUIRE(child);
    REQUIRE(child->pidfd);
    pollfd pfd{child->pidfd.get(), POLLIN, 0};
    CHECK(poll(&pfd, 1, 5000) == 1);
    CHECK(!hw::pidfd_exit_status(child->pidfd.get()));  // a zombie: not reaped yet
    int status = wait_for(child->pid);
    auto recorded = hw::pidfd_exit_status(child->pidfd.get());
    if (!recorded) {
        MESSAGE("this kernel does not record exit statuses for pidfds (Linux < 6.15)");
        return;
    }
    CHECK(*recorded == status);
    CHECK(WEXITSTATUS(*recorded) == 7);
}

TEST_CASE("a signalled child is described with its signal name") {
    CHECK(hw::describe_wait_status(SIGKILL) == "killed by SIGKILL");
    CHECK(hw::describe_wait_status(0x300) == "exited 3");
}

TEST_CASE("a spawned program starts with exactly the requested signals blocked") {
    int p[2];
    REQUIRE(pipe2(p, O_CLOEXEC) == 0);
    hw::unique_fd r(p[0]), w(p[1]);
    sigset_t parent_mask;
    sigemptyset(&parent_mask);
    sigaddset(&parent_mask, SIGUSR1);  // the parent's own mask must not leak into the child
    sigprocmask(SIG_BLOCK, &parent_mask, nullptr);
    hw::spawn_request req;
    req.argv = {"grep", "SigBlk", "/proc/self/status"};
    req.stdio = {-1, w.get(), -1};
    req.blocked_signals = {SIGHUP};
    auto child = hw::spawn(req);
    sigprocmask(SIG_UNBLOCK, &parent_mask, nullptr);
    REQUIRE(child);
    w.reset();
    char buf[64] = {};
    REQUIRE(::read(r.get(), buf, sizeof buf - 1) > 0);
    CHECK(std::string(buf) == "SigBlk:\t0000000000000001\n");  // SIGHUP is bit 0
    wait_for(child->pid);
}

TEST_CASE("a spawned program gets only the descriptors it is handed, and ours stay open") {
    int p[2];
    REQUIRE(pipe2(p, O_CLOEXEC) == 0);
    hw::unique_fd r(p[0]), w(p[1]);
    hw::unique_fd low(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    hw::unique_fd high(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    hw::move_high(high);
    REQUIRE(high.get() >= hw::high_fd_base);
    hw::spawn_request req;
    req.argv = {"ls", "/proc/self/fd"};  // ls itself reads the directory through fd 3
    req.stdio = {-1, w.get(), -1};
    auto child = hw::spawn(req);
    REQUIRE(child);
    w.reset();
    std::string out;
    char buf[256];
    ssize_t n;
    while ((n = ::read(r.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    CHECK(out == "0\n1\n2\n3\n");
    wait_for(child->pid);
    CHECK(::fcntl(low.get(), F_GETFD) == FD_CLOEXEC);
    CHECK(::fcntl(high.get(), F_GETFD) == FD_CLOEXEC);
}

TEST_CASE("an environment entry LISTEN_PID= gets the child's pid, and the request is unchanged") {
    int p[2];
    REQUIRE(pipe2(p, O_CLOEXEC) == 0);
    hw::unique_fd r(p[0]), w(p[1]);
    hw::spawn_request req;
    req.argv = {"sh", "-c", "echo \"$LISTEN_PID $OTHER\""};
    req.env = std::vector<std::string>{"PATH=/usr/bin:/bin", "LISTEN_PID=", "OTHER=x"};
    req.stdio = {-1, w.get(), -1};
    auto child = hw::spawn(req);
    REQUIRE(child);
    w.reset();
    char buf[64] = {};
    REQUIRE(::read(r.get(), buf, sizeof buf - 1) > 0);
    CHECK(std::string(buf) == std::to_string(child->pid) + " x\n");
    CHECK((*req.env)[1] == "LISTEN_PID=");
    wait_for(child->pid);
}
