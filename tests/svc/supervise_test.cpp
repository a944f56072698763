#include "daemon/service_manager/supervise.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <ostream>
#include <string>

using namespace hw::svc;

namespace {
std::uint64_t be(const status_bytes& b, std::size_t at, int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | std::to_integer<std::uint64_t>(b[at + i]);
    return v;
}
}  // namespace

TEST_CASE("the status file has nosh's 87-byte layout with a little-endian pid") {
    status_snapshot s;
    s.since_wall_ns = 1'700'000'000'123'456'789;
    s.pid = 0x01020304;
    s.paused = true;
    s.want = 'u';
    s.encore_state = 3;
    s.programs[1] = make_record(3 << 8, 1'700'000'001'000'000'005);
    s.programs[3] = make_record(SIGSEGV | 0x80, 0);
    auto b = encode_status(s);
    CHECK(b.size() == 87);
    CHECK(be(b, 0, 8) == 0x4000000000000000ull + 1'700'000'000);
    CHECK(be(b, 8, 4) == 123'456'789);
    CHECK(b[12] == std::byte{0x04});
    CHECK(b[15] == std::byte{0x01});
    CHECK(b[16] == std::byte{1});
    CHECK(b[17] == std::byte{'u'});
    CHECK(b[18] == std::byte{3});
    CHECK(b[19] == std::byte{0});       // start: never terminated
    CHECK(b[19 + 17] == std::byte{1});  // run: exited
    CHECK(be(b, 19 + 17 + 1, 4) == 3);  // exit code, big-endian
    CHECK(be(b, 19 + 17 + 5, 8) == 0x4000000000000000ull + 1'700'000'001);
    CHECK(be(b, 19 + 17 + 13, 4) == 5);
    CHECK(b[19 + 51] == std::byte{3});  // stop: signalled with core
    CHECK(be(b, 19 + 51 + 1, 4) == SIGSEGV);
}

TEST_CASE("a supervise directory gets lock, FIFOs and status, and a second supervisor is refused") {
    char tmpl[] = "/tmp/hw-supervise-test.XXXXXX";
    std::string dir = ::mkdtemp(tmpl);
    std::string path = dir + "/a/b/supervise";
    auto first = supervise_dir::open(path);
    REQUIRE(first);
    struct stat st {};
    REQUIRE(::stat((path + "/control").c_str(), &st) == 0);
    CHECK(S_ISFIFO(st.st_mode));
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat((path + "/ok").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0666);
    // "loaded" is: the ok FIFO has a reader.
    int ok = ::open((path + "/ok").c_str(), O_WRONLY | O_NONBLOCK);
    CHECK(ok >= 0);
    if (ok >= 0) ::close(ok);
    REQUIRE(first->write_status(encode_status({})));
    REQUIRE(::stat((path + "/status").c_str(), &st) == 0);
    CHECK(st.st_size == 87);
    auto second = supervise_dir::open(path);
    REQUIRE(!second);
    CHECK(second.error().find("locked") != std::string::npos);
    std::string cleanup = "rm -rf " + dir;
    CHECK(std::system(cleanup.c_str()) == 0);
}
