#include "system_manager.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include <fmt/format.h>

#include "common/fd_passing.hpp"
#include "common/log.hpp"
#include "common/process.hpp"
#include "daemon/system_manager/processes.hpp"

extern char** environ;

namespace hw::sysmgr {

namespace {

using namespace std::chrono_literals;

constexpr auto good_run = 1s;         // a child that ran this long restarts at once
constexpr auto first_backoff = 100ms; // then doubling up to the child's cap
constexpr auto kill_wait = 5s;        // after SIGKILL, how long we wait for the dead to go

std::vector<std::string> current_environment() {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
        std::string_view v = *e;
        if (v.starts_with("LISTEN_") || v.starts_with("NOTIFY_SOCKET=") ||
            v.starts_with("HEARTWOOD_REEXEC_STATE=")) {
            continue;
        }
        env.emplace_back(v);
    }
    return env;
}

void log_spawn_failure(std::string_view what, const spawn_failure& f) {
    log::error("unable to start {}: {} failed: {}", what, stage_name(f.stage), f.error.message());
}

}  // namespace

system_manager::system_manager(settings s, host_facts facts, std::unique_ptr<event_loop> loop,
                               owned_descriptors fds)
    : settings_(std::move(s)), facts_(facts), loop_(std::move(loop)), fds_(std::move(fds)) {}

void system_manager::run() noexcept {
    watch_signals();
    if (resumed_) {
        sweep_children();  // children that ended while we were being re-executed
        if (logger_.pid <= 0) start_logger();
        if (manager_.pid <= 0) {
            start_manager();
        } else {
            watch_store();
        }
    } else {
        start_logger();
        start_manager();
        board_.request(target::init);
    }
    dispatch_jobs();
    for (;;) {
        if (!loop_->run_once()) {
            // The ring itself failed: nothing sensible is left but to keep trying, slowly
            // enough not to flood the console.
            ::sleep(1);
        }
    }
}

// ---- children -------------------------------------------------------------------------------

void system_manager::start_logger() noexcept {
    spawn_request req;
    req.argv.push_back("system-logger");
    req.argv.insert(req.argv.end(), settings_.log_dirs.begin(), settings_.log_dirs.end());
    int console = fds_.console_children ? fds_.console_children.get() : -1;
    req.stdio = {fds_.log_read.get(), console, console};
    req.blocked_signals = {SIGHUP};  // it unblocks once its handler is in place
    auto child = spawn(req);
    if (!child) {
        log_spawn_failure("the logger", child.error());
        schedule_restart(logger_, &system_manager::start_logger);
        return;
    }
    logger_.pid = child->pid;
    logger_.started = clock::now();
    log::info("started the logger as pid {}", child->pid);
}

void system_manager::start_manager() noexcept {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
        log::error("unable to create the fd store socket: {}", strerror(errno));
        schedule_restart(manager_, &system_manager::start_manager);
        return;
    }
    unique_fd ours(pair[0]), theirs(pair[1]);
    spawn_request req;
    req.argv = {"service-manager"};
    req.stdio = {-1, fds_.log_write.get(), fds_.log_write.get()};
    req.extra_fds = {{fds_.control_socket.get(), 3}, {theirs.get(), 4}};
    req.env = current_environment();
    req.env->push_back("LISTEN_FDS=2");
    req.env->push_back("LISTEN_FDNAMES=control:fdstore");
    req.env->push_back("LISTEN_PID=");
    // In a container, cgroup2 may be the host's own tree (a user namespace mapped to the host's
    // root can write it): services get process groups unless the runtime delegated a cgroup
    // and says so with HEARTWOOD_CGROUPS=1.
    if (facts_.container && !settings_.container_cgroups) {
        req.env->push_back("HEARTWOOD_NO_CGROUPS=1");
    }
    auto child = spawn(req);
    if (!child) {
        log_spawn_failure("the service-manager", child.error());
        if (child.error().stage == spawn_stage::exec && !manager_.shell_offered) {
            manager_.shell_offered = true;
            offer_emergency_shell("the service-manager cannot be run");
        }
        schedule_restart(manager_, &system_manager::start_manager);
        return;
    }
    manager_.pid = child->pid;
    manager_.started = clock::now();
    log::info("started the service-manager as pid {}", child->pid);
    store_peer_ = std::move(ours);
    ::fcntl(store_peer_.get(), F_SETFL, O_NONBLOCK);
    handover_.clear();
    for (const auto& [name, fd] : store_.entries()) handover_.push_back(name);
    handover_end_pending_ = true;
    send_handover();
    watch_store();
}

void system_manager::schedule_restart(restartable& child,
                                      void (system_manager::*start)()) noexcept {
    child.pid = -1;
    auto ran = clock::now() - child.started;
    if (ran >= good_run && child.started != clock::time_point{}) {
        child.backoff = 0ms;
    } else {
        child.backoff = child.backoff == 0ms ? first_backoff
                                             : std::min(child.backoff * 2, child.max_backoff);
    }
    child.started = {};
    if (child.backoff == 0ms) {
        (this->*start)();
        return;
    }
    log::warn("restarting {} in {} ms", child.name, child.backoff.count());
    auto timer = loop_->after(child.backoff, [this, &child, start](int) noexcept {
        child.restart_timer = {};
        (this->*start)();
    });
    if (timer) {
        child.restart_timer = *timer;
    } else {
        log::error("unable to arm the restart timer of {}: {}; restarting it now", child.name,
                   timer.error().message());
        (this->*start)();
    }
}

bool system_manager::start_job(channel c, target t) noexcept {
    spawn_request req;
    req.argv = {"system-control"};
    if (t == target::init) {
        req.argv.push_back("init");
        req.argv.insert(req.argv.end(), settings_.boot_args.begin(), settings_.boot_args.end());
    } else {
        req.argv.push_back("start");
        req.argv.push_back(std::string(target_name(t)));
    }
    req.stdio = {-1, fds_.log_write.get(), fds_.log_write.get()};
    auto child = spawn(req);
    if (!child) {
        log_spawn_failure(fmt::format("the {} job", target_name(t)), child.error());
        board_.finished(c);
        if (t != target::emergency && !facts_.container) {
            offer_emergency_shell("system-control cannot be run");
        }
        return false;
    }
    jobs_[static_cast<int>(c)].pid = child->pid;
    log::info("started job '{}' as pid {}", fmt::join(req.argv, " "), child->pid);
    arm_job_deadline(c, t, child->pid);
    return true;
}

void system_manager::arm_job_deadline(channel c, target t, pid_t pid) noexcept {
    auto limit = c == channel::emergency ? settings_.emergency_timeout : settings_.job_timeout;
    auto timer = loop_->after(limit, [this, c, t, pid](int) noexcept {
        jobs_[static_cast<int>(c)].deadline = {};
        log::error("job {} (pid {}) ran past its time limit; killing it", target_name(t), pid);
        ::kill(pid, SIGKILL);
    });
    if (timer) {
        jobs_[static_cast<int>(c)].deadline = *timer;
    } else {
        log::error("unable to arm the time limit of job {}: {}", target_name(t),
                   timer.error().message());
    }
}

void system_manager::dispatch_jobs() noexcept {
    if (phase_ != phase::running) return;
    for (channel c : {channel::regular, channel::emergency}) {
        while (auto t = board_.take_next(c)) {
            if (start_job(c, *t)) break;  // else the channel is free again: try the next
        }
    }
}

void system_manager::offer_emergency_shell(const char* why) noexcept {
    if (shell_pid_ > 0 || !fds_.console_children) return;
    log::critical("{}: offering an emergency shell on the console", why);
    int console = fds_.console_children.get();
    for (const char* shell : {"sulogin", "/bin/sh"}) {
        spawn_request req;
        req.argv = {shell};
        req.stdio = {console, console, console};
        req.controlling_tty = true;
        auto child = spawn(req);
        if (child) {
            shell_pid_ = child->pid;
            return;
        }
        log_spawn_failure(shell, child.error());
    }
}

void system_manager::on_child_exit(pid_t pid, int status) noexcept {
    std::string how = describe_wait_status(status);
    if (pid == logger_.pid) {
        logger_.pid = -1;
        if (phase_ == phase::drain_logger) {
            bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
            if (clean || logger_drain_restarts_ >= 3 || !phase_timer_) {
                log::info("the logger {}", how);
                fds_.log_read.reset();
                enter(phase::finished);
                return;
            }
            log::warn("the logger {} before the end of the log; restarting it", how);
            ++logger_drain_restarts_;
            start_logger();
            return;
        }
        log::warn("the logger {}; restarting it", how);
        schedule_restart(logger_, &system_manager::start_logger);
    } else if (pid == manager_.pid) {
        manager_.pid = -1;
        on_store_readable();  // take what the dead manager stored before it went
        store_peer_.reset();
        if (phase_ >= phase::stop_manager) {
            log::info("the service-manager {}", how);
            if (phase_ == phase::stop_manager) enter(phase::terminate_rest);
            return;
        }
        log::warn("the service-manager {}; restarting it", how);
        if (manager_.started != clock::time_point{} && clock::now() - manager_.started >= good_run) {
            manager_.shell_offered = false;
        }
        schedule_restart(manager_, &system_manager::start_manager);
    } else if (pid == jobs_[0].pid) {
        on_job_exit(channel::regular, status);
    } else if (pid == jobs_[1].pid) {
        on_job_exit(channel::emergency, status);
    } else if (pid == shell_pid_) {
        log::notice("the emergency shell {}", how);
        shell_pid_ = -1;
    }
    // Anything else is an orphan we adopted: reaping it was all there was to do.
}

void system_manager::on_job_exit(channel c, int status) noexcept {
    auto& slot = jobs_[static_cast<int>(c)];
    auto t = board_.running(c);
    slot.pid = -1;
    loop_->cancel(slot.deadline);
    board_.finished(c);
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    log::emit(ok ? log::severity::info : log::severity::warning, "job {} {}",
              t ? target_name(*t) : "?", describe_wait_status(status));
    // A boot job may have made /var writable: the logger then moves its directory there.
    if (t && *t != target::init && !is_shutdown_target(*t) && logger_.pid > 0) {
        ::kill(logger_.pid, SIGHUP);
    }
    if (phase_ == phase::drain_jobs && board_.idle()) enter(phase::stop_manager);
    if (t) finish_shutdown_job(*t);
}

// A shutdown target's own program asks for the final action once the target is reached. When
// its job has ended without that (it failed, ran past its time limit, or the target's bundle
// is missing or does not ask), the machine still goes down: a poweroff that never comes would
// leave the administrator (or `docker stop`) waiting for ever. The program may send its signal
// just after the job saw the target reached, so the check comes a moment later.
void system_manager::finish_shutdown_job(target t) noexcept {
    auto action = final_action_of(t);
    if (!action) return;
    auto check = [this, t, a = *action]() noexcept {
        if (phase_ != phase::running || final_ || board_.running(channel::regular)) return;
        for (target next : {target::halt, target::poweroff, target::reboot, target::kexec}) {
            if (board_.is_pending(next)) return;  // its own job runs next
        }
        log::warn("job {} ended without asking for the final {}; carrying it out now",
                  target_name(t), final_action_name(a));
        begin_final(a);
    };
    auto id = loop_->after(std::chrono::seconds(1), [check](int) noexcept { check(); });
    if (!id) {
        log::error("unable to arm a timer: {}; checking job {} now", id.error().message(),
                   target_name(t));
        check();
    }
}

// ---- events ---------------------------------------------------------------------------------

void system_manager::watch_signals() noexcept {
    auto id = loop_->poll_readable(fds_.signal_fd.get(), [this](int) noexcept {
        on_signals();
        watch_signals();
    });
    if (!id) log::critical("unable to watch for signals: {}", id.error().message());
}

// Handles every signal waiting, requests first and exits last, then dispatches once: a job
// that asked for sysinit and then normal and exited is reaped only after both requests are on
// the board, so the board's priority order (sysinit first) decides, not the arrival order.
//
// Reaping: SIGCHLD names the child that exited, which is reaped directly (cheap). SIGCHLDs that
// arrive while one is pending are merged by the kernel, so a sweep over all children follows;
// the sweep costs time in proportion to the number of children, so with thousands of orphans
// it runs at most once per sweep_interval (put off on a timer), while PID 1's own children are
// always looked at directly, at once.
void system_manager::on_signals() noexcept {
    signalfd_siginfo info[16];
    bool child_exited = false;
    for (;;) {
        ssize_t n = ::read(fds_.signal_fd.get(), info, sizeof info);
        if (n <= 0) break;
        pid_t named[16];
        std::size_t named_count = 0;
        for (std::size_t i = 0; i < static_cast<std::size_t>(n) / sizeof info[0]; ++i) {
            int signo = static_cast<int>(info[i].ssi_signo);
            if (signo == SIGCHLD) {
                child_exited = true;
                named[named_count++] = static_cast<pid_t>(info[i].ssi_pid);
            } else {
                on_signal(info[i]);
            }
        }
        reap_named({named, named_count});
    }
    if (child_exited) {
        pid_t own[] = {logger_.pid, manager_.pid, jobs_[0].pid, jobs_[1].pid, shell_pid_};
        reap_named(own);
        if (!sweep_timer_) sweep_children();
        check_progress();
    }
    dispatch_jobs();
}

void system_manager::reap_named(std::span<const pid_t> pids) noexcept {
    for (pid_t pid : pids) {
        if (pid <= 0) continue;
        if (auto r = reap_one(pid)) on_child_exit(r->pid, r->status);
    }
}

void system_manager::sweep_children() noexcept {
    constexpr auto sweep_interval = std::chrono::milliseconds(10);
    auto now = clock::now();
    if (now - last_sweep_ < sweep_interval) {
        auto id = loop_->after(last_sweep_ + sweep_interval - now, [this](int) noexcept {
            sweep_timer_ = {};
            sweep_children();
            check_progress();
            dispatch_jobs();
        });
        if (id) {
            sweep_timer_ = *id;
            return;
        }
        log::warn("unable to put off reaping: {}; reaping now", id.error().message());
    }
    last_sweep_ = now;
    while (auto r = reap_one()) on_child_exit(r->pid, r->status);
}

void system_manager::on_signal(const signalfd_siginfo& info) noexcept {
    int signo = static_cast<int>(info.ssi_signo);
    auto sender = static_cast<pid_t>(info.ssi_pid);
    if (auto st = requested_exit_status(signo, info.ssi_code, info.ssi_int)) {
        log::notice("pid {} asks for exit status {} when the system stops", sender, *st);
        exit_status_ = *st;
    }
    auto meaning = classify_signal(signo, facts_.container);
    using k = signal_meaning::kind;
    switch (meaning.what) {
        case k::reap:
            return;  // handled by on_signals()
        case k::ignore:
            log::notice("ignoring signal {} from pid {}", signo, sender);
            return;
        case k::reexec:
            log::notice("signal {} from pid {}: re-execute", signo, sender);
            request_reexec();
            return;
        case k::final:
            log::notice("signal {} from pid {}: final {}", signo, sender,
                        final_action_name(meaning.final));
            begin_final(meaning.final);
            return;
        case k::start_target:
            if (phase_ != phase::running) {
                log::notice("ignoring a request for {}: the system is stopping",
                            target_name(meaning.start));
                return;
            }
            log::info("signal {} from pid {}: start {}", signo, sender,
                      target_name(meaning.start));
            if (board_.request(meaning.start) && jobs_[0].pid > 0) {
                log::notice("cutting the running boot job short for {}",
                            target_name(meaning.start));
                ::kill(jobs_[0].pid, SIGTERM);
            }
            return;
    }
}

void system_manager::watch_store() noexcept {
    if (!store_peer_) return;
    auto id = loop_->poll_readable(store_peer_.get(), [this](int) noexcept {
        on_store_readable();
        watch_store();
    });
    if (!id) log::error("unable to watch the fd store socket: {}", id.error().message());
}

void system_manager::on_store_readable() noexcept {
    while (store_peer_) {
        auto msg = receive_message(store_peer_.get(), 256);
        if (!msg || (*msg && (*msg)->eof)) {
            store_peer_.reset();  // the service-manager closed its end or died
            return;
        }
        if (!*msg) return;  // nothing more for now
        auto command = parse_store_command((*msg)->text);
        if (!command) {
            log::warn("ignoring a malformed fd store message from the service-manager");
            continue;
        }
        if (command->what == store_command::kind::remove) {
            store_.remove(command->name);
        } else if ((*msg)->fds.size() != 1) {
            log::warn("fd store: STORE {} came with {} descriptors instead of one", command->name,
                      (*msg)->fds.size());
        } else if (auto r = store_.store(command->name, std::move((*msg)->fds[0])); !r) {
            log::error("unable to keep descriptor {}: the store is full ({} entries)",
                       command->name, store_.size());
        }
    }
}

void system_manager::send_handover() noexcept {
    while (store_peer_ && (!handover_.empty() || handover_end_pending_)) {
        result<void> sent;
        if (!handover_.empty()) {
            const std::string& name = handover_.back();
            auto it = store_.entries().find(name);
            if (it == store_.entries().end()) {
                handover_.pop_back();  // removed meanwhile
                continue;
            }
            sent = send_message(store_peer_.get(), "FD " + name, it->second.get());
            if (sent) handover_.pop_back();
        } else {
            sent = send_message(store_peer_.get(), "END");
            if (sent) handover_end_pending_ = false;
        }
        if (sent) continue;
        // EAGAIN: the socket is full; ETOOMANYREFS: too many descriptors in flight. Both clear
        // as the service-manager reads.
        if (sent.error().value() == EAGAIN || sent.error().value() == ETOOMANYREFS) {
            auto id = loop_->poll_writable(store_peer_.get(),
                                           [this](int) noexcept { send_handover(); });
            if (id) return;
        }
        log::error("unable to hand the fd store to the service-manager: {}",
                   sent.error().message());
        return;
    }
    if (reexec_pending_ && handover_.empty() && !handover_end_pending_) {
        reexec_pending_ = false;
        request_reexec();
    }
}

// ---- re-execution ---------------------------------------------------------------------------

void system_manager::adopt(const reexec_state& state) noexcept {
    auto now = clock::now();
    logger_.pid = state.logger.pid;
    logger_.started = state.logger.pid > 0 ? now - state.logger.uptime : clock::time_point{};
    manager_.pid = state.manager.pid;
    manager_.started = state.manager.pid > 0 ? now - state.manager.uptime : clock::time_point{};
    shell_pid_ = state.shell;
    exit_status_ = state.exit_status;
    store_peer_.reset(state.store_peer);
    for (const auto& j : state.jobs) {
        jobs_[static_cast<int>(j.on)].pid = j.pid;
        board_.resume_running(j.on, j.what);
        arm_job_deadline(j.on, j.what, j.pid);  // the limit starts again from here
    }
    for (target t : state.pending) board_.request(t);
    for (const auto& e : state.store) {
        if (auto r = store_.store(e.name, unique_fd(e.fd)); !r) {
            log::error("unable to keep descriptor {} across the re-execution: {}", e.name,
                       r.error().message());
        }
    }
    resumed_ = true;
    log::notice("re-executed: took over the logger (pid {}), the service-manager (pid {}), {} "
                "jobs and {} stored descriptors",
                logger_.pid, manager_.pid, state.jobs.size(), store_.size());
}

reexec_state system_manager::snapshot() const {
    reexec_state s;
    auto fd_of = [](const unique_fd& fd) { return fd ? fd.get() : -1; };
    s.log_read = fd_of(fds_.log_read);
    s.log_write = fd_of(fds_.log_write);
    s.log_write_own = fd_of(fds_.log_write_own);
    s.console_messages = fd_of(fds_.console_messages);
    s.console_children = fd_of(fds_.console_children);
    s.control_socket = fd_of(fds_.control_socket);
    s.store_peer = fd_of(store_peer_);
    auto now = clock::now();
    auto child = [now](const restartable& r) {
        if (r.pid <= 0) return reexec_state::child{};
        return reexec_state::child{
            r.pid, std::chrono::duration_cast<std::chrono::milliseconds>(now - r.started)};
    };
    s.logger = child(logger_);
    s.manager = child(manager_);
    s.shell = shell_pid_;
    s.exit_status = exit_status_;
    for (channel c : {channel::regular, channel::emergency}) {
        auto t = board_.running(c);
        pid_t pid = jobs_[static_cast<int>(c)].pid;
        if (t && pid > 0) s.jobs.push_back({c, *t, pid});
    }
    s.pending = board_.pending();
    for (const auto& [name, fd] : store_.entries()) s.store.push_back({name, fd.get()});
    return s;
}

void system_manager::request_reexec() noexcept {
    if (phase_ != phase::running) {
        log::notice("not re-executing: the system is stopping");
        return;
    }
    if (!handover_.empty() || handover_end_pending_) {
        log::info("re-executing once the fd store is handed to the service-manager");
        reexec_pending_ = true;
        return;
    }
    reexec();
}

// Keeps every descriptor of the snapshot open across execve() and runs our own executable
// again. On any failure it restores close-on-exec and carries on as before.
void system_manager::reexec() noexcept {
    auto path = own_executable();
    if (!path) {
        log::error("unable to re-execute: cannot find our executable: {}", path.error().message());
        return;
    }
    reexec_state state = snapshot();
    unique_fd memfd(::memfd_create("heartwood-reexec", 0));  // inherited on purpose
    std::string text = encode(state);
    if (!memfd || ::write(memfd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
        log::error("unable to re-execute: cannot write the state: {}", strerror(errno));
        return;
    }
    std::vector<std::string> args = {*path};
    args.insert(args.end(), settings_.boot_args.begin(), settings_.boot_args.end());
    std::vector<std::string> env = current_environment();
    for (auto& v : settings_environment(settings_)) env.push_back(std::move(v));
    env.push_back(fmt::format("HEARTWOOD_REEXEC_STATE={}", memfd.get()));
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    for (auto& e : env) envp.push_back(e.data());
    argv.push_back(nullptr);
    envp.push_back(nullptr);

    auto kept = state.descriptors();
    for (int fd : kept) ::fcntl(fd, F_SETFD, 0);
    log::notice("re-executing {}", *path);
    ::execve(argv[0], argv.data(), envp.data());
    int err = errno;
    for (int fd : kept) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    log::error("unable to re-execute {}: {}; carrying on", *path, strerror(err));
}

// ---- final stop -----------------------------------------------------------------------------

void system_manager::begin_final(final_action a) noexcept {
    if (final_) {
        log::notice("already on the way to {}; ignoring {}", final_action_name(*final_),
                    final_action_name(a));
        return;
    }
    final_ = a;
    log::notice("final stop: going to {}", final_action_name(a));
    enter(phase::drain_jobs);
}

void system_manager::enter(phase p) noexcept {
    phase_ = p;
    loop_->cancel(phase_timer_);
    switch (p) {
        case phase::running:
            return;
        case phase::drain_jobs:
            if (board_.idle()) return enter(phase::stop_manager);
            log::info("waiting up to {}s for running jobs", settings_.job_drain.count());
            return arm_phase_timer(settings_.job_drain);
        case phase::stop_manager:
            loop_->cancel(manager_.restart_timer);
            if (manager_.pid <= 0) return enter(phase::terminate_rest);
            log::info("stopping the service-manager (up to {}s)", settings_.manager_stop.count());
            ::kill(manager_.pid, SIGTERM);
            ::kill(manager_.pid, SIGCONT);
            return arm_phase_timer(settings_.manager_stop);
        case phase::terminate_rest:
            signal_others(SIGTERM);
            signal_others(SIGCONT);
            arm_phase_timer(settings_.kill_grace);
            return check_progress();
        case phase::kill_rest: {
            pid_t spared[] = {logger_.pid};
            auto left = other_processes(spared);
            if (!left.empty()) log::warn("killing stragglers: {}", describe(left));
            signal_others(SIGKILL);
            arm_phase_timer(kill_wait);
            return check_progress();
        }
        case phase::drain_logger:
            // Everyone else is gone: close every write end so the logger sees EOF once it has
            // written what is left. The read end stays ours until the logger has exited
            // cleanly, so a logger that dies now is restarted on the same data.
            store_peer_.reset();
            store_.clear();
            fds_.control_socket.reset();
            fds_.log_write.reset();
            log::set_primary(fds_.console_messages ? fds_.console_messages.get() : -1);
            fds_.log_write_own.reset();
            if (logger_.pid <= 0) {
                loop_->cancel(logger_.restart_timer);
                start_logger();
            }
            if (logger_.pid <= 0) return enter(phase::finished);
            return arm_phase_timer(settings_.logger_drain);
        case phase::finished:
            finish();
    }
}

// Called after every reap: moves the final stop on as soon as what it waits for is gone.
void system_manager::check_progress() noexcept {
    if (phase_ != phase::terminate_rest && phase_ != phase::kill_rest) return;
    pid_t spared[] = {logger_.pid};
    if (other_processes(spared).empty()) enter(phase::drain_logger);
}

void system_manager::arm_phase_timer(std::chrono::milliseconds d) noexcept {
    auto id = loop_->after(d, [this](int) noexcept {
        phase_timer_ = {};
        on_phase_timeout();
    });
    if (id) {
        phase_timer_ = *id;
    } else {
        log::error("unable to arm the shutdown timer: {}; not waiting", id.error().message());
        on_phase_timeout();
    }
}

void system_manager::on_phase_timeout() noexcept {
    switch (phase_) {
        case phase::drain_jobs:
            log::warn("jobs still running after {}s; killing them", settings_.job_drain.count());
            for (auto& j : jobs_) {
                if (j.pid > 0) ::kill(j.pid, SIGKILL);
            }
            return enter(phase::stop_manager);
        case phase::stop_manager:
            log::warn("the service-manager did not stop in {}s; killing it",
                      settings_.manager_stop.count());
            if (manager_.pid > 0) ::kill(manager_.pid, SIGKILL);
            return;  // its exit moves us on
        case phase::terminate_rest:
            return enter(phase::kill_rest);
        case phase::kill_rest: {
            pid_t spared[] = {logger_.pid};
            log::error("processes survived SIGKILL: {}", describe(other_processes(spared)));
            return enter(phase::drain_logger);
        }
        case phase::drain_logger:
            log::warn("the logger did not finish in {}s; killing it",
                      settings_.logger_drain.count());
            if (logger_.pid > 0) ::kill(logger_.pid, SIGKILL);
            return;
        case phase::running:
        case phase::finished:
            return;
    }
}

void system_manager::signal_others(int sig) noexcept {
    pid_t spared[] = {logger_.pid};
    for (const auto& p : other_processes(spared)) ::kill(p.pid, sig);
}

void system_manager::finish() noexcept {
    auto action = final_.value_or(final_action::poweroff);
    // In a container the kernel and its page cache outlive us: nothing is lost without a
    // sync, which would wait for every dirty page of the host's filesystems.
    if (!facts_.container) {
        log::notice("syncing filesystems");
        ::sync();
    }
    if (facts_.pid1 && !facts_.container) {
        for (const auto& failure : unmount_all()) log::warn("unable to {}", failure);
        ::sync();
    }
    if (!facts_.pid1) {
        log::notice("not process #1: exiting instead of {}", final_action_name(action));
        ::_exit(exit_status_.value_or(0));
    }
    if (facts_.nested_pid1 && exit_status_) {
        log::notice("exiting with status {} (ends the container)", *exit_status_);
        ::_exit(*exit_status_);
    }
    if (action == final_action::kexec) {
        // Into the kernel `kexec -l` loaded. When the kernel refuses (nothing loaded, or a PID
        // namespace, where it always does), the machine still restarts: an ordinary reboot.
        log::notice("kexec now");
        ::reboot(reboot_command(action));
        int err = errno;
        log::error("unable to kexec into the loaded kernel: {}; rebooting instead",
                   describe_kexec_failure(err, facts_.container, kexec_loaded()));
        action = final_action::reboot;
    }
    log::notice("{} now", final_action_name(action));
    ::reboot(reboot_command(action));
    if (facts_.nested_pid1) {
        // A container runtime that withholds CAP_SYS_BOOT (Docker, Podman): our exit ends the
        // namespace just as well, and only it.
        int status = container_exit_status(action, exit_status_);
        log::notice("unable to {} the container: {}; exiting with status {} instead",
                    final_action_name(action), strerror(errno), status);
        ::_exit(status);
    }
    // Only reached when reboot(2) failed. Exiting would panic the kernel; stay and reap.
    // Last resort: stay in the loop, reaping, and let a new forced signal try again.
    log::critical("unable to {}: {}; staying up, send the signal again to retry",
                  final_action_name(action), strerror(errno));
    final_.reset();
    phase_ = phase::running;
    for (;;) {
        if (!loop_->run_once()) ::sleep(1);
    }
}

}  // namespace hw::sysmgr
