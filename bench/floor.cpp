// bench-floor: the floor of the service scenarios (bench/run's "floor" column), not an init.
//
//   bench-floor DIR
//
// As PID 1 of the benchmark's namespace (it refuses to run as anything else) it runs
// DIR/NAME/run (in DIR/NAME) for every NAME in DIR and runs it again the moment it ends: no
// state, no logging, no readiness, no backoff, no configuration beyond the directory. Waiting
// for signals, reaping and posix_spawn are all it does, so what a supervisor takes above this
// column it spends on its own work, and a goal below this column is below what the machine can
// do with these services.
//
// SIGTERM or SIGINT: SIGTERM to every other process of the namespace, wait until no child is
// left (SIGKILL to the rest once 5 s pass with none ending), exit 0. It reaps every child,
// orphans included.
#include <dirent.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

extern char** environ;

namespace {

struct service {
    std::string dir;
    std::string run;
};

std::vector<service> read_services(const std::string& root) {
    std::vector<service> out;
    DIR* d = ::opendir(root.c_str());
    if (!d) return out;
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        std::string dir = root + "/" + e->d_name;
        out.push_back({dir, dir + "/run"});
    }
    ::closedir(d);
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.dir < b.dir; });
    return out;
}

// The child starts with every signal unblocked and at its default action.
pid_t start(const service& s) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_addchdir_np(&actions, s.dir.c_str());
    ::posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    ::posix_spawnattr_setsigmask(&attr, &none);
    ::posix_spawnattr_setsigdefault(&attr, &all);
    ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char* argv[] = {const_cast<char*>("./run"), nullptr};
    pid_t pid = -1;
    int err = ::posix_spawn(&pid, s.run.c_str(), &actions, &attr, argv, environ);
    ::posix_spawnattr_destroy(&attr);
    ::posix_spawn_file_actions_destroy(&actions);
    if (err != 0) {
        std::fprintf(stderr, "bench-floor: unable to start %s: %s\n", s.run.c_str(),
                     std::strerror(err));
        return -1;
    }
    return pid;
}

// Waits until no child is left; once 5 s pass with none ending, SIGKILL, and the same once more.
void stop_everything(const sigset_t& signals) {
    ::kill(-1, SIGTERM);
    timespec limit{5, 0};
    for (int round = 0; round < 2; ++round) {
        for (;;) {
            pid_t pid;
            while ((pid = ::waitpid(-1, nullptr, WNOHANG)) > 0) {
            }
            if (pid < 0 && errno == ECHILD) return;
            if (::sigtimedwait(&signals, nullptr, &limit) < 0 && errno == EAGAIN) break;
        }
        ::kill(-1, SIGKILL);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: bench-floor DIR\n");
        return 2;
    }
    // Its stop signals every process it can (kill -1): only right as PID 1 of a namespace.
    if (::getpid() != 1) {
        std::fprintf(stderr,
                     "bench-floor: refusing to run: not PID 1 (it runs in bench/run's "
                     "namespaces)\n");
        return 2;
    }
    sigset_t signals;
    sigemptyset(&signals);
    for (int sig : {SIGCHLD, SIGTERM, SIGINT}) sigaddset(&signals, sig);
    ::sigprocmask(SIG_BLOCK, &signals, nullptr);

    auto services = read_services(argv[1]);
    std::unordered_map<pid_t, const service*> running;
    for (const auto& s : services) {
        if (pid_t pid = start(s); pid > 0) running[pid] = &s;
    }
    for (;;) {
        int sig = ::sigwaitinfo(&signals, nullptr);
        if (sig == SIGTERM || sig == SIGINT) break;
        int status;
        pid_t pid;
        while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
            auto it = running.find(pid);
            if (it == running.end()) continue;  // an orphan
            const service* s = it->second;
            running.erase(it);
            if (pid_t again = start(*s); again > 0) running[again] = s;
        }
    }
    stop_everything(signals);
    return 0;
}
