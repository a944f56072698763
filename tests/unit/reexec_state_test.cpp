#include "daemon/system_manager/reexec_state.hpp"

#include <doctest/doctest.h>

#include <ostream>
#include <string>

using namespace hw::sysmgr;

namespace {

reexec_state sample() {
    reexec_state s;
    s.log_read = 5;
    s.log_write = 6;
    s.log_write_own = 7;
    s.console_children = 9;
    s.control_socket = 10;
    s.store_peer = 11;
    s.logger = {42, std::chrono::milliseconds(1500)};
    s.manager = {43, std::chrono::milliseconds(90)};
    s.jobs = {{channel::regular, target::normal, 77}};
    s.pending = {target::poweroff};
    s.exit_status = 3;
    s.store = {{"log:web", 12}, {"log:db@1", 13}};
    return s;
}

}  // namespace

TEST_CASE("a state survives encoding and decoding whole") {
    std::string error;
    auto back = decode(encode(sample()), error);
    REQUIRE_MESSAGE(back, error);
    CHECK(back->log_read == 5);
    CHECK(back->console_messages == -1);
    CHECK(back->store_peer == 11);
    CHECK(back->logger.pid == 42);
    CHECK(back->logger.uptime == std::chrono::milliseconds(1500));
    CHECK(back->manager.pid == 43);
    CHECK(back->shell == -1);
    REQUIRE(back->jobs.size() == 1);
    CHECK(back->jobs[0].on == channel::regular);
    CHECK(back->jobs[0].what == target::normal);
    CHECK(back->jobs[0].pid == 77);
    REQUIRE(back->pending.size() == 1);
    CHECK(back->pending[0] == target::poweroff);
    REQUIRE(back->store.size() == 2);
    CHECK(back->store[1].name == "log:db@1");
    CHECK(back->store[1].fd == 13);
    CHECK(back->exit_status == 3);
}

TEST_CASE("no exit status asked for stays none, and one outside 0-255 is refused") {
    auto s = sample();
    s.exit_status.reset();
    std::string error;
    auto back = decode(encode(s), error);
    REQUIRE_MESSAGE(back, error);
    CHECK(!back->exit_status);
    s.exit_status = 256;
    CHECK(!decode(encode(s), error));
}

TEST_CASE("the descriptors to keep are every named descriptor and every stored one") {
    auto fds = sample().descriptors();
    CHECK(fds == std::vector<int>{5, 6, 7, 9, 10, 11, 12, 13});
}

TEST_CASE("a record of another version, cut short, or with a bad line is refused whole") {
    std::string text = encode(sample()), error;
    CHECK(!decode("heartwood-reexec 2\nend\n", error));
    CHECK(error.find("not a heartwood-reexec 1") != std::string::npos);
    CHECK(!decode(text.substr(0, text.size() - 4), error));
    CHECK(error.find("cut short") != std::string::npos);
    for (std::string bad : {"job 2 normal 77", "job 0 nowhere 77", "store 12 bad name",
                            "pending", "log_read x", "surprise 1", "logger 42 -5"}) {
        std::string broken = text;
        broken.insert(broken.find("end\n"), bad + "\n");
        CHECK_MESSAGE(!decode(broken, error), bad);
        CHECK(error.find("malformed") != std::string::npos);
    }
}

TEST_CASE("target names parse back to their targets") {
    CHECK(parse_target("sysinit") == target::sysinit);
    CHECK(parse_target("emergency") == target::emergency);
    CHECK(!parse_target("multi-user"));
}

TEST_CASE("a pending or running kexec job survives re-execution by its name") {
    reexec_state s = sample();
    s.jobs = {{channel::regular, target::kexec, 78}};
    s.pending = {target::kexec, target::emergency};
    std::string text = encode(s), error;
    CHECK(text.find("job 0 kexec 78\n") != std::string::npos);
    auto back = decode(text, error);
    REQUIRE_MESSAGE(back, error);
    REQUIRE(back->jobs.size() == 1);
    CHECK(back->jobs[0].what == target::kexec);
    CHECK(back->pending == std::vector<target>{target::kexec, target::emergency});
}

// fuzz/corpus/reexec_state/crash-fd-twice, crash-uptime, crash-jobs-per-channel.
TEST_CASE("a record that would give one descriptor two owners, overflow the clock or resume "
          "two jobs on one channel is refused whole") {
    std::string text = encode(sample()), error;
    auto with = [&](std::string_view from, std::string_view to) {
        std::string changed = text;
        changed.replace(changed.find(from), from.size(), to);
        return changed;
    };
    CHECK(!decode(with("store 13 ", "store 5 "), error));
    CHECK(error == "descriptor 5 is named twice");
    CHECK(!decode(with("store_peer 11", "store_peer 12"), error));
    CHECK(!decode(with("logger 42 1500", "logger 42 9223372036854775"), error));
    CHECK(error.find("malformed") != std::string::npos);
    CHECK(decode(with("logger 42 1500", "logger 42 9223372036854"), error));
    CHECK(!decode(with("job 0 normal 77\n", "job 0 normal 77\njob 0 rescue 78\n"), error));
    CHECK(decode(with("job 0 normal 77\n", "job 0 normal 77\njob 1 emergency 78\n"), error));
}
