#include "common/bundle.hpp"
#include "common/fd_passing.hpp"
#include "daemon/service_manager/sd_notify.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <ostream>

using namespace hw::svc;

TEST_CASE("notification text is parsed key by key and unknown keys are ignored") {
    auto m = parse_notify(
        "READY=1\nSTATUS=Processing: 3 of 5\nX_CUSTOM=1\nMAINPID=4711\n"
        "EXTEND_TIMEOUT_USEC=1500000\nWATCHDOG=1");
    CHECK(m.ready);
    CHECK(m.status == "Processing: 3 of 5");
    CHECK(m.main_pid == 4711);
    CHECK(m.extend_timeout == std::chrono::microseconds(1'500'000));
    CHECK(m.watchdog);
    CHECK(!m.watchdog_trigger);
    CHECK(!m.stopping);
}

// fuzz/corpus/sd_notify/crash-extend-timeout-overflow: the machine added the extension to its
// clock in nanoseconds, and 88888888888888881 us overflowed (undefined behaviour).
TEST_CASE("an extension longer than any timeout is capped, and the deadline stays on the clock") {
    auto m = parse_notify("EXTEND_TIMEOUT_USEC=88888888888888881");
    REQUIRE(m.extend_timeout);
    CHECK(*m.extend_timeout == hw::max_seconds);
    service_config cfg;
    cfg.ready_by = readiness::sd_notify;
    service_machine machine(cfg);
    const mono_time now = std::chrono::hours(240);
    machine.handle(letter_event::up, now);
    for (const auto& ev : notify_events(m, cfg.ready_by)) machine.handle(ev, now);
    CHECK(machine.deadline() == now + hw::max_seconds);
}

TEST_CASE("malformed values are ignored rather than guessed") {
    auto m = parse_notify("READY=yes\nMAINPID=-3\nMAINPID=abc\nEXTEND_TIMEOUT_USEC=\nnokey\n=1");
    CHECK(!m.ready);
    CHECK(!m.main_pid);
    CHECK(!m.extend_timeout);
    CHECK(parse_notify("WATCHDOG=trigger").watchdog_trigger);
    CHECK(parse_notify("STOPPING=1\nRELOADING=1").stopping);
}

TEST_CASE("a datagram arrives with the sender's pid and any fds it carries are closed") {
    char tmpl[] = "/tmp/hw-notify-test.XXXXXX";
    std::string dir = ::mkdtemp(tmpl);
    std::string path = dir + "/notify";
    auto sock = notify_socket::bind(path).value();
    struct stat st;
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0666);  // services running as other users may send
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    int client = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path.c_str());
    REQUIRE(hw::send_message(client, "BARRIER=1", fds[1], &addr));
    ::close(fds[1]);
    auto d = sock.receive().value();
    REQUIRE(d);
    CHECK(d->pid == ::getpid());
    CHECK(d->text == "BARRIER=1");
    char b;
    CHECK(::read(fds[0], &b, 1) == 0);  // every write end is closed: the barrier is answered
    CHECK(!sock.receive().value());
    ::close(fds[0]);
    ::close(client);
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
}
