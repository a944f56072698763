#include "ctl/job.hpp"

#include <doctest/doctest.h>

#include <ostream>

#include "common/bundle_tree.hpp"
#include "fake_control.hpp"

using namespace std::chrono_literals;
using hw::ctl::outcome;
using hw::ctl::testing::fake_control;
using hw::ctl::testing::service_script;

namespace {

const std::string fixtures = HW_FIXTURES;

struct job {
    hw::bundle_tree tree;
    hw::ctl::plan plan;
    fake_control fake;
    hw::ctl::job_options opts;
    hw::ctl::job_result result;

    job(const char* root, std::vector<std::string> start, std::vector<std::string> stop = {}) {
        hw::bundle_loader loader(hw::bundle_path({fixtures + "/" + root}));
        loader.load_all();
        hw::ctl::job_request req;
        for (auto& n : start) req.start.push_back(loader.load(n).value());
        for (auto& n : stop) req.stop.push_back(loader.load(n).value());
        tree = std::move(loader).finish();
        plan = hw::ctl::make_plan(tree.relations, req).value();
        opts.start_timeout = 1s;
        opts.stop_timeout = 1s;
        opts.kill_grace = 500ms;
    }
    int run(hw::ctl::job_observer* o = nullptr) {
        result = hw::ctl::run_job(tree, plan, fake, opts, o);
        return result.exit_status;
    }
    outcome of(std::string_view name) const {
        return result.members[plan.member_of(*tree.relations.find(name))].result;
    }
    std::string detail(std::string_view name) const {
        return result.members[plan.member_of(*tree.relations.find(name))].detail;
    }
};

}  // namespace

TEST_CASE("a start job loads everything, plumbs the logger and starts what is unblocked at once") {
    job j("basic", {"web"});
    CHECK(j.run() == 0);
    for (auto n : {"web", "db", "cache", "web-log"}) {
        CHECK(j.fake.called("load", n));
        CHECK(j.of(n) == outcome::done);
    }
    CHECK(j.fake.called("plumb", "web>web-log"));
    CHECK(j.fake.calls.front().what == "subscribe");
    // db, web-log and cache have no waits: all started at time 0.
    for (auto n : {"db", "web-log", "cache"}) CHECK(j.fake.when("start", n) == 0ms);
    // web waits for db and web-log, each ready after 10ms.
    CHECK(j.fake.when("start", "web") == 10ms);
    CHECK(j.fake.elapsed() == 20ms);
}

TEST_CASE("a service that is already ready is not started again") {
    job j("basic", {"web"});
    j.fake.set_running("db");
    CHECK(j.run() == 0);
    CHECK(j.of("db") == outcome::already);
    CHECK(!j.fake.called("start", "db"));
    CHECK(j.fake.when("start", "web") == 10ms);  // still waits for web-log
}

TEST_CASE("a failed requirement fails its dependents, which are never started") {
    job j("basic", {"web"});
    j.fake.scripts["db"].on_start = service_script::start_end::fails;
    CHECK(j.run() == 1);
    CHECK(j.of("db") == outcome::failed);
    CHECK(j.detail("db") == "exited 1");
    CHECK(j.of("web") == outcome::dependency);
    CHECK(j.detail("web") == "requires db");
    CHECK(!j.fake.called("start", "web"));
    CHECK(j.of("cache") == outcome::done);  // a want of web, not behind db
}

TEST_CASE("a failed want does not block the bundle that wants it") {
    job j("basic", {"web"});
    j.fake.scripts["cache"].on_start = service_script::start_end::fails;
    CHECK(j.run() == 0);
    CHECK(j.of("cache") == outcome::failed);
    CHECK(j.of("web") == outcome::done);
}

TEST_CASE("a start that never gets ready times out and fails its dependents") {
    job j("basic", {"web"});
    j.fake.scripts["db"].on_start = service_script::start_end::hangs;
    CHECK(j.run() == 1);
    CHECK(j.of("db") == outcome::timed_out);
    CHECK(j.detail("db") == "not ready after 1.0s");
    CHECK(j.of("web") == outcome::dependency);
    CHECK(j.fake.elapsed() == 1000ms);
}

TEST_CASE("a bundle's own timeout-start overrides the job's default") {
    job j("basic", {"sysinit"});
    j.opts.start_timeout = 90s;
    j.fake.scripts["mount-root"].on_start = service_script::start_end::hangs;
    CHECK(j.run() == 0);  // a want of sysinit: reported, but sysinit itself is fine
    CHECK(j.of("mount-root") == outcome::timed_out);
    CHECK(j.fake.elapsed() == 5000ms);
}

TEST_CASE("a zero timeout waits for ever, for as long as events come") {
    job j("basic", {"db"});
    j.opts.start_timeout = 0ms;
    j.fake.scripts["db"].start_takes = 3600s;
    CHECK(j.run() == 0);
    CHECK(j.fake.elapsed() == 3600s);
}

TEST_CASE("stops run in reverse order, dependents first") {
    job j("basic", {}, {"db"});
    j.fake.set_running("db");
    j.fake.set_running("web");
    CHECK(j.run() == 0);
    CHECK(j.fake.when("stop", "web") == 0ms);
    CHECK(j.fake.when("stop", "db") == 10ms);
    CHECK(j.of("db") == outcome::done);
}

TEST_CASE("stopping what is not loaded or not running finishes at once") {
    job j("basic", {}, {"db"});
    j.fake.states["web"] = hw::ctl::service_state::stopped;
    CHECK(j.run() == 0);
    CHECK(j.of("db") == outcome::already);
    CHECK(j.of("web") == outcome::already);
    CHECK(!j.fake.called("stop", "db"));
}

TEST_CASE("a stop that times out escalates to SIGKILL, then succeeds when the service dies") {
    job j("basic", {}, {"db"});
    j.fake.set_running("db");
    j.fake.scripts["db"].ignores_stop = true;
    CHECK(j.run() == 0);
    CHECK(j.fake.when("signal k", "db") == 1000ms);
    CHECK(j.of("db") == outcome::done);
}

TEST_CASE("conflicts are stopped before a target ordered after them starts") {
    job j("basic", {"shutdown"});
    for (auto n : {"web", "db", "getty"}) j.fake.set_running(n);
    CHECK(j.run() == 0);
    CHECK(j.fake.when("stop", "web") == 0ms);
    CHECK(j.fake.when("stop", "getty") == 0ms);
    CHECK(j.fake.when("stop", "db") == 10ms);
    CHECK(j.fake.when("start", "shutdown") == 20ms);
    CHECK(j.of("shutdown") == outcome::done);
}

TEST_CASE("a bundle that cannot be loaded fails, and so do those that require it") {
    job j("basic", {"web"});
    j.fake.scripts["db"].load_fails = true;
    CHECK(j.run() == 1);
    CHECK(j.of("db") == outcome::failed);
    CHECK(j.detail("db") == "unable to load: no such service directory");
    CHECK(j.of("web") == outcome::dependency);
}

TEST_CASE("a missing requirement fails without a request, and fails what requires it") {
    job j("missing", {"normal"});
    CHECK(j.run() == 0);  // normal only wants app
    CHECK(j.of("uninstalled-db") == outcome::failed);
    CHECK(j.detail("uninstalled-db") ==
          "no such bundle: " + fixtures + "/missing/services/uninstalled-db");
    CHECK(!j.fake.called("load", "uninstalled-db"));
    CHECK(j.of("app") == outcome::dependency);
    CHECK(!j.fake.called("start", "app"));
    CHECK(j.of("normal") == outcome::done);
}

TEST_CASE("losing the service-manager ends the job with exit status 111") {
    job j("basic", {"web"});
    j.fake.lose_connection_on_next_event = true;
    CHECK(j.run() == 111);
    CHECK(j.result.system_error == "connection reset by peer");
    CHECK(j.of("web") == outcome::failed);
}

TEST_CASE("members in an ordering cycle still all run, in the order left after breaking it") {
    job j("cycles", {"all"});
    CHECK(j.run() == 0);
    CHECK(j.fake.when("start", "c") == 0ms);
    CHECK(j.fake.when("start", "d") == 0ms);
    CHECK(j.fake.when("start", "b") == 10ms);
    CHECK(j.fake.when("start", "a") == 20ms);
}

namespace {
struct recorder : hw::ctl::job_observer {
    std::vector<std::string> events;
    std::vector<std::size_t> tick_waiting;
    void on_event(const hw::ctl::job_event& e) override {
        events.push_back(std::string(hw::ctl::job_event_name(e.kind)) + " " +
                         std::to_string(e.member) + " " + std::string(e.detail));
    }
    void on_tick(hw::ctl::clock::time_point, std::span<const hw::ctl::in_progress> w, std::size_t,
                 std::size_t) override {
        tick_waiting.push_back(w.size());
    }
};
}  // namespace

TEST_CASE("an observer sees every event and a progress tick while something is in progress") {
    job j("basic", {"db"});
    j.fake.scripts["db"].start_takes = 2500ms;
    j.opts.start_timeout = 10s;
    j.opts.tick = 1s;
    recorder r;
    CHECK(j.run(&r) == 0);
    CHECK(r.tick_waiting == std::vector<std::size_t>{1, 1});
    CHECK(r.events ==
          std::vector<std::string>{"load 0 ", "unblocked 0 ", "start 0 ", "finished 0 done"});
}
