#include "daemon/service_manager/service_machine.hpp"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>

#include <ostream>

using namespace hw::svc;
using namespace std::chrono_literals;
using hw::proto::service_state;

namespace {

constexpr int exit_status(int code) {
    return code << 8;
}
constexpr int signal_status(int sig, bool core = false) {
    return sig | (core ? 0x80 : 0);
}

// The machine plus a fake monotonic clock; `fx` holds the effects of the last event.
struct harness {
    service_machine m;
    mono_time now{1'000'000'000};
    std::vector<effect> fx;

    explicit harness(service_config cfg = {}) : m(cfg) {}

    harness& send(const event& ev) {
        fx = m.handle(ev, now);
        return *this;
    }
    harness& letter(letter_event l) { return send(l); }
    harness& exit(program p, int status, bool tree_empty = true) {
        return send(exited{p, status, tree_empty});
    }
    // Moves the clock to the deadline and fires the timer.
    harness& fire() {
        REQUIRE(m.deadline());
        now = *m.deadline();
        return send(timer_fired{});
    }
    void advance(std::chrono::milliseconds d) { now += d; }

    bool spawned(program p) const {
        for (const auto& e : fx) {
            if (auto* s = std::get_if<spawn>(&e); s && s->prog == p) return true;
        }
        return false;
    }
    std::vector<std::string> spawn_args() const {
        for (const auto& e : fx) {
            if (auto* s = std::get_if<spawn>(&e)) return s->args;
        }
        return {};
    }
    std::vector<int> signals(signal_target t = signal_target::tree) const {
        std::vector<int> out;
        for (const auto& e : fx) {
            if (auto* s = std::get_if<send_signal>(&e); s && s->target == t) out.push_back(s->sig);
        }
        return out;
    }
    std::vector<service_state> published() const {
        std::vector<service_state> out;
        for (const auto& e : fx) {
            if (auto* p = std::get_if<publish>(&e)) out.push_back(p->state);
        }
        return out;
    }
    bool watches_tree() const {
        for (const auto& e : fx) {
            if (std::holds_alternative<watch_tree>(e)) return true;
        }
        return false;
    }
    service_state state() const { return m.public_state(); }
    std::chrono::milliseconds until_deadline() const {
        return std::chrono::duration_cast<std::chrono::milliseconds>(*m.deadline() - now);
    }
};

service_config with_programs(bool start, bool restart, bool stop) {
    service_config c;
    c.has_start = start;
    c.has_restart = restart;
    c.has_stop = stop;
    return c;
}

}  // namespace

TEST_CASE("u without a start program spawns run and is ready at once") {
    harness h;
    h.letter(letter_event::up);
    CHECK(h.spawned(program::run));
    CHECK(h.published() == std::vector{service_state::ready});
    CHECK(h.m.state().want_up);
    CHECK(!h.m.deadline());
}

TEST_CASE("start runs before run, and run follows only a successful start") {
    harness h(with_programs(true, false, false));
    h.letter(letter_event::up);
    CHECK(h.spawned(program::start));
    CHECK(!h.spawned(program::run));
    CHECK(h.state() == service_state::starting);
    h.exit(program::start, exit_status(0));
    CHECK(h.spawned(program::run));
    CHECK(h.state() == service_state::ready);
}

TEST_CASE("a failing start fails the service, runs stop as cleanup and never runs run") {
    harness h(with_programs(true, false, true));
    h.letter(letter_event::up).exit(program::start, exit_status(3));
    CHECK(h.spawned(program::stop));
    CHECK(!h.spawned(program::run));
    CHECK(h.state() == service_state::stopping);
    h.exit(program::stop, exit_status(0));
    CHECK(h.state() == service_state::failed);
    CHECK(!h.m.state().want_up);
    CHECK(h.m.state().records[0].valid);
    CHECK(h.m.state().records[0].wait_status == exit_status(3));
}

TEST_CASE("the first restart is immediate, then the delay doubles up to the cap") {
    service_config c;
    c.restart_delay = 100ms;
    c.restart_delay_max = 500ms;
    c.restart_limit = 0;
    harness h(c);
    h.letter(letter_event::up);
    h.exit(program::run, exit_status(1));
    CHECK(h.spawned(program::run));  // at once
    CHECK(h.m.state().restart_count == 1);
    std::vector<long> delays;
    for (int i = 0; i < 5; ++i) {
        h.exit(program::run, signal_status(SIGSEGV));
        CHECK(!h.spawned(program::run));
        CHECK(h.state() == service_state::starting);
        delays.push_back(h.until_deadline().count());
        h.fire();
        CHECK(h.spawned(program::run));
    }
    CHECK(delays == std::vector<long>{100, 200, 400, 500, 500});
}

TEST_CASE("the restart count resets once run stayed up restart_reset") {
    service_config c;
    c.restart_reset = 10s;
    harness h(c);
    h.letter(letter_event::up);
    h.exit(program::run, exit_status(1));
    h.exit(program::run, exit_status(1));
    CHECK(h.m.state().restart_count == 2);
    h.fire();
    h.advance(10s);
    h.exit(program::run, exit_status(1));
    CHECK(h.m.state().restart_count == 1);
    CHECK(h.spawned(program::run));  // immediate again
}

TEST_CASE("past restart_limit the service is failed and left alone until u") {
    service_config c;
    c.restart_limit = 3;
    c.restart_delay = 10ms;
    harness h(c);
    h.letter(letter_event::up);
    h.exit(program::run, exit_status(1));  // restart 1, immediate
    for (int i = 0; i < 2; ++i) h.exit(program::run, exit_status(1)).fire();
    CHECK(h.m.state().restart_count == 3);
    h.exit(program::run, exit_status(1));
    CHECK(h.state() == service_state::failed);
    CHECK(h.m.state().restart_count == 3);  // the restarts done, not the one refused
    CHECK(!h.spawned(program::run));
    CHECK(!h.m.deadline());
    CHECK(!h.m.state().want_up);
    h.letter(letter_event::up);
    CHECK(h.spawned(program::run));
    CHECK(h.m.state().restart_count == 0);
}

TEST_CASE("d sends TERM and CONT to the tree, KILL after timeout-stop, then stop, then stopped") {
    service_config c = with_programs(false, false, true);
    c.stop_timeout = 2s;
    harness h(c);
    h.letter(letter_event::up).letter(letter_event::down);
    CHECK(h.signals() == std::vector{SIGTERM, SIGCONT});
    CHECK(h.watches_tree());
    CHECK(h.state() == service_state::stopping);
    CHECK(h.until_deadline() == 2s);
    h.fire();
    CHECK(h.signals() == std::vector{SIGKILL});
    h.exit(program::run, signal_status(SIGKILL), false);
    CHECK(!h.spawned(program::stop));  // the tree is not empty yet
    h.send(tree_empty{});
    CHECK(h.spawned(program::stop));
    h.exit(program::stop, exit_status(0));
    CHECK(h.state() == service_state::stopped);
    CHECK(!h.spawned(program::run));
}

TEST_CASE("a tree that empties before the main exit is reported waits for that exit") {
    harness h;
    h.letter(letter_event::up).letter(letter_event::down);
    h.send(tree_empty{});
    CHECK(h.state() == service_state::stopping);
    h.exit(program::run, signal_status(SIGTERM), true);
    CHECK(h.state() == service_state::stopped);
}

TEST_CASE("use_hangup adds HUP, and no_kill_signal abandons the tree instead of KILL") {
    service_config c;
    c.use_hangup = true;
    c.no_kill_signal = true;
    harness h(c);
    h.letter(letter_event::up).letter(letter_event::down);
    CHECK(h.signals() == std::vector{SIGHUP, SIGTERM, SIGCONT});
    h.fire();
    CHECK(h.signals().empty());
    CHECK(h.state() == service_state::stopped);
}

TEST_CASE("processes that survive KILL are abandoned after the grace period") {
    service_config c;
    c.kill_grace = 1s;
    harness h(c);
    h.letter(letter_event::up).letter(letter_event::down).fire();
    CHECK(h.signals() == std::vector{SIGKILL});
    CHECK(h.until_deadline() == 1s);
    h.fire();
    CHECK(h.state() == service_state::stopped);
}

TEST_CASE("the restart program gets nosh's arguments and its exit status decides") {
    harness h(with_programs(false, true, true));
    h.letter(letter_event::up);
    h.exit(program::run, signal_status(SIGTERM));
    CHECK(h.spawned(program::restart));
    CHECK(h.spawn_args() == std::vector<std::string>{"term", "TERM", "15"});
    CHECK(h.state() == service_state::starting);
    h.exit(program::restart, exit_status(0));
    CHECK(h.spawned(program::run));
    h.exit(program::run, exit_status(0));
    CHECK(h.spawn_args() == std::vector<std::string>{"exit", "0"});
    h.exit(program::restart, exit_status(1));
    CHECK(h.spawned(program::stop));
    h.exit(program::stop, 0);
    CHECK(h.state() == service_state::stopped);  // run had exited 0
}

TEST_CASE("a restart program that refuses after a crash leaves the service failed") {
    harness h(with_programs(false, true, false));
    h.letter(letter_event::up);
    h.exit(program::run, exit_status(2)).exit(program::restart, exit_status(1));
    CHECK(h.state() == service_state::failed);
}

TEST_CASE("restart arguments classify signals as nosh does") {
    using v = std::vector<std::string>;
    CHECK(service_machine::restart_args(exit_status(7)) == v{"exit", "7"});
    CHECK(service_machine::restart_args(signal_status(SIGKILL)) == v{"kill", "KILL", "9"});
    CHECK(service_machine::restart_args(signal_status(SIGINT)) == v{"term", "INT", "2"});
    CHECK(service_machine::restart_args(signal_status(SIGABRT, true)) ==
          v{"abort", "ABRT", "6", "core"});
    CHECK(service_machine::restart_args(signal_status(SIGSEGV, true)) ==
          v{"crash", "SEGV", "11", "core"});
    CHECK(service_machine::restart_args(signal_status(SIGUSR1)) == v{"crash", "10", "10"});
    CHECK(service_machine::restart_args(unknown_status) == v{"exit", "255"});
}

TEST_CASE("remain keeps the service ready with no process after run exits 0") {
    service_config c;
    c.remain = true;
    harness h(c);
    h.letter(letter_event::up).exit(program::run, exit_status(0), false);
    CHECK(h.state() == service_state::ready);
    CHECK(h.fx.empty() == h.published().empty());
    CHECK(h.signals().empty());  // leftovers stay while it is up
    h.letter(letter_event::down);
    CHECK(h.signals() == std::vector{SIGTERM, SIGCONT});
    h.send(tree_empty{});
    CHECK(h.state() == service_state::stopped);
}

TEST_CASE("a service without run is up at once (a target)") {
    service_config c;
    c.has_run = false;
    harness h(c);
    h.letter(letter_event::up);
    CHECK(h.fx.size() == 1);
    CHECK(h.state() == service_state::ready);
    h.letter(letter_event::down).send(tree_empty{});
    CHECK(h.state() == service_state::stopped);
}

TEST_CASE("ready_after_run passes through ready to stopped on exit 0 and fails otherwise") {
    service_config c;
    c.ready_by = readiness::after_run;
    harness h(c);
    h.letter(letter_event::up);
    CHECK(h.state() == service_state::running);
    h.send(became_ready{});
    CHECK(h.state() == service_state::running);  // only the exit counts
    h.exit(program::run, exit_status(0));
    CHECK(h.published() == std::vector{service_state::ready, service_state::stopped});
    CHECK(!h.m.state().want_up);
    h.letter(letter_event::up).exit(program::run, exit_status(1));
    CHECK(h.state() == service_state::failed);
    CHECK(!h.spawned(program::run));
}

TEST_CASE("ready_after_run with remain stays ready after run exits 0") {
    service_config c;
    c.ready_by = readiness::after_run;
    c.remain = true;
    harness h(c);
    h.letter(letter_event::up).exit(program::run, exit_status(0));
    CHECK(h.state() == service_state::ready);
    CHECK(h.m.state().ph == phase::up_idle);
}

TEST_CASE("a readiness protocol keeps the service running until ready") {
    service_config c;
    c.ready_by = readiness::notification_fd;
    c.start_timeout = 5s;
    harness h(c);
    h.letter(letter_event::up);
    CHECK(h.published() == std::vector{service_state::running});
    CHECK(h.until_deadline() == 5s);
    h.send(became_ready{});
    CHECK(h.published() == std::vector{service_state::ready});
    CHECK(!h.m.deadline());
}

TEST_CASE("a service not ready within timeout-start is killed and fails") {
    service_config c;
    c.ready_by = readiness::sd_notify;
    c.start_timeout = 1s;
    harness h(c);
    h.letter(letter_event::up).fire();
    CHECK(h.signals() == std::vector{SIGTERM, SIGCONT});
    h.exit(program::run, signal_status(SIGTERM));
    CHECK(h.state() == service_state::failed);
    CHECK(!h.spawned(program::run));
}

TEST_CASE("EXTEND_TIMEOUT_USEC pushes the start deadline but never pulls it in") {
    service_config c;
    c.ready_by = readiness::sd_notify;
    c.start_timeout = 1s;
    harness h(c);
    h.letter(letter_event::up);
    h.advance(900ms);
    h.send(extend_timeout{std::chrono::seconds(3)});
    CHECK(h.until_deadline() == 3s);
    h.send(extend_timeout{std::chrono::milliseconds(10)});
    CHECK(h.until_deadline() == 3s);
}

TEST_CASE("a missed watchdog aborts the main process and restarts the service") {
    service_config c;
    c.watchdog_timeout = 2s;
    harness h(c);
    h.letter(letter_event::up);
    CHECK(h.until_deadline() == 2s);
    h.advance(1500ms);
    h.send(watchdog_ping{});
    CHECK(h.until_deadline() == 2s);
    h.fire();
    CHECK(h.signals(signal_target::main) == std::vector{SIGABRT});
    h.exit(program::run, signal_status(SIGABRT, true));
    CHECK(h.spawned(program::run));
    CHECK(h.state() == service_state::ready);
}

TEST_CASE("leftovers in the tree after run exits are killed before the restart") {
    harness h;
    h.letter(letter_event::up).exit(program::run, exit_status(0), false);
    CHECK(h.signals() == std::vector{SIGTERM, SIGCONT});
    CHECK(!h.spawned(program::run));
    CHECK(h.state() == service_state::starting);
    h.send(tree_empty{});
    CHECK(h.spawned(program::run));
}

TEST_CASE("o runs once without restart, and O prevents the next restart") {
    harness h;
    h.letter(letter_event::once).exit(program::run, exit_status(0));
    CHECK(h.state() == service_state::stopped);
    h.letter(letter_event::once).exit(program::run, exit_status(1));
    CHECK(h.state() == service_state::failed);
    harness h2;
    h2.letter(letter_event::up).letter(letter_event::once_at_most);
    h2.exit(program::run, exit_status(0));
    CHECK(h2.state() == service_state::stopped);
    CHECK(!h2.spawned(program::run));
}

TEST_CASE("O on a stopped service does not start it") {
    harness h;
    h.letter(letter_event::once_at_most);
    CHECK(h.fx.empty());
    CHECK(h.state() == service_state::stopped);
}

TEST_CASE("u while the service goes down starts it again once it is down") {
    harness h(with_programs(false, false, true));
    h.letter(letter_event::up).letter(letter_event::down).letter(letter_event::up);
    CHECK(h.state() == service_state::stopping);
    h.exit(program::run, signal_status(SIGTERM));
    CHECK(h.spawned(program::stop));
    h.exit(program::stop, exit_status(0));
    CHECK(h.spawned(program::run));
    CHECK(h.state() == service_state::ready);
}

TEST_CASE("_ wants down without a signal and the next exit brings it down for good") {
    harness h;
    h.letter(letter_event::up).letter(letter_event::down_quiet);
    CHECK(h.fx.empty());
    h.exit(program::run, exit_status(0));
    CHECK(h.state() == service_state::stopped);
}

TEST_CASE("a start that outlives timeout-start is terminated, then killed, and fails") {
    service_config c = with_programs(true, false, false);
    c.start_timeout = 1s;
    c.stop_timeout = 1s;
    harness h(c);
    h.letter(letter_event::up).fire();
    CHECK(h.signals() == std::vector{SIGTERM, SIGCONT});
    h.fire();
    CHECK(h.signals() == std::vector{SIGKILL});
    h.exit(program::start, signal_status(SIGKILL));
    CHECK(h.state() == service_state::failed);
    CHECK(!h.spawned(program::run));
}

TEST_CASE("d during backoff cancels the restart") {
    harness h;
    h.letter(letter_event::up).exit(program::run, 0).exit(program::run, 0);
    CHECK(h.m.state().ph == phase::backoff);
    h.letter(letter_event::down);
    CHECK(h.state() == service_state::stopped);
    CHECK(!h.m.deadline());
}

TEST_CASE("a timer event before the deadline, or after it moved, changes nothing") {
    harness h;
    h.letter(letter_event::up).exit(program::run, 0).exit(program::run, 0);
    auto before = h.m.state().ph;
    h.send(timer_fired{});
    CHECK(h.fx.empty());
    CHECK(h.m.state().ph == before);
}

TEST_CASE("an exit of a program that is not the current one is recorded but ignored") {
    harness h;
    h.letter(letter_event::up).exit(program::stop, exit_status(0));
    CHECK(h.fx.empty());
    CHECK(h.state() == service_state::ready);
    CHECK(h.m.state().records[3].valid);
}

TEST_CASE("a machine rebuilt from its saved state carries on where the old one was") {
    harness h;
    h.letter(letter_event::up).exit(program::run, 0).exit(program::run, 0);
    machine_state saved = h.m.state();
    service_machine again(h.m.config(), saved);
    CHECK(again.public_state() == service_state::starting);
    auto fx = again.handle(timer_fired{}, *saved.deadline);
    REQUIRE(fx.size() == 2);
    CHECK(std::get<spawn>(fx[0]).prog == program::run);
    CHECK(std::get<publish>(fx[1]).state == service_state::ready);
}

TEST_CASE("an exit whose status was lost is a failure and counts as a restart") {
    harness h;
    h.letter(letter_event::up).exit(program::run, unknown_status);
    CHECK(h.spawned(program::run));
    CHECK(h.m.state().restart_count == 1);
}
