// service-manager: the one process that supervises every service (see daemon/manager.hpp).
//
// Phase 1 (may fail, exit 111): descriptors (control socket and fd store from PID 1, or our own
// socket), signals, subreaper, the loop, the manager with recovery. Phase 2: the loop, which
// never exits except after SIGTERM/SIGINT once every service is down (exit 0).
//
// Usage: service-manager [--socket PATH] [--run-dir DIR] [--no-cgroup] [--verbose]
// HEARTWOOD_NO_CGROUPS=1 in the environment is --no-cgroup (for runs under a PID 1 that passes
// no arguments, e.g. tests in a user namespace that must not touch the host's cgroup tree).
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "common/log.hpp"
#include "daemon/programs.hpp"
#include "control_server.hpp"
#include "fd_store_client.hpp"
#include "guard.hpp"
#include "manager.hpp"

using namespace hw;
using namespace hw::svc;

namespace {

struct options {
    std::string socket_path{proto::default_socket};
    manager_options manager;
};

[[noreturn]] void usage() {
    std::fputs("usage: service-manager [--socket PATH] [--run-dir DIR] [--no-cgroup] [--verbose]\n",
               stderr);
    std::exit(100);
}

options parse_args(int argc, char** argv) {
    options o;
    if (const char* v = std::getenv("HEARTWOOD_NO_CGROUPS"); v && std::string_view(v) == "1") {
        o.manager.try_cgroups = false;
    }
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--socket" && i + 1 < argc) {
            o.socket_path = argv[++i];
        } else if (a == "--run-dir" && i + 1 < argc) {
            o.manager.run_dir = argv[++i];
        } else if (a == "--no-cgroup") {
            o.manager.try_cgroups = false;
        } else if (a == "--verbose") {
            log::set_threshold(log::severity::debug);
        } else {
            usage();
        }
    }
    return o;
}

// Our log sink: a new, non-blocking description of fd 2, so a full log pipe never stalls us
// while services keep blocking writes on theirs. What does not fit goes to the kernel log.
void setup_logging() {
    log::set_program("service-manager");
    int fd = ::open("/proc/self/fd/2", O_WRONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd >= 0) log::set_primary(fd);
    int kmsg = ::open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NONBLOCK);
    if (kmsg >= 0) log::set_fallback(kmsg, true);
}

// Descriptors passed by PID 1 per CONVENTIONS.md: LISTEN_FDS=2, LISTEN_FDNAMES=control:fdstore.
bool take_passed_fds(unique_fd& control, unique_fd& store) {
    const char* pid = std::getenv("LISTEN_PID");
    const char* count = std::getenv("LISTEN_FDS");
    if (!pid || !count || std::atol(pid) != ::getpid() || std::atoi(count) < 1) return false;
    std::string names = std::getenv("LISTEN_FDNAMES") ? std::getenv("LISTEN_FDNAMES") : "control";
    int n = std::atoi(count);
    int fd = 3;
    std::size_t pos = 0;
    for (int i = 0; i < n; ++i, ++fd) {
        auto colon = names.find(':', pos);
        std::string name = names.substr(pos, colon == std::string::npos ? colon : colon - pos);
        pos = colon == std::string::npos ? names.size() : colon + 1;
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        if (name == "control" || (i == 0 && name.empty())) {
            control.reset(fd);
        } else if (name == "fdstore") {
            store.reset(fd);
        } else {
            unique_fd unknown(fd);  // not ours: closed here
        }
    }
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_FDNAMES");
    return static_cast<bool>(control);
}

result<unique_fd> own_socket(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return fail(std::errc::filename_too_long);
    std::memcpy(addr.sun_path, path.data(), path.size());
    for (std::size_t i = 1; i < path.size(); ++i) {
        if (path[i] == '/') ::mkdir(path.substr(0, i).c_str(), 0755);
    }
    unique_fd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return fail();
    ::unlink(path.c_str());
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return fail();
    ::chmod(path.c_str(), 0600);  // SO_PEERCRED is the real check; this is the first fence
    if (::listen(fd.get(), 128) != 0) return fail();
    return fd;
}

void raise_fd_limit() {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, 65536);
        ::setrlimit(RLIMIT_NOFILE, &lim);
    }
}

// SIGCHLD reaps, SIGTERM/SIGINT stop everything and exit, SIGHUP is ignored.
void on_signals(int sigfd, manager& m, event_loop& loop) {
    signalfd_siginfo si[16];
    bool child = false;
    ssize_t n;
    while ((n = ::read(sigfd, si, sizeof si)) > 0) {
        for (ssize_t i = 0; i < n / static_cast<ssize_t>(sizeof si[0]); ++i) {
            switch (si[i].ssi_signo) {
                case SIGCHLD:
                    child = true;
                    break;
                case SIGTERM:
                case SIGINT:
                    m.begin_shutdown();
                    break;
                default:
                    log::info("ignoring signal {}", si[i].ssi_signo);
                    break;
            }
        }
    }
    if (child) guarded("reap children", [&] { m.reap_children(); });
    auto id =
        loop.poll_readable(sigfd, [sigfd, &m, &loop](int) noexcept { on_signals(sigfd, m, loop); });
    if (!id) log::critical("unable to watch signals: {}", id.error().message());
}

}  // namespace

int hw::service_manager_main(int argc, char** argv) {
    setup_logging();
    options opts = parse_args(argc, argv);

    unique_fd control, store_fd;
    bool from_pid1 = take_passed_fds(control, store_fd);
    if (!from_pid1) {
        auto s = own_socket(opts.socket_path);
        if (!s) {
            log::critical("unable to listen on {}: {}", opts.socket_path, s.error().message());
            return 111;
        }
        control = std::move(*s);
    }
    if (unique_fd null(::open("/dev/null", O_RDONLY)); null.get() == 0) {
        null.release();  // fd 0 was closed: this is our stdin now
    } else if (null) {
        ::dup2(null.get(), 0);
    }
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    raise_fd_limit();
    ::signal(SIGPIPE, SIG_IGN);
    sigset_t mask;
    sigemptyset(&mask);
    for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask, sig);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    unique_fd sigfd(::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
    if (!sigfd) {
        log::critical("unable to create a signalfd: {}", errno_code().message());
        return 111;
    }

    auto loop = event_loop::create(16384);
    if (!loop) {
        log::critical("unable to create the event loop: {}", loop.error().message());
        return 111;
    }
    fd_store store(std::move(store_fd));
    std::map<std::string, unique_fd> stored;
    if (store.present()) {
        auto got = store.receive_all(std::chrono::seconds(5));
        if (got) {
            stored = std::move(*got);
        } else {
            log::error("unable to receive the stored descriptors: {}", got.error().message());
        }
    }
    manager mgr(**loop, opts.manager, store);
    control_server server(**loop, mgr, std::move(control));
    mgr.on_publish = [&server](const proto::service_status& s) { server.broadcast(s); };
    if (auto r = mgr.start(std::move(stored)); !r) return 111;
    if (auto r = server.start(); !r) {
        log::critical("unable to serve the control socket: {}", r.error().message());
        return 111;
    }
    on_signals(sigfd.get(), mgr, **loop);
    log::info("supervising; control socket {}", from_pid1 ? "from PID 1" : opts.socket_path);

    while (!mgr.done()) {
        if (!(*loop)->run_once()) return 111;
        guarded("write the state files", [&] { mgr.flush(); });
    }
    mgr.flush();
    log::info("every service is down; exiting");
    return 0;
}
