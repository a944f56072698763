#include "ctl/boot_args.hpp"

#include <doctest/doctest.h>

#include <ostream>

using hw::ctl::boot_mode;

namespace {
hw::ctl::boot_decision parse(std::vector<std::string> args) {
    return hw::ctl::parse_boot_args(args);
}
}  // namespace

TEST_CASE("no arguments boot normally: sysinit, then normal") {
    auto d = parse({});
    CHECK(d.mode == boot_mode::normal);
    CHECK(d.signals == std::vector<int>{10, 0});
}

TEST_CASE("every spelling of rescue sends sysinit then rescue") {
    for (const char* a : {"-s", "--single", "1", "s", "S", "single", "rescue"}) {
        CAPTURE(a);
        auto d = parse({a});
        CHECK(d.mode == boot_mode::rescue);
        CHECK(d.signals == std::vector<int>{10, 1});
    }
}

TEST_CASE("emergency sends only SIGRTMIN+2, and wins over everything") {
    for (const char* a : {"-b", "--emergency", "b", "B", "emergency"}) {
        CAPTURE(a);
        CHECK(parse({a}).signals == std::vector<int>{2});
    }
    CHECK(parse({"s", "0", "b", "6"}).mode == boot_mode::emergency);
}

TEST_CASE("precedence: rescue > update > poweroff > powercycle > reboot > halt > normal") {
    CHECK(parse({"0", "s"}).mode == boot_mode::rescue);
    CHECK(parse({"update", "0"}).mode == boot_mode::update);
    CHECK(parse({"6", "0"}).mode == boot_mode::poweroff);
    CHECK(parse({"6", "c"}).mode == boot_mode::powercycle);
    CHECK(parse({"h", "6"}).mode == boot_mode::reboot);
    CHECK(parse({"3", "h"}).mode == boot_mode::halt);
    CHECK(parse({"0"}).signals == std::vector<int>{4});
    CHECK(parse({"6"}).signals == std::vector<int>{5});
    CHECK(parse({"H"}).signals == std::vector<int>{3});
}

TEST_CASE("powercycle reboots and update boots normally, each with a note") {
    auto c = parse({"C"});
    CHECK(c.signals == std::vector<int>{5});
    CHECK(c.notes.size() == 1);
    auto u = parse({"-o"});
    CHECK(u.signals == std::vector<int>{10, 0});
    CHECK(u.notes.size() == 1);
}

TEST_CASE("unknown words, -a, -f and -z with its value are ignored") {
    auto d = parse({"quiet", "-a", "-z", "s", "-f", "splash", "3"});
    CHECK(d.mode == boot_mode::normal);  // the "s" after -z is -z's value
    CHECK(d.ignored == std::vector<std::string>{"quiet", "splash"});
}

TEST_CASE("init signals are described with what process 1 does with them") {
    CHECK(hw::ctl::describe_init_signal(10) == "SIGRTMIN+10 (sysinit)");
    CHECK(hw::ctl::describe_init_signal(14) == "SIGRTMIN+14 (forced poweroff)");
    CHECK(hw::ctl::describe_init_signal(6) == "SIGRTMIN+6 (kexec)");
    CHECK(hw::ctl::describe_init_signal(16) == "SIGRTMIN+16 (forced kexec)");
    CHECK(hw::ctl::describe_init_signal(7) == "SIGRTMIN+7");
}
