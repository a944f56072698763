// system-manager: process #1.
//
// Phase 1 (this file) sets up the process, the API filesystems, the log pipe and the control
// socket; any step may fail and is logged. Phase 2 is system_manager::run(), which never
// returns. If phase 1 cannot even create the event loop, last_resort() offers a shell on the
// console and otherwise waits for ever reaping children: process #1 must never exit.
#include <fcntl.h>
#include <signal.h>
#include <fmt/format.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "common/log.hpp"
#include "common/text_file.hpp"
#include "daemon/programs.hpp"
#include "daemon/system_manager/processes.hpp"
#include "daemon/system_manager/system_manager.hpp"

namespace {

using namespace hw;
using namespace hw::sysmgr;

sigset_t handled_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPWR, SIGUSR1, SIGUSR2,
                    SIGWINCH, SIGALRM, SIGIO}) {
        sigaddset(&set, sig);
    }
    for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) sigaddset(&set, sig);
    return set;
}

[[noreturn]] void last_resort(const char* why) {
    log::critical("{}; offering a shell on the console", why);
    if (fork() == 0) {
        int console = ::open("/dev/console", O_RDWR);
        if (console >= 0) {
            setsid();
            for (int fd = 0; fd < 3; ++fd) dup2(console, fd);
            ioctl(0, TIOCSCTTY, 1);
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        execlp("sulogin", "sulogin", nullptr);
        execl("/bin/sh", "sh", nullptr);
        _exit(127);
    }
    for (;;) {
        if (::wait(nullptr) < 0) ::pause();
    }
}

// The system log pipe: a blocking description for children and a non-blocking one for us.
bool make_log_pipe(owned_descriptors& fds) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        log::error("unable to create the log pipe: {}", strerror(errno));
        return false;
    }
    fds.log_read.reset(p[0]);
    fds.log_write.reset(p[1]);
    ::fcntl(p[1], F_SETPIPE_SZ, 1024 * 1024);  // best effort: room for bursts while the logger restarts
    std::string self = "/proc/self/fd/" + std::to_string(p[1]);
    fds.log_write_own.reset(::open(self.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fds.log_write_own) {
        log::warn("unable to reopen the log pipe non-blocking ({}); sharing one description",
                  strerror(errno));
        fds.log_write_own.reset(::fcntl(p[1], F_DUPFD_CLOEXEC, 3));
        ::fcntl(fds.log_write_own.get(), F_SETFL, O_NONBLOCK);
    }
    return true;
}

// The state a previous image of PID 1 left in HEARTWOOD_REEXEC_STATE (reexec_state.hpp), if
// any. `problem` says why a record that was there cannot be used.
std::optional<reexec_state> take_reexec_state(std::string& problem) {
    const char* v = std::getenv("HEARTWOOD_REEXEC_STATE");
    if (!v) return std::nullopt;
    int number = -1;
    bool valid = parse_number(std::string_view(v), number) && number > 2;
    ::unsetenv("HEARTWOOD_REEXEC_STATE");
    if (!valid) {
        problem = "HEARTWOOD_REEXEC_STATE names no descriptor";
        return std::nullopt;
    }
    unique_fd fd(number);
    // Read straight into the string, doubling it: a stack buffer here, inlined into
    // system_manager_main, would deepen PID 1's stack for good (its touched pages stay resident).
    constexpr std::size_t limit = 8 * 1024 * 1024;
    std::string text;
    std::size_t used = 0;
    while (used < limit) {
        text.resize(std::min(std::max<std::size_t>(used * 2, 4096), limit));
        ssize_t n = ::pread(fd.get(), text.data() + used, text.size() - used,
                            static_cast<off_t>(used));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            problem = fmt::format("unable to read the state: {}", strerror(errno));
            return std::nullopt;
        }
        if (n == 0) break;
        used += static_cast<std::size_t>(n);
    }
    text.resize(used);
    auto state = decode(text, problem);
    if (state) {
        for (int kept : state->descriptors()) ::fcntl(kept, F_SETFD, FD_CLOEXEC);
    }
    return state;
}

// A previous image whose state cannot be read left a logger and a service-manager we know
// nothing about: end them, so that only the ones we start run (the new service-manager
// re-adopts the services, as after a kill -9 of the old one).
void end_unknown_daemons() {
    for (const auto& p : other_processes({})) {
        if (p.name == "service-manager" || p.name == "system-logger") {
            log::warn("ending the previous image's {} (pid {})", p.name, p.pid);
            ::kill(p.pid, SIGKILL);
        }
    }
}

owned_descriptors adopt_descriptors(const reexec_state& s) {
    owned_descriptors fds;
    auto own = [](int fd) { return unique_fd(fd); };
    fds.log_read = own(s.log_read);
    fds.log_write = own(s.log_write);
    fds.log_write_own = own(s.log_write_own);
    fds.console_messages = own(s.console_messages);
    fds.console_children = own(s.console_children);
    fds.control_socket = own(s.control_socket);
    return fds;
}

unique_fd make_control_socket(const std::string& path) {
    unique_fd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!fd) {
        log::error("unable to create the control socket: {}", strerror(errno));
        return fd;
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    ::unlink(path.c_str());
    mode_t old = ::umask(077);
    int bound = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::umask(old);
    if (bound != 0 || ::listen(fd.get(), 128) != 0) {
        log::error("unable to listen on {}: {}", path, strerror(errno));
        fd.reset();
    }
    return fd;
}

void report(const char* what, const std::vector<std::string>& failures, bool quiet) {
    if (failures.empty()) return;
    if (quiet) {
        log::notice("{}: skipped what is not allowed here: {}", what, fmt::join(failures, "; "));
        return;
    }
    for (const auto& f : failures) log::warn("unable to {}", f);
}

}  // namespace

int hw::system_manager_main(int argc, char** argv) try {
    bool pid1 = ::getpid() == 1;
    log::set_program("system-manager");
    setup_process_state();
    sigset_t handled = handled_signals();
    sigprocmask(SIG_BLOCK, &handled, nullptr);
    ::signal(SIGPIPE, SIG_IGN);

    std::vector<std::string> problems;
    settings s = read_settings(argc, argv, problems);
    std::string reexec_problem;
    auto previous = take_reexec_state(reexec_problem);
    std::vector<std::string> mount_failures;
    if (pid1) {
        mount_failures = mount_api_filesystems();
    } else {
        ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    }
    host_facts facts = detect_host(pid1);
    auto dir_failures = make_runtime_directories();
    auto kernel_failures = raise_kernel_defaults(facts);
    if (facts.container) record_container(facts);

    owned_descriptors fds;
    if (previous) {
        fds = adopt_descriptors(*previous);
    } else {
        fds.console_messages = open_console_for_messages();
        fds.console_children = open_console_for_children();
    }
    log::set_fallback(fds.console_messages.get(), false);
    log::set_mirror(fds.console_messages.get(), log::severity::notice);
    if (previous || make_log_pipe(fds)) log::set_primary(fds.log_write_own.get());
    if (!reexec_problem.empty()) {
        log::critical("unable to take over from the previous image: {}; starting afresh",
                      reexec_problem);
        end_unknown_daemons();
    }

    log::notice("heartwood system-manager starting{}{}", pid1 ? " as process #1" : "",
                facts.container ? fmt::format(" in a container ({})", facts.container_reason)
                                : std::string());
    for (const auto& p : problems) log::warn("{}", p);
    report("API filesystems", mount_failures, facts.container);
    report("runtime directories", dir_failures, false);
    report("kernel defaults", kernel_failures, false);
    if (pid1 && !facts.container && ::reboot(RB_DISABLE_CAD) != 0) {
        log::warn("unable to make Ctrl-Alt-Del send SIGINT: {}", strerror(errno));
    }
    fds.signal_fd.reset(::signalfd(-1, &handled, SFD_NONBLOCK | SFD_CLOEXEC));
    if (!fds.signal_fd) last_resort("unable to create a signalfd");
    if (!previous) fds.control_socket = make_control_socket(s.control_socket);

    // PID 1 has a dozen operations pending at most (signals, the fd store, a few timers). At 64
    // its submission entries and its rings (completion queue of 128) take a page each, and a
    // burst past the completion queue waits in the kernel's overflow list (IORING_FEAT_NODROP).
    auto loop = event_loop::create(64);
    if (!loop) {
        log::critical("unable to set up io_uring: {}", loop.error().message());
        last_resort("system-manager cannot run its event loop");
    }
    system_manager manager(std::move(s), facts, std::move(*loop), std::move(fds));
    if (previous) manager.adopt(*previous);
    manager.run();
} catch (const std::exception& e) {
    log::critical("unexpected failure during startup: {}", e.what());
    last_resort("system-manager could not start");
} catch (...) {
    last_resort("system-manager could not start");
}
