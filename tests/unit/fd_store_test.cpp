#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ostream>

#include "daemon/fd_store.hpp"

using namespace hw::sysmgr;

TEST_CASE("store names accept the documented alphabet and length only") {
    CHECK(valid_store_name("log:getty@tty1/stdin+1.x-y"));
    CHECK(!valid_store_name(""));
    CHECK(!valid_store_name(std::string(201, 'a')));
    CHECK(valid_store_name(std::string(200, 'a')));
    CHECK(!valid_store_name("has space"));
    CHECK(!valid_store_name(std::string_view("nul\0x", 5)));
}

TEST_CASE("STORE and REMOVE parse; anything else is rejected") {
    auto s = parse_store_command("STORE pipe:foo");
    REQUIRE(s);
    CHECK(s->what == store_command::kind::store);
    CHECK(s->name == "pipe:foo");
    auto r = parse_store_command("REMOVE pipe:foo");
    REQUIRE(r);
    CHECK(r->what == store_command::kind::remove);
    CHECK(!parse_store_command("STORE "));
    CHECK(!parse_store_command("store x"));
    CHECK(!parse_store_command("FD x"));
    CHECK(!parse_store_command("STORE a b"));
}

TEST_CASE("the store replaces by name and refuses to grow past its bound") {
    fd_store store;
    auto null = [] { return hw::unique_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC)); };
    REQUIRE(store.store("a", null()));
    REQUIRE(store.store("a", null()));
    CHECK(store.size() == 1);
    for (std::size_t i = 1; i < fd_store::max_entries; ++i) {
        REQUIRE(store.store("n" + std::to_string(i), null()));
    }
    CHECK(store.size() == fd_store::max_entries);
    auto over = store.store("one-too-many", null());
    REQUIRE(!over);
    CHECK(over.error() == std::errc::no_space_on_device);
    store.remove("a");
    CHECK(store.store("one-too-many", null()));
}

TEST_CASE("a descriptor sent with a message arrives with it and still works") {
    int sp[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0);
    hw::unique_fd a(sp[0]), b(sp[1]);
    int p[2];
    REQUIRE(pipe2(p, O_CLOEXEC) == 0);
    hw::unique_fd pr(p[0]), pw(p[1]);
    REQUIRE(send_fd_message(a.get(), "STORE pipe", pw.get()));
    REQUIRE(send_fd_message(a.get(), "END", -1));
    auto first = receive_fd_message(b.get());
    REQUIRE(first);
    REQUIRE(*first);
    CHECK((*first)->text == "STORE pipe");
    REQUIRE((*first)->fd);
    REQUIRE(::write((*first)->fd.get(), "x", 1) == 1);
    char c = 0;
    CHECK(::read(pr.get(), &c, 1) == 1);
    CHECK(c == 'x');
    auto second = receive_fd_message(b.get());
    REQUIRE(second);
    CHECK((*second)->text == "END");
    CHECK(!(*second)->fd);
    auto none = receive_fd_message(b.get());
    REQUIRE(none);
    CHECK(!*none);  // nothing waiting
    a.reset();
    CHECK(!receive_fd_message(b.get()));  // peer gone
}
