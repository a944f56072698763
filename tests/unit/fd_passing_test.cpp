#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ostream>

#include "common/fd_passing.hpp"

TEST_CASE("store names accept the documented alphabet and length only") {
    CHECK(hw::valid_fd_store_name("log:getty@tty1/stdin+1.x-y"));
    CHECK(!hw::valid_fd_store_name(""));
    CHECK(!hw::valid_fd_store_name(std::string(201, 'a')));
    CHECK(hw::valid_fd_store_name(std::string(200, 'a')));
    CHECK(!hw::valid_fd_store_name("has space"));
    CHECK(!hw::valid_fd_store_name(std::string_view("nul\0x", 5)));
}

TEST_CASE("a descriptor sent with a message arrives with it and still works") {
    int sp[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0);
    hw::unique_fd a(sp[0]), b(sp[1]);
    int p[2];
    REQUIRE(pipe2(p, O_CLOEXEC) == 0);
    hw::unique_fd pr(p[0]), pw(p[1]);
    REQUIRE(hw::send_message(a.get(), "STORE pipe", pw.get()));
    REQUIRE(hw::send_message(a.get(), "END"));
    auto first = hw::receive_message(b.get());
    REQUIRE(first);
    REQUIRE(*first);
    CHECK((*first)->text == "STORE pipe");
    REQUIRE((*first)->fds.size() == 1);
    REQUIRE(::write((*first)->fds[0].get(), "x", 1) == 1);
    char c = 0;
    CHECK(::read(pr.get(), &c, 1) == 1);
    CHECK(c == 'x');
    auto second = hw::receive_message(b.get());
    REQUIRE(second);
    CHECK((*second)->text == "END");
    CHECK((*second)->fds.empty());
    auto none = hw::receive_message(b.get());
    REQUIRE(none);
    CHECK(!*none);  // nothing waiting
    a.reset();
    auto gone = hw::receive_message(b.get());
    REQUIRE(gone);
    REQUIRE(*gone);
    CHECK((*gone)->eof);  // the peer closed
}

TEST_CASE("a datagram carries the sender's credentials when SO_PASSCRED is on") {
    int sp[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp) == 0);
    hw::unique_fd a(sp[0]), b(sp[1]);
    int one = 1;
    REQUIRE(setsockopt(b.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof one) == 0);
    REQUIRE(hw::send_message(a.get(), "READY=1"));
    auto m = hw::receive_message(b.get());
    REQUIRE(m);
    REQUIRE(*m);
    CHECK((*m)->text == "READY=1");
    REQUIRE((*m)->sender);
    CHECK((*m)->sender->pid == getpid());
}

TEST_CASE("a message longer than the limit is flagged, and its descriptors still taken") {
    int sp[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0);
    hw::unique_fd a(sp[0]), b(sp[1]);
    REQUIRE(hw::send_message(a.get(), std::string(100, 'x'), a.get()));
    auto m = hw::receive_message(b.get(), 10);
    REQUIRE(m);
    REQUIRE(*m);
    CHECK((*m)->truncated);
    CHECK((*m)->text.empty());
    CHECK((*m)->fds.size() == 1);
}
