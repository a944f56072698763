// fake-pid1: a stand-in for system-manager in e2e tests, just the parts service-manager
// relies on (CONVENTIONS.md): the listening control socket at /run/service-manager/control
// passed as fd 3, the fd store on fd 4 (STORE/REMOVE in, FD.../END out after each start),
// LISTEN_FDS=2 LISTEN_FDNAMES=control:fdstore LISTEN_PID, service-manager restarted whenever
// it dies, and every orphan reaped.
//
//   fake-pid1 SERVICE-MANAGER [ARGS...] -- COMMAND [ARGS...]
// Runs COMMAND next to service-manager; when COMMAND exits, sends SIGTERM to service-manager,
// waits for it (at most 30 s), and exits with COMMAND's status. Lines on stderr start with
// "fake-pid1: ". The environment variable FAKE_PID1_STATS=PATH makes it append one line per
// service-manager start ("start N") there.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "common/fd_passing.hpp"
#include "common/unique_fd.hpp"

using hw::unique_fd;

namespace {

std::map<std::string, unique_fd> stored;

unique_fd listen_control() {
    ::mkdir("/run/service-manager", 0755);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, "/run/service-manager/control");
    unique_fd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    ::unlink(addr.sun_path);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd.get(), 256) != 0) {
        std::perror("fake-pid1: control socket");
        std::exit(111);
    }
    return fd;
}

void send_fd(int sock, const std::string& text, int fd) {
    if (auto sent = hw::send_message(sock, text, fd); !sent) {
        std::fprintf(stderr, "fake-pid1: sendmsg: %s\n", sent.error().message().c_str());
    }
}

// One store message from service-manager; false when the other end is gone.
bool receive_store(int sock) {
    auto msg = hw::receive_message(sock, 512);
    if (!msg) return false;
    if (!*msg) return true;
    if ((*msg)->eof) return false;
    auto& fds = (*msg)->fds;
    std::string line = (*msg)->text;
    if (line.rfind("STORE ", 0) == 0 && fds.size() == 1) {
        stored[line.substr(6)] = std::move(fds[0]);
    } else if (line.rfind("REMOVE ", 0) == 0) {
        stored.erase(line.substr(7));
    } else {
        std::fprintf(stderr, "fake-pid1: bad store message: %s\n", line.c_str());
    }
    return true;
}

struct manager_process {
    pid_t pid = -1;
    unique_fd store;  // our end of the fd store
};

manager_process start_manager(int control, char** argv) {
    int sp[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0) std::exit(111);
    unique_fd ours(sp[0]), theirs(sp[1]);
    pid_t pid = ::fork();
    if (pid == 0) {
        sigset_t empty;
        sigemptyset(&empty);
        ::sigprocmask(SIG_SETMASK, &empty, nullptr);
        int c = ::fcntl(control, F_DUPFD, 10), s = ::fcntl(theirs.get(), F_DUPFD, 10);
        ::dup2(c, 3);
        ::dup2(s, 4);
        char pidbuf[32];
        std::snprintf(pidbuf, sizeof pidbuf, "%d", ::getpid());
        ::setenv("LISTEN_PID", pidbuf, 1);
        ::setenv("LISTEN_FDS", "2", 1);
        ::setenv("LISTEN_FDNAMES", "control:fdstore", 1);
        ::execv(argv[0], argv);
        std::perror("fake-pid1: exec service-manager");
        _exit(127);
    }
    for (auto& [name, fd] : stored) send_fd(ours.get(), "FD " + name, fd.get());
    send_fd(ours.get(), "END", -1);
    if (const char* stats = std::getenv("FAKE_PID1_STATS")) {
        if (FILE* f = std::fopen(stats, "a")) {
            std::fprintf(f, "start %d\n", pid);
            std::fclose(f);
        }
    }
    return {pid, std::move(ours)};
}

}  // namespace

int main(int argc, char** argv) {
    int split = 1;
    while (split < argc && std::strcmp(argv[split], "--") != 0) ++split;
    if (split == 1 || split + 1 >= argc) {
        std::fputs("usage: fake-pid1 SERVICE-MANAGER [ARGS...] -- COMMAND [ARGS...]\n", stderr);
        return 100;
    }
    argv[split] = nullptr;
    char** sm_argv = argv + 1;
    char** cmd_argv = argv + split + 1;

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    unique_fd sigfd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    unique_fd control = listen_control();

    manager_process sm = start_manager(control.get(), sm_argv);
    pid_t cmd = ::fork();
    if (cmd == 0) {
        sigset_t empty;
        sigemptyset(&empty);
        ::sigprocmask(SIG_SETMASK, &empty, nullptr);
        ::execvp(cmd_argv[0], cmd_argv);
        std::perror("fake-pid1: exec command");
        _exit(127);
    }
    int cmd_status = -1;
    bool stopping = false;
    for (;;) {
        pollfd pfd[2] = {{sigfd.get(), POLLIN, 0}, {sm.store.get(), POLLIN, 0}};
        int r = ::poll(pfd, sm.store ? 2 : 1, stopping ? 30000 : -1);
        if (r == 0) {
            std::fputs("fake-pid1: service-manager did not stop within 30 s\n", stderr);
            return 2;
        }
        if (sm.store && (pfd[1].revents & (POLLIN | POLLHUP))) {
            while (receive_store(sm.store.get()) && (pfd[1].revents & POLLIN)) {
                pollfd more{sm.store.get(), POLLIN, 0};
                if (::poll(&more, 1, 0) <= 0) break;
            }
        }
        signalfd_siginfo si;
        while (::read(sigfd.get(), &si, sizeof si) == sizeof si) {
        }
        int status;
        pid_t pid;
        while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
            if (pid == cmd) {
                cmd_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                stopping = true;
                if (sm.pid > 0) ::kill(sm.pid, SIGTERM);
            } else if (pid == sm.pid) {
                if (stopping) {
                    std::fflush(stdout);
                    return cmd_status;
                }
                std::fprintf(stderr,
                             "fake-pid1: service-manager %d ended (status %#x); restarting it\n",
                             pid, status);
                // Drain what it stored before it died, then start its successor.
                while (receive_store(sm.store.get())) {
                    pollfd more{sm.store.get(), POLLIN, 0};
                    if (::poll(&more, 1, 0) <= 0) break;
                }
                sm = start_manager(control.get(), sm_argv);
            }
        }
        if (stopping && sm.pid < 0) return cmd_status;
    }
}
