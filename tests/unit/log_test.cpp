#include "common/log.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <ostream>
#include <string>

#include "common/unique_fd.hpp"

namespace {

// What is waiting in the pipe's read end (non-blocking).
std::string drain(int fd) {
    std::string out;
    char buf[8192];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
        out.append(buf, static_cast<std::size_t>(n));
    return out;
}

}  // namespace

TEST_CASE("a line the primary sink refuses goes to a kmsg fallback with the priority in front") {
    int p[2];
    REQUIRE(::pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
    hw::unique_fd read_end(p[0]), write_end(p[1]);
    hw::log::set_program("log-test");
    hw::log::set_primary(-1);
    hw::log::set_fallback(write_end.get(), true);
    hw::log::error("unable to {} {}", "open", "the door");
    CHECK(drain(read_end.get()) == "<3>log-test: error: unable to open the door\n");

    std::string longest(hw::log::max_line * 2, 'x');  // cut to max_line, prefix still in front
    hw::log::write(hw::log::severity::critical, longest);
    std::string got = drain(read_end.get());
    CHECK(got.size() == 3 + hw::log::max_line);
    CHECK(got.starts_with("<2>log-test: critical: xxx"));
    CHECK(got.ends_with("xxx\n"));

    hw::log::set_fallback(-1, false);
    hw::log::set_primary(2);
}
