#include "ctl/preset.hpp"

#include <doctest/doctest.h>

#include <ostream>

using hw::ctl::wildmat;

TEST_CASE("wildmat matches stars, question marks, sets, ranges and escapes") {
    CHECK(wildmat("*", "anything"));
    CHECK(wildmat("*", ""));
    CHECK(wildmat("getty@*", "getty@tty1"));
    CHECK(!wildmat("getty@*", "agetty@tty1"));
    CHECK(wildmat("a?c", "abc"));
    CHECK(!wildmat("a?c", "ac"));
    CHECK(wildmat("tty[0-9]", "tty7"));
    CHECK(!wildmat("tty[0-9]", "ttyS"));
    CHECK(wildmat("tty[!0-9]", "ttyS"));
    CHECK(wildmat("x[]]y", "x]y"));
    CHECK(wildmat("a\\*b", "a*b"));
    CHECK(!wildmat("a\\*b", "axb"));
    CHECK(wildmat("*-log", "web-log"));
    CHECK(wildmat("*a*b*", "xxaxxbxx"));
    CHECK(!wildmat("*a*b", "xxaxxbxx"));
    CHECK(wildmat("[a", "[a"));  // an unclosed set is a literal bracket
}

TEST_CASE("the first matching line decides, suffixes are stripped, bad lines are reported") {
    hw::ctl::preset_policy policy;
    hw::diagnostics problems;
    policy.add_file("10-a.preset", "# comment\n\nenable web.service\ndisable w*\n", problems);
    policy.add_file("90-b.preset", "; other comment\nenable *\nfrobnicate x\nenable\n", problems);
    CHECK(policy.enabled("web"));
    CHECK(!policy.enabled("wiki"));
    CHECK(policy.enabled("db"));
    REQUIRE(policy.match("wiki"));
    CHECK(policy.match("wiki")->file == "10-a.preset");
    CHECK(policy.match("wiki")->line == 4);
    REQUIRE(problems.size() == 2);
    CHECK(problems[0].file == "90-b.preset");
    CHECK(problems[0].line == 3);
    CHECK(problems[1].line == 4);
}

TEST_CASE("with no matching line the answer is enable") {
    hw::ctl::preset_policy policy;
    CHECK(policy.enabled("anything"));
    CHECK(!policy.match("anything"));
}
