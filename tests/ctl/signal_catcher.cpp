// signal_catcher FILE: stands in for process 1 in CLI tests. Blocks SIGRTMIN..SIGRTMAX, then
// appends the offset from SIGRTMIN of every one it receives to FILE, one per line (with
// ":VALUE" for one sent with sigqueue()); creates
// FILE.ready once the mask is in place. Exits on SIGTERM.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
    if (argc != 2) return 100;
    sigset_t set;
    sigemptyset(&set);
    for (int s = SIGRTMIN; s <= SIGRTMAX; ++s) sigaddset(&set, s);
    sigaddset(&set, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return 111;
    std::string ready = std::string(argv[1]) + ".ready";
    if (FILE* f = std::fopen(ready.c_str(), "w")) std::fclose(f);
    for (;;) {
        siginfo_t info{};
        int sig = sigwaitinfo(&set, &info);
        if (sig < 0) continue;
        if (sig == SIGTERM) return 0;
        FILE* f = std::fopen(argv[1], "a");
        if (!f) return 111;
        if (info.si_code == SI_QUEUE) {
            std::fprintf(f, "%d:%d\n", sig - SIGRTMIN, info.si_value.sival_int);
        } else {
            std::fprintf(f, "%d\n", sig - SIGRTMIN);
        }
        std::fclose(f);
    }
}
