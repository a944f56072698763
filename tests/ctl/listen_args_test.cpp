// socket-listen's command line (ctl/listen_args.hpp): addresses as systemd.socket(5) writes
// them, options, and the errors for what is wrong.
#include "ctl/listen_args.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>

#include <cstring>

using namespace hw::ctl::listen;

namespace {

const sockaddr_un& un(const listen_address& a) {
    return *reinterpret_cast<const sockaddr_un*>(&a.addr);
}
const sockaddr_in& in4(const listen_address& a) {
    return *reinterpret_cast<const sockaddr_in*>(&a.addr);
}
const sockaddr_in6& in6(const listen_address& a) {
    return *reinterpret_cast<const sockaddr_in6*>(&a.addr);
}

std::string v6_text(const in6_addr& addr) {
    char buf[INET6_ADDRSTRLEN];
    return ::inet_ntop(AF_INET6, &addr, buf, sizeof buf);
}

std::expected<listen_request, std::string> parse(std::vector<std::string> args) {
    return parse_arguments(args);
}

}  // namespace

TEST_CASE("a path is a socket in the filesystem, its length covering the NUL") {
    auto a = parse_address(socket_kind::stream, "/run/dbus/system_bus_socket");
    REQUIRE(a);
    CHECK(a->family == AF_UNIX);
    CHECK(std::string(un(*a).sun_path) == "/run/dbus/system_bus_socket");
    CHECK(a->length == offsetof(sockaddr_un, sun_path) + 28);
    CHECK(a->path() == "/run/dbus/system_bus_socket");
}

TEST_CASE("@name is in the abstract namespace: a leading NUL, no terminating one") {
    auto a = parse_address(socket_kind::datagram, "@heartwood/test");
    REQUIRE(a);
    CHECK(a->family == AF_UNIX);
    CHECK(un(*a).sun_path[0] == '\0');
    CHECK(std::string_view(un(*a).sun_path + 1, 14) == "heartwood/test");
    CHECK(a->length == offsetof(sockaddr_un, sun_path) + 15);
    CHECK(a->path().empty());
}

TEST_CASE("a socket name that does not fit sun_path is an error") {
    CHECK(parse_address(socket_kind::stream, "/" + std::string(106, 'x')));
    auto e = parse_address(socket_kind::stream, "/" + std::string(107, 'x'));
    REQUIRE(!e);
    CHECK(e.error().find("a socket name of 1 to 107 bytes") != std::string::npos);
    CHECK(!parse_address(socket_kind::stream, "@"));
}

TEST_CASE("PORT alone is every address: [::] that takes IPv4 too") {
    auto a = parse_address(socket_kind::stream, "8080");
    REQUIRE(a);
    CHECK(a->family == AF_INET6);
    CHECK(a->every_address);
    CHECK(ntohs(in6(*a).sin6_port) == 8080);
    CHECK(v6_text(in6(*a).sin6_addr) == "::");
}

TEST_CASE("A.B.C.D:PORT and [V6]:PORT, with a scope") {
    auto a = parse_address(socket_kind::stream, "127.0.0.1:53");
    REQUIRE(a);
    CHECK(a->family == AF_INET);
    CHECK(!a->every_address);
    CHECK(ntohs(in4(*a).sin_port) == 53);
    CHECK(ntohl(in4(*a).sin_addr.s_addr) == 0x7f000001);

    auto b = parse_address(socket_kind::datagram, "[::1]:5353");
    REQUIRE(b);
    CHECK(b->family == AF_INET6);
    CHECK(v6_text(in6(*b).sin6_addr) == "::1");
    CHECK(ntohs(in6(*b).sin6_port) == 5353);
    CHECK(b->scope.empty());

    auto c = parse_address(socket_kind::stream, "[fe80::1%eth0]:22");
    REQUIRE(c);
    CHECK(c->scope == "eth0");
    CHECK(v6_text(in6(*c).sin6_addr) == "fe80::1");
}

TEST_CASE("bad addresses and ports say what is wrong") {
    struct bad_case {
        socket_kind kind;
        const char* text;
        const char* why;
    };
    for (auto [kind, text, why] : {
             bad_case{socket_kind::stream, "0", "not an address"},
             bad_case{socket_kind::stream, "65536", "not an address"},
             bad_case{socket_kind::stream, "127.0.0.1:0", "from 1 to 65535"},
             bad_case{socket_kind::stream, "127.0.0.1:http", "from 1 to 65535"},
             bad_case{socket_kind::stream, "1.2.3:80", "not an IPv4 address"},
             bad_case{socket_kind::stream, "::1:80", "not an IPv4 address"},
             bad_case{socket_kind::stream, "[::g]:80", "not an IPv6 address"},
             bad_case{socket_kind::stream, "[::1%]:80", "empty interface"},
             bad_case{socket_kind::stream, "vsock:2:1234", "AF_VSOCK"},
             bad_case{socket_kind::stream, "", "empty address"},
             bad_case{socket_kind::seqpacket, "8080", "a path or @name"},
             bad_case{socket_kind::fifo, "run/fifo", "absolute path"},
         }) {
        CAPTURE(text);
        auto a = parse_address(kind, text);
        REQUIRE(!a);
        CHECK(a.error().find(why) != std::string::npos);
    }
}

TEST_CASE("sockets in order, options for all of them, the program after --") {
    auto r = parse({"--stream",
                    "/run/a.sock",
                    "--datagram=@b",
                    "--fifo",
                    "/run/c.fifo",
                    "--seqpacket",
                    "/run/d",
                    "--backlog=16",
                    "--mode",
                    "0600",
                    "--directory-mode=0700",
                    "--owner",
                    "daemon",
                    "--group=adm",
                    "--reuse-port",
                    "--no-delay",
                    "--ipv6-only",
                    "--receive-buffer",
                    "65536",
                    "--name",
                    "web",
                    "--",
                    "/usr/bin/daemon",
                    "--foreground",
                    "--"});
    REQUIRE(r);
    REQUIRE(r->sockets.size() == 4);
    CHECK(r->sockets[0].kind == socket_kind::stream);
    CHECK(r->sockets[1].kind == socket_kind::datagram);
    CHECK(r->sockets[2].kind == socket_kind::fifo);
    CHECK(r->sockets[2].path() == "/run/c.fifo");
    CHECK(r->sockets[3].kind == socket_kind::seqpacket);
    const auto& o = r->options;
    CHECK(o.backlog == 16);
    CHECK(o.mode == 0600);
    CHECK(o.directory_mode == 0700);
    CHECK(o.owner == "daemon");
    CHECK(o.group == "adm");
    CHECK(o.reuse_port);
    CHECK(o.no_delay);
    CHECK(!o.keep_alive);
    CHECK(o.v6only == ipv6_only::only);
    CHECK(o.receive_buffer == 65536);
    CHECK(!o.send_buffer);
    CHECK(o.name == "web");
    CHECK(r->program == std::vector<std::string>{"/usr/bin/daemon", "--foreground", "--"});
}

TEST_CASE("the defaults: mode 0666, the kernel's IPv6 setting, the name \"unknown\"") {
    auto r = parse({"--stream", "80", "--", "httpd"});
    REQUIRE(r);
    CHECK(r->options.mode == 0666);
    CHECK(r->options.directory_mode == 0755);
    CHECK(r->options.backlog == SOMAXCONN);
    CHECK(r->options.v6only == ipv6_only::kernel_default);
    CHECK(r->options.name == "unknown");
}

TEST_CASE("a wrong command line is an error that names the problem") {
    struct bad_case {
        std::vector<std::string> args;
        const char* why;
    };
    for (const auto& [args, why] : {
             bad_case{{"--stream", "/a"}, "no program to run after --"},
             bad_case{{"--stream", "/a", "--"}, "no program to run after --"},
             bad_case{{"--", "true"}, "no socket"},
             bad_case{{"--stream"}, "--stream needs a value"},
             bad_case{{"--listen", "/a", "--", "true"}, "unknown option --listen"},
             bad_case{{"/a", "--", "true"}, "options come first"},
             bad_case{{"--stream", "/a", "--mode", "0999", "--", "true"}, "not an octal mode"},
             bad_case{{"--stream", "/a", "--backlog", "0", "--", "true"}, "--backlog=0"},
             bad_case{{"--stream", "/a", "--name", "a:b", "--", "true"}, "without ':'"},
             bad_case{{"--stream", "/a", "--no-delay=yes", "--", "true"}, "takes no value"},
             bad_case{{"--stream", "1.2.3.4:99999", "--", "true"}, "from 1 to 65535"},
         }) {
        CAPTURE(why);
        auto r = parse(args);
        REQUIRE(!r);
        CHECK(r.error().find(why) != std::string::npos);
    }
}

TEST_CASE("--help asks for the usage, whatever follows") {
    auto r = parse({"--help"});
    REQUIRE(r);
    CHECK(r->help);
    CHECK(usage().find("--stream ADDR") != std::string_view::npos);
}
