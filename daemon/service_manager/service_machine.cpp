#include "service_machine.hpp"

#include <fmt/core.h>
#include <signal.h>
#include <sys/wait.h>

#include "common/process.hpp"

namespace hw::svc {

namespace {

template <class... F>
struct overloaded : F... {
    using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;  // implicit since C++20, but not in clang 14

bool succeeded(int wait_status) {
    return wait_status != unknown_status && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
}

std::string describe(int wait_status) {
    if (wait_status == unknown_status) return "ended (status unknown)";
    return describe_wait_status(wait_status);
}

constexpr int killed_status = SIGKILL;  // a wait status: terminated by SIGKILL

}  // namespace

std::string_view program_name(program p) noexcept {
    switch (p) {
        case program::start:
            return "start";
        case program::run:
            return "run";
        case program::restart:
            return "restart";
        case program::stop:
            return "stop";
    }
    return "?";
}

std::string_view phase_name(phase p) noexcept {
    switch (p) {
        case phase::stopped:
            return "stopped";
        case phase::failed:
            return "failed";
        case phase::starting:
            return "starting";
        case phase::running:
            return "running";
        case phase::up_idle:
            return "up_idle";
        case phase::deciding:
            return "deciding";
        case phase::backoff:
            return "backoff";
        case phase::killing:
            return "killing";
        case phase::stopping:
            return "stopping";
    }
    return "?";
}

std::vector<std::string> service_machine::restart_args(int ws) {
    if (ws == unknown_status) return {"exit", "255"};
    if (WIFEXITED(ws)) return {"exit", std::to_string(WEXITSTATUS(ws))};
    int sig = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
    std::string cls = "crash";
    switch (sig) {
        case SIGTERM:
        case SIGINT:
        case SIGHUP:
        case SIGPIPE:
            cls = "term";
            break;
        case SIGKILL:
            cls = "kill";
            break;
        case SIGABRT:
        case SIGALRM:
        case SIGQUIT:
            cls = "abort";
            break;
        default:
            break;
    }
    std::string name;
    switch (sig) {
        case SIGKILL:
            name = "KILL";
            break;
        case SIGTERM:
            name = "TERM";
            break;
        case SIGINT:
            name = "INT";
            break;
        case SIGHUP:
            name = "HUP";
            break;
        case SIGPIPE:
            name = "PIPE";
            break;
        case SIGABRT:
            name = "ABRT";
            break;
        case SIGALRM:
            name = "ALRM";
            break;
        case SIGQUIT:
            name = "QUIT";
            break;
        case SIGSEGV:
            name = "SEGV";
            break;
        case SIGFPE:
            name = "FPE";
            break;
        default:
            name = std::to_string(sig);
            break;
    }
    std::vector<std::string> args{cls, name, std::to_string(sig)};
    if (WIFSIGNALED(ws) && WCOREDUMP(ws)) args.emplace_back("core");
    return args;
}

proto::service_state service_machine::public_state() const noexcept {
    using proto::service_state;
    switch (st_.ph) {
        case phase::stopped:
            return service_state::stopped;
        case phase::failed:
            return service_state::failed;
        case phase::starting:
        case phase::deciding:
        case phase::backoff:
            return service_state::starting;
        case phase::running:
            if (st_.self_stopping) return service_state::stopping;
            return st_.ready ? service_state::ready : service_state::running;
        case phase::up_idle:
            return service_state::ready;
        case phase::killing:
            return st_.after_kill == intent::decide && st_.want_up ? service_state::starting
                                                                   : service_state::stopping;
        case phase::stopping:
            return service_state::stopping;
    }
    return service_state::stopped;
}

std::vector<effect> service_machine::handle(const event& ev, mono_time now) {
    now_ = now;
    out_.clear();
    std::visit(overloaded{
                   [this](letter_event l) { on_letter(l); },
                   [this](const exited& e) { on_exited(e); },
                   [this](tree_empty) { on_tree_empty(); },
                   [this](timer_fired) { on_timer(); },
                   [this](became_ready) { on_ready(); },
                   [this](watchdog_ping w) {
                       if (st_.ph != phase::running || !st_.ready) return;
                       if (w.trigger) {
                           watchdog_expired();
                       } else if (st_.watchdog_armed) {
                           arm_watchdog();
                       }
                   },
                   [this](stopping_notice) {
                       if (st_.ph == phase::running) st_.self_stopping = true;
                   },
                   [this](extend_timeout e) {
                       bool waiting = st_.ph == phase::starting || st_.ph == phase::killing ||
                                      st_.ph == phase::stopping ||
                                      (st_.ph == phase::running && !st_.ready);
                       if (waiting && st_.deadline) {
                           st_.deadline = std::max(*st_.deadline, now_ + e.by);
                       }
                   },
                   [this](reloading) {
                       if (st_.ph == phase::running && st_.ready) {
                           st_.ready = false;
                           st_.watchdog_armed = false;
                           st_.deadline.reset();
                       }
                   },
               },
               ev);
    emit_public();
    return std::move(out_);
}

void service_machine::on_letter(letter_event l) {
    bool down_now = st_.ph == phase::stopped || st_.ph == phase::failed;
    switch (l) {
        case letter_event::up:
        case letter_event::once:
            st_.want_up = true;
            st_.no_restart = l == letter_event::once;
            if (down_now) {
                st_.restart_count = 0;
                begin_start();
            }
            return;
        case letter_event::once_at_most:
            st_.no_restart = true;
            return;
        case letter_event::down_quiet:
            st_.want_up = false;
            if (st_.ph == phase::failed) enter(phase::stopped);
            return;
        case letter_event::down:
            break;
    }
    st_.want_up = false;
    switch (st_.ph) {
        case phase::failed:
            enter(phase::stopped);
            break;
        case phase::starting:
        case phase::deciding:
            if (st_.killed == kill_stage::none) terminate_current();
            break;
        case phase::running:
        case phase::up_idle:
            kill_tree(intent::down);
            break;
        case phase::backoff:
            st_.deadline.reset();
            go_down(false);
            break;
        case phase::killing:
            if (st_.after_kill == intent::decide) st_.after_kill = intent::down;
            break;
        case phase::stopped:
        case phase::stopping:
            break;
    }
}

void service_machine::on_exited(const exited& e) {
    auto index = static_cast<std::size_t>(e.prog);
    st_.records[index] = {true, e.wait_status, now_};
    if (!st_.current || *st_.current != e.prog) return;  // not the program we wait for
    if (e.prog == program::run) st_.last_run_status = e.wait_status;
    st_.main_gone = true;
    switch (st_.ph) {
        case phase::starting:
            st_.current.reset();
            st_.deadline.reset();
            st_.killed = kill_stage::none;
            if (st_.failing || !st_.want_up) {
                go_down(st_.failing);
            } else if (succeeded(e.wait_status)) {
                begin_run();
            } else {
                say(true, fmt::format("start failed: {}", describe(e.wait_status)));
                go_down(true);
            }
            return;
        case phase::running:
            if (cfg_.remain && succeeded(e.wait_status) && st_.want_up && !st_.no_restart) {
                // run-on-empty: up with no process; leftovers stay until the service stops
                st_.current.reset();
                st_.deadline.reset();
                st_.ready = true;
                enter(phase::up_idle);
                return;
            }
            if (!e.tree_empty) {
                kill_tree(intent::decide);
                return;
            }
            st_.current.reset();
            st_.self_stopping = false;
            decide();
            return;
        case phase::killing:
            if (e.tree_empty) finish_kill();
            return;
        case phase::deciding:
            st_.current.reset();
            st_.deadline.reset();
            st_.killed = kill_stage::none;
            if (!st_.want_up) {
                go_down(false);
            } else if (st_.no_restart || !succeeded(e.wait_status)) {
                st_.want_up = false;  // restart said no: down for good
                go_down(!succeeded(st_.last_run_status));
            } else {
                ++st_.restart_count;
                begin_run();
            }
            return;
        case phase::stopping:
            st_.current.reset();
            finish_down();
            return;
        case phase::stopped:
        case phase::failed:
        case phase::up_idle:
        case phase::backoff:
            return;
    }
}

void service_machine::on_tree_empty() {
    if (st_.ph == phase::killing && st_.main_gone) finish_kill();
}

void service_machine::on_timer() {
    if (!st_.deadline || now_ < *st_.deadline) return;  // stale
    st_.deadline.reset();
    switch (st_.ph) {
        case phase::starting:
            if (st_.killed != kill_stage::none) {
                escalate();
            } else {
                say(true, "start timed out (timeout-start)");
                st_.failing = true;
                terminate_current();
            }
            return;
        case phase::running:
            if (!st_.ready) {
                say(true, "not ready within timeout-start");
                kill_tree(intent::fail);
            } else if (st_.watchdog_armed) {
                say(true, "watchdog timeout: no WATCHDOG=1 within watchdog-timeout");
                watchdog_expired();
            }
            return;
        case phase::backoff:
            begin_run();
            return;
        case phase::killing:
        case phase::deciding:
            escalate();
            return;
        case phase::stopping:
            if (st_.killed != kill_stage::none) {
                escalate();
            } else {
                say(true, "stop timed out (timeout-stop)");
                terminate_current();
            }
            return;
        case phase::stopped:
        case phase::failed:
        case phase::up_idle:
            return;
    }
}

void service_machine::on_ready() {
    if (st_.ph != phase::running || st_.ready || cfg_.ready_by == readiness::after_run) return;
    st_.ready = true;
    st_.deadline.reset();
    arm_watchdog();
}

void service_machine::begin_start() {
    st_.failing = false;
    st_.killed = kill_stage::none;
    st_.ready = false;
    if (!cfg_.has_start) {
        begin_run();
        return;
    }
    emit<spawn>(program::start, std::vector<std::string>{});
    st_.current = program::start;
    st_.main_gone = false;
    st_.deadline.reset();
    if (cfg_.start_timeout.count() > 0) st_.deadline = now_ + cfg_.start_timeout;
    enter(phase::starting);
}

void service_machine::begin_run() {
    st_.ready = false;
    st_.killed = kill_stage::none;
    st_.watchdog_armed = false;
    st_.deadline.reset();
    if (!cfg_.has_run) {  // nothing to run (a target): up at once
        st_.current.reset();
        st_.main_gone = true;
        st_.ready = true;
        enter(phase::up_idle);
        return;
    }
    emit<spawn>(program::run, std::vector<std::string>{});
    st_.self_stopping = false;
    st_.current = program::run;
    st_.main_gone = false;
    st_.run_started = now_;
    if (cfg_.ready_by == readiness::on_spawn) {
        st_.ready = true;
        arm_watchdog();
    } else if (cfg_.start_timeout.count() > 0) {
        st_.deadline = now_ + cfg_.start_timeout;
    }
    enter(phase::running);
}

void service_machine::decide() {
    bool ok = succeeded(st_.last_run_status);
    st_.ready = false;
    if (!st_.want_up) return go_down(false);
    if (st_.no_restart) {
        st_.want_up = false;
        return go_down(!ok);
    }
    if (cfg_.has_restart) {
        emit<spawn>(program::restart, restart_args(st_.last_run_status));
        st_.current = program::restart;
        st_.main_gone = false;
        st_.killed = kill_stage::none;
        st_.deadline.reset();
        enter(phase::deciding);
        return;
    }
    if (cfg_.ready_by == readiness::after_run) {
        if (!ok) {
            say(true, fmt::format("run failed: {}", describe(st_.last_run_status)));
            return go_down(true);
        }
        // ready, then on to stopped: a oneshot is done
        published_ = proto::service_state::ready;
        st_.since = now_;
        emit<publish>(published_);
        st_.want_up = false;
        return go_down(false);
    }
    restart_by_policy();
}

void service_machine::restart_by_policy() {
    if (now_ - st_.run_started >= cfg_.restart_reset) st_.restart_count = 0;
    // restart_count is the number of restarts done in a row: it stays at the limit on giving up.
    if (cfg_.restart_limit > 0 && st_.restart_count >= cfg_.restart_limit) {
        say(true, fmt::format("run ended {} times in a row without staying up {} ms; giving up",
                              st_.restart_count + 1, cfg_.restart_reset.count()));
        return go_down(true);
    }
    ++st_.restart_count;
    milliseconds delay{0};
    if (st_.restart_count > 1) {
        delay = cfg_.restart_delay;
        for (std::uint32_t i = 2; i < st_.restart_count && delay < cfg_.restart_delay_max; ++i) {
            delay *= 2;
        }
        delay = std::min(delay, cfg_.restart_delay_max);
    }
    if (delay.count() == 0) return begin_run();
    st_.deadline = now_ + delay;
    enter(phase::backoff);
}

void service_machine::kill_tree(intent then) {
    st_.after_kill = then;
    st_.self_stopping = false;
    st_.ready = false;
    st_.watchdog_armed = false;
    if (cfg_.use_hangup) emit<send_signal>(signal_target::tree, SIGHUP);
    emit<send_signal>(signal_target::tree, SIGTERM);
    emit<send_signal>(signal_target::tree, SIGCONT);
    st_.killed = kill_stage::term_sent;
    st_.deadline.reset();
    if (cfg_.stop_timeout.count() > 0) st_.deadline = now_ + cfg_.stop_timeout;
    enter(phase::killing);
    emit<watch_tree>();
}

void service_machine::terminate_current() {
    if (cfg_.use_hangup) emit<send_signal>(signal_target::tree, SIGHUP);
    emit<send_signal>(signal_target::tree, SIGTERM);
    emit<send_signal>(signal_target::tree, SIGCONT);
    st_.killed = kill_stage::term_sent;
    st_.deadline.reset();
    if (cfg_.stop_timeout.count() > 0) st_.deadline = now_ + cfg_.stop_timeout;
}

void service_machine::escalate() {
    if (st_.killed == kill_stage::term_sent && !cfg_.no_kill_signal) {
        say(true, "still running after timeout-stop; sending SIGKILL");
        emit<send_signal>(signal_target::tree, SIGKILL);
        st_.killed = kill_stage::kill_sent;
        st_.deadline = now_ + cfg_.kill_grace;
        return;
    }
    say(true, st_.killed == kill_stage::kill_sent
                  ? "processes survive SIGKILL; abandoning them"
                  : "still running after timeout-stop; leaving them (no_kill_signal)");
    abandon();
}

void service_machine::abandon() {
    if (st_.ph == phase::killing) {
        if (!st_.main_gone && st_.current == program::run) st_.last_run_status = killed_status;
        st_.main_gone = true;
        return finish_kill();
    }
    if (st_.current) on_exited(exited{*st_.current, killed_status, true});
}

void service_machine::finish_kill() {
    st_.killed = kill_stage::none;
    st_.deadline.reset();
    st_.current.reset();
    switch (st_.after_kill) {
        case intent::decide:
            return decide();
        case intent::down:
            return go_down(st_.failing);
        case intent::fail:
            return go_down(true);
    }
}

void service_machine::go_down(bool failed) {
    st_.failing = failed;
    st_.ready = false;
    st_.watchdog_armed = false;
    if (failed) st_.want_up = false;
    if (!cfg_.has_stop) return finish_down();
    emit<spawn>(program::stop, std::vector<std::string>{});
    st_.current = program::stop;
    st_.main_gone = false;
    st_.killed = kill_stage::none;
    st_.deadline.reset();
    if (cfg_.stop_timeout.count() > 0) st_.deadline = now_ + cfg_.stop_timeout;
    enter(phase::stopping);
}

void service_machine::finish_down() {
    st_.current.reset();
    st_.deadline.reset();
    st_.killed = kill_stage::none;
    bool failed = st_.failing;
    st_.failing = false;
    if (st_.want_up && !failed) {  // `u` arrived while it was going down
        st_.restart_count = 0;
        return begin_start();
    }
    enter(failed ? phase::failed : phase::stopped);
}

void service_machine::arm_watchdog() {
    if (cfg_.watchdog_timeout.count() <= 0) return;
    st_.watchdog_armed = true;
    st_.deadline = now_ + cfg_.watchdog_timeout;
}

// SIGABRT to the main process (so it may dump core), then the usual escalation; the exit is
// then a failure like any other and the restart decision applies.
void service_machine::watchdog_expired() {
    st_.watchdog_armed = false;
    emit<send_signal>(signal_target::main, SIGABRT);
    st_.after_kill = intent::decide;
    st_.killed = kill_stage::term_sent;
    st_.deadline.reset();
    if (cfg_.stop_timeout.count() > 0) st_.deadline = now_ + cfg_.stop_timeout;
    st_.ready = false;
    enter(phase::killing);
    emit<watch_tree>();
}

void service_machine::enter(phase p) {
    st_.ph = p;
    if (p != phase::running) st_.self_stopping = false;
    emit_public();
}

void service_machine::emit_public() {
    auto s = public_state();
    if (s == published_) return;
    published_ = s;
    st_.since = now_;
    emit<publish>(s);
}

void service_machine::say(bool warning, std::string text) {
    emit<note>(warning, std::move(text));
}

}  // namespace hw::svc
