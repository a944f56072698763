// listen_args: what socket-listen (ctl/socket_listen.cpp) is asked to do, parsed without a
// system call, so that the unit tests and the fuzzer reach every branch.
//
// socket-listen is the chain-loader that converted socket units use: it creates the sockets and
// FIFOs named on its command line, puts them at fds 3, 4, ... in that order, sets LISTEN_FDS,
// LISTEN_PID and LISTEN_FDNAMES (systemd's sd_listen_fds(3) protocol) and execs the program
// after "--". Addresses are written as systemd.socket(5)'s ListenStream= and friends:
//   /path          a socket in the filesystem (AF_UNIX)
//   @name          a socket in the abstract namespace (AF_UNIX)
//   PORT           every address, IPv6 and IPv4 (only IPv4 where the kernel has no IPv6)
//   A.B.C.D:PORT   one IPv4 address
//   [V6]:PORT      one IPv6 address ([V6%IFACE]:PORT with a scope)
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hw::ctl::listen {

enum class socket_kind { stream, datagram, seqpacket, fifo };

struct listen_address {
    socket_kind kind = socket_kind::stream;
    std::string text;        // as written, for messages
    int family = AF_UNSPEC;  // AF_UNIX, AF_INET or AF_INET6; AF_UNSPEC for a FIFO
    sockaddr_storage addr{};
    socklen_t length = 0;
    bool every_address = false;  // PORT alone: [::] (IPv4 too unless IPv6-only), else 0.0.0.0
    std::string scope;           // the interface of [V6%IFACE]:PORT, resolved when binding

    // The path of a filesystem socket or FIFO; "" for the others.
    std::string path() const;
};

// Where IPv6 sockets take IPv4 connections too (BindIPv6Only=).
enum class ipv6_only { kernel_default, both, only };

struct listen_options {
    int backlog = SOMAXCONN;
    mode_t mode = 0666;            // of filesystem sockets and FIFOs
    mode_t directory_mode = 0755;  // of the directories made for them
    std::string owner, group;      // of filesystem sockets and FIFOs; "" keeps ours
    bool reuse_port = false, free_bind = false, transparent = false;
    bool pass_credentials = false, pass_security = false;
    bool keep_alive = false, no_delay = false, broadcast = false;
    ipv6_only v6only = ipv6_only::kernel_default;
    std::optional<int> receive_buffer, send_buffer;
    std::string name = "unknown";  // LISTEN_FDNAMES: the same name for every fd
};

struct listen_request {
    std::vector<listen_address> sockets;
    listen_options options;
    std::vector<std::string> program;  // what follows "--": never empty, unless `help`
    bool help = false;                 // --help: print usage() and do nothing else
};

// One address of the given kind ("/run/x.sock", "8080", "[::1]:53", ...); a FIFO takes a path.
std::expected<listen_address, std::string> parse_address(socket_kind kind, std::string_view text);

// One option (`name` without its "--", one of socket-listen's) with its value ("" for a flag)
// applied to `r`: a socket added, or an option set; the message if the value is wrong.
std::expected<void, std::string> apply_option(listen_request& r, std::string_view name,
                                              std::string_view value);

// The command line after the program's name.
std::expected<listen_request, std::string> parse_arguments(std::span<const std::string> args);

// What --help prints.
std::string_view usage();

}  // namespace hw::ctl::listen
