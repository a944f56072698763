#include "ctl/install.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <ostream>

#include "scratch.hpp"

namespace {

const std::string fixtures = HW_FIXTURES;

// A private copy of the basic fixture, removed at the end.
struct scratch : hw::test::scratch_dir {
    scratch() : scratch_dir("hw-install") {
        REQUIRE(std::system(("cp -a " + fixtures + "/basic " + top + "/").c_str()) == 0);
        dir = top + "/basic";
    }
};

}  // namespace

TEST_CASE("enable links into wanted-by, stopped-by and requires targets and removes down") {
    scratch s;
    hw::bundle_path search({s.dir});
    auto plan = hw::ctl::plan_install(search, s.dir + "/services/web", true, "");
    CHECK(plan.problems.empty());
    CHECK(plan.name == "web");
    CHECK(hw::ctl::apply_install(plan).empty());
    CHECK(s.link("targets/multi-user/wants/web") == s.dir + "/services/web");
    CHECK(s.link("targets/shutdown/after/web") == "../../../services/web");  // already there
    CHECK(s.link("services/db/required-by/web") == s.dir + "/services/web");
    CHECK(hw::ctl::is_enabled(s.dir + "/services/web"));
    CHECK(hw::ctl::apply_install(plan).empty());  // again: nothing to do, no error
}

TEST_CASE("disable removes exactly those links and creates down; enable undoes it") {
    scratch s;
    hw::bundle_path search({s.dir});
    auto enable = hw::ctl::plan_install(search, s.dir + "/services/web", true, "");
    REQUIRE(hw::ctl::apply_install(enable).empty());
    auto disable = hw::ctl::plan_install(search, s.dir + "/services/web", false, "");
    CHECK(hw::ctl::apply_install(disable).empty());
    CHECK(!s.exists("targets/multi-user/wants/web"));
    CHECK(!s.exists("targets/shutdown/conflicts/web"));
    CHECK(!s.exists("services/db/required-by/web"));
    CHECK(s.exists("targets/multi-user/wants/getty"));  // another bundle's link stays
    CHECK(!hw::ctl::is_enabled(s.dir + "/services/web"));
    CHECK(hw::ctl::apply_install(enable).empty());
    CHECK(hw::ctl::is_enabled(s.dir + "/services/web"));
}

TEST_CASE("a link that exists and leads elsewhere is reported and left alone") {
    scratch s;
    ::mkdir((s.dir + "/targets/multi-user/wants").c_str(), 0755);  // exists in the fixture
    REQUIRE(::symlink("../../../services/db", (s.dir + "/targets/multi-user/wants/web").c_str()) ==
            0);
    hw::bundle_path search({s.dir});
    auto plan = hw::ctl::plan_install(search, s.dir + "/services/web", true, "");
    auto problems = hw::ctl::apply_install(plan);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].file == s.dir + "/targets/multi-user/wants/web");
    CHECK(problems[0].message == "unable to link: it exists and points to ../../../services/db");
    CHECK(s.link("targets/multi-user/wants/web") == "../../../services/db");
    auto off = hw::ctl::plan_install(search, s.dir + "/services/web", false, "");
    CHECK(hw::ctl::apply_install(off).size() == 1);  // "left alone", and still there
    CHECK(s.exists("targets/multi-user/wants/web"));
}

TEST_CASE("link texts drop the --root prefix so an image works once booted") {
    scratch s;
    std::string root = s.dir.substr(0, s.dir.rfind('/'));
    hw::bundle_path search({s.dir});
    auto plan = hw::ctl::plan_install(search, s.dir + "/services/web", true, root);
    bool found = false;
    for (const auto& a : plan.actions)
        if (a.path.ends_with("/multi-user/wants/web")) found = a.target == "/basic/services/web";
    CHECK(found);
}

TEST_CASE("a dangling wanted-by entry is looked up by name on the search path") {
    scratch s;
    REQUIRE(::symlink("/nonexistent/targets/sysinit",
                      (s.dir + "/services/web/wanted-by/sysinit").c_str()) == 0);
    REQUIRE(::symlink("/nonexistent/targets/nothing",
                      (s.dir + "/services/web/wanted-by/nothing").c_str()) == 0);
    hw::bundle_path search({s.dir});
    auto plan = hw::ctl::plan_install(search, s.dir + "/services/web", true, "");
    REQUIRE(plan.problems.size() == 1);
    CHECK(plan.problems[0].message == "no bundle nothing to link into");
    CHECK(hw::ctl::apply_install(plan).empty());
    CHECK(s.link("targets/sysinit/wants/web") == s.dir + "/services/web");
}
