#include "ctl/plan.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <ostream>

#include "common/bundle_tree.hpp"

using hw::ctl::action;

namespace {

const std::string fixtures = HW_FIXTURES;

struct planned {
    hw::bundle_tree tree;
    std::expected<hw::ctl::plan, hw::ctl::plan_error> plan;

    std::uint32_t m(std::string_view name) const {
        auto id = tree.relations.find(name);
        REQUIRE(id);
        return plan->member_of(*id);
    }
    bool in(std::string_view name) const {
        auto id = tree.relations.find(name);
        return id && plan->member_of(*id) != hw::ctl::plan::not_member;
    }
    action act(std::string_view name) const { return plan->actions[m(name)]; }
    std::vector<std::string> waits(std::string_view name) const {
        std::vector<std::string> out;
        for (auto w : plan->waits_for.of(m(name))) out.emplace_back(tree.at(plan->members[w]).name);
        std::sort(out.begin(), out.end());
        return out;
    }
    std::vector<std::string> member_names() const {
        std::vector<std::string> out;
        for (auto id : plan->members) out.emplace_back(tree.at(id).name);
        std::sort(out.begin(), out.end());
        return out;
    }
};

// With `honour_down`, bundles with a down file are disabled, as system-control does.
planned make(const char* root, std::vector<std::string> start, std::vector<std::string> stop = {},
             bool honour_down = false) {
    hw::bundle_loader loader(hw::bundle_path({fixtures + "/" + root}));
    loader.load_all();  // as system-control does: reverse relationships need the whole tree
    hw::ctl::job_request req;
    for (auto& n : start) req.start.push_back(loader.load(n).value());
    for (auto& n : stop) req.stop.push_back(loader.load(n).value());
    planned p{std::move(loader).finish(), {}};
    if (honour_down) {
        for (const auto& b : p.tree.bundles) req.disabled.push_back(b.flags.down);
    }
    p.plan = hw::ctl::make_plan(p.tree.relations, req);
    return p;
}

using names = std::vector<std::string>;

}  // namespace

TEST_CASE("start pulls in wants, requires and the logger, nothing else") {
    auto p = make("basic", {"normal"});
    REQUIRE(p.plan);
    CHECK(p.member_names() ==
          names{"cache", "db", "getty", "multi-user", "normal", "web", "web-log"});
    CHECK(!p.in("api"));  // api/required-by/web: install-time backlink, followed by stops only
    for (auto& n : p.member_names()) CHECK(p.act(n) == action::start);
    CHECK(!p.in("shutdown"));  // web/stopped-by/shutdown is install-time only
    CHECK(p.plan->primary(p.m("normal")));
    CHECK(!p.plan->primary(p.m("db")));
    CHECK(hw::ctl::describe_reason(p.tree.relations, *p.plan, p.m("db")) ==
          "start normal -> wants web -> requires db");
}

TEST_CASE("a bundle disabled by down is not started through wants, but named it starts") {
    auto p = make("basic", {"normal"}, {}, true);  // web/wants/cache, and cache has down
    REQUIRE(p.plan);
    CHECK(!p.in("cache"));
    CHECK(p.in("web"));
    CHECK(p.in("db"));
    auto named = make("basic", {"cache"}, {}, true);
    REQUIRE(named.plan);
    CHECK(named.in("cache"));
}

TEST_CASE("after and before order members only; a starting bundle waits for what it is after") {
    auto p = make("basic", {"web"});
    REQUIRE(p.plan);
    CHECK(p.waits("web") == names{"db", "web-log"});
    CHECK(p.waits("db").empty());
    CHECK(p.waits("cache").empty());  // a want without after/ starts at the same time
    CHECK(p.plan->depth[p.m("web")] == 1);
    CHECK(p.plan->depth[p.m("db")] == 0);
    CHECK(p.plan->cycles.empty());
}

TEST_CASE("stop follows reverse requires and required-by, and reverses the order of two stops") {
    auto p = make("basic", {}, {"db"});
    REQUIRE(p.plan);
    CHECK(p.member_names() == names{"db", "web"});
    CHECK(p.act("web") == action::stop);
    CHECK(p.waits("db") == names{"web"});  // web is after db, so db stops after web
    CHECK(p.waits("web").empty());
    auto q = make("basic", {}, {"api"});
    REQUIRE(q.plan);
    CHECK(q.member_names() == names{"api", "web"});  // api/required-by/web
}

TEST_CASE("stopping a target does not stop what it wants") {
    auto p = make("basic", {}, {"normal"});
    REQUIRE(p.plan);
    CHECK(p.member_names() == names{"normal"});
}

TEST_CASE("conflicts stop their targets, and a start after a stop waits for it") {
    auto p = make("basic", {"shutdown"});
    REQUIRE(p.plan);
    CHECK(p.act("shutdown") == action::start);
    CHECK(p.act("web") == action::stop);
    CHECK(p.act("db") == action::stop);
    CHECK(p.act("getty") == action::stop);
    CHECK(p.waits("shutdown") == names{"db", "getty", "web"});
    CHECK(p.waits("db") == names{"web"});
    CHECK(hw::ctl::describe_reason(p.tree.relations, *p.plan, p.m("db")) ==
          "start shutdown -> conflicts db");
}

TEST_CASE("a bundle both started and stopped fails the plan, naming both ways it was reached") {
    auto p = make("basic", {"normal", "rescue"});
    REQUIRE(!p.plan);
    CHECK(p.plan.error().message ==
          "unable to plan the job: web would be both started (start normal -> wants web) and "
          "stopped (start rescue -> conflicts web)");
    auto q = make("basic", {"web"}, {"db"});
    REQUIRE(!q.plan);
    CHECK(q.plan.error().message.find("db would be both started (start web -> requires db) and "
                                      "stopped (stop db)") != std::string::npos);
}

TEST_CASE("an ordering cycle is found, printed as its path and broken by the documented rule") {
    auto p = make("cycles", {"all"});
    REQUIRE(p.plan);
    REQUIRE(p.plan->cycles.size() == 1);
    CHECK(hw::ctl::describe_cycle(p.tree.relations, p.plan->cycles[0]) == "a -> b -> c -> a");
    // The wait that closed the loop (c waits for a) is the one ignored.
    CHECK(p.waits("c").empty());
    CHECK(p.waits("b") == names{"c"});
    CHECK(p.waits("a") == names{"b", "d"});
    CHECK(p.plan->depth[p.m("a")] == 2);
}

TEST_CASE("the cycle rule does not depend on the order of names in the request") {
    auto p = make("cycles", {"c", "e", "b", "a", "d"});
    REQUIRE(p.plan);
    REQUIRE(p.plan->cycles.size() == 1);
    CHECK(hw::ctl::describe_cycle(p.tree.relations, p.plan->cycles[0]) == "a -> b -> c -> a");
    CHECK(p.waits("c").empty());
}

TEST_CASE("between stops the cycle runs the other way and is broken the same way") {
    auto p = make("cycles", {}, {"a", "b", "c"});
    REQUIRE(p.plan);
    REQUIRE(p.plan->cycles.size() == 1);
    CHECK(hw::ctl::describe_cycle(p.tree.relations, p.plan->cycles[0]) == "a -> c -> b -> a");
    CHECK(p.waits("b").empty());
    CHECK(p.waits("a") == names{"c"});
}
