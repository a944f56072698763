#include "listen_args.hpp"

#include <arpa/inet.h>
#include <fmt/core.h>

#include <array>
#include <charconv>
#include <cstddef>
#include <cstring>

namespace hw::ctl::listen {

namespace {

// A whole decimal or (base 8) octal number within [low, high].
std::optional<long> number(std::string_view text, int base, long low, long high) {
    long value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    if (value < low || value > high) return std::nullopt;
    return value;
}

std::optional<in_port_t> port(std::string_view text) {
    auto p = number(text, 10, 1, 65535);
    if (!p) return std::nullopt;
    return htons(static_cast<in_port_t>(*p));
}

std::expected<listen_address, std::string> unix_address(listen_address a, std::string_view text) {
    bool abstract = text.front() == '@';
    auto name = abstract ? text.substr(1) : text;
    sockaddr_un un{};
    if (name.empty() || name.size() >= sizeof un.sun_path)
        return std::unexpected(
            fmt::format("{}: a socket name of 1 to {} bytes", text, sizeof un.sun_path - 1));
    if (name.find('\0') != std::string_view::npos)
        return std::unexpected(fmt::format("{}: a NUL in a socket name", text));
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path + (abstract ? 1 : 0), name.data(), name.size());
    a.family = AF_UNIX;
    // A path socket's length covers its terminating NUL; an abstract name's is exactly its bytes.
    a.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + 1);
    std::memcpy(&a.addr, &un, sizeof un);
    return a;
}

std::expected<listen_address, std::string> inet_address(listen_address a, std::string_view text) {
    auto bad = [&](std::string_view why) {
        return std::unexpected(fmt::format("{}: {}", text, why));
    };
    if (auto p = port(text)) {  // every address
        sockaddr_in6 in6{};
        in6.sin6_family = AF_INET6;
        in6.sin6_addr = in6addr_any;
        in6.sin6_port = *p;
        a.family = AF_INET6;
        a.every_address = true;
        a.length = sizeof in6;
        std::memcpy(&a.addr, &in6, sizeof in6);
        return a;
    }
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
        return bad("not an address: a path, @name, PORT, A.B.C.D:PORT or [V6]:PORT");
    auto p = port(text.substr(colon + 1));
    if (!p) return bad("the port is not a number from 1 to 65535");
    std::string host(text.substr(0, colon));
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
        if (auto percent = host.find('%'); percent != std::string::npos) {
            a.scope = host.substr(percent + 1);
            host.resize(percent);
            if (a.scope.empty()) return bad("an empty interface after '%'");
        }
        sockaddr_in6 in6{};
        in6.sin6_family = AF_INET6;
        in6.sin6_port = *p;
        if (::inet_pton(AF_INET6, host.c_str(), &in6.sin6_addr) != 1)
            return bad("not an IPv6 address in [...]");
        a.family = AF_INET6;
        a.length = sizeof in6;
        std::memcpy(&a.addr, &in6, sizeof in6);
        return a;
    }
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = *p;
    if (::inet_pton(AF_INET, host.c_str(), &in.sin_addr) != 1)
        return bad("not an IPv4 address (write an IPv6 one in [...])");
    a.family = AF_INET;
    a.length = sizeof in;
    std::memcpy(&a.addr, &in, sizeof in);
    return a;
}

struct option {
    std::string_view name;
    bool takes_value;
};
constexpr std::array<option, 23> options = {{
    {"stream", true},
    {"datagram", true},
    {"seqpacket", true},
    {"fifo", true},
    {"backlog", true},
    {"mode", true},
    {"directory-mode", true},
    {"owner", true},
    {"group", true},
    {"reuse-port", false},
    {"free-bind", false},
    {"transparent", false},
    {"pass-credentials", false},
    {"pass-security", false},
    {"keep-alive", false},
    {"no-delay", false},
    {"broadcast", false},
    {"ipv6-only", false},
    {"ipv6-and-ipv4", false},
    {"receive-buffer", true},
    {"send-buffer", true},
    {"name", true},
    {"help", false},
}};

const option* find_option(std::string_view name) {
    for (const auto& o : options)
        if (o.name == name) return &o;
    return nullptr;
}

// A name for LISTEN_FDNAMES: what sd_listen_fds_with_names() accepts.
bool valid_fd_name(std::string_view name) {
    if (name.empty() || name.size() > 255) return false;
    for (char c : name)
        if (c < 0x21 || c > 0x7e || c == ':') return false;
    return true;
}

}  // namespace

std::expected<void, std::string> apply_option(listen_request& r, std::string_view name,
                                              std::string_view value) {
    auto bad = [&](std::string_view what) {
        return std::unexpected(fmt::format("--{}={}: {}", name, value, what));
    };
    auto& o = r.options;
    constexpr std::array<std::pair<std::string_view, socket_kind>, 4> kinds = {{
        {"stream", socket_kind::stream},
        {"datagram", socket_kind::datagram},
        {"seqpacket", socket_kind::seqpacket},
        {"fifo", socket_kind::fifo},
    }};
    for (auto [kind_name, kind] : kinds)
        if (name == kind_name) {
            auto a = parse_address(kind, value);
            if (!a) return std::unexpected(a.error());
            r.sockets.push_back(std::move(*a));
            return {};
        }
    if (name == "backlog") {
        auto n = number(value, 10, 1, 1 << 30);
        if (!n) return bad("not a number from 1 up");
        o.backlog = static_cast<int>(*n);
    } else if (name == "mode" || name == "directory-mode") {
        auto m = number(value, 8, 0, 07777);
        if (!m) return bad("not an octal mode (0000 to 7777)");
        (name == "mode" ? o.mode : o.directory_mode) = static_cast<mode_t>(*m);
    } else if (name == "owner" || name == "group") {
        if (value.empty()) return bad("empty");
        (name == "owner" ? o.owner : o.group) = value;
    } else if (name == "receive-buffer" || name == "send-buffer") {
        auto n = number(value, 10, 1, 1L << 30);
        if (!n) return bad("not a number of bytes from 1 up");
        (name == "receive-buffer" ? o.receive_buffer : o.send_buffer) = static_cast<int>(*n);
    } else if (name == "name") {
        if (!valid_fd_name(value)) return bad("1 to 255 printable characters, without ':'");
        o.name = value;
    } else {
        constexpr std::array<std::pair<std::string_view, bool listen_options::*>, 8> flags = {{
            {"reuse-port", &listen_options::reuse_port},
            {"free-bind", &listen_options::free_bind},
            {"transparent", &listen_options::transparent},
            {"pass-credentials", &listen_options::pass_credentials},
            {"pass-security", &listen_options::pass_security},
            {"keep-alive", &listen_options::keep_alive},
            {"no-delay", &listen_options::no_delay},
            {"broadcast", &listen_options::broadcast},
        }};
        for (auto [flag, member] : flags)
            if (name == flag) o.*member = true;
        if (name == "ipv6-only") o.v6only = ipv6_only::only;
        if (name == "ipv6-and-ipv4") o.v6only = ipv6_only::both;
    }
    return {};
}

std::string listen_address::path() const {
    if (kind == socket_kind::fifo) return text;
    if (family == AF_UNIX && text.starts_with('/')) return text;
    return {};
}

std::expected<listen_address, std::string> parse_address(socket_kind kind, std::string_view text) {
    listen_address a;
    a.kind = kind;
    a.text = text;
    if (text.empty()) return std::unexpected("an empty address");
    if (kind == socket_kind::fifo) {
        if (!text.starts_with('/'))
            return std::unexpected(fmt::format("{}: a FIFO needs an absolute path", text));
        return a;
    }
    if (text.starts_with('/') || text.starts_with('@')) return unix_address(std::move(a), text);
    if (kind == socket_kind::seqpacket)
        return std::unexpected(
            fmt::format("{}: a sequential-packet socket is a path or @name", text));
    if (text.starts_with("vsock:"))
        return std::unexpected(fmt::format("{}: not supported: AF_VSOCK", text));
    return inet_address(std::move(a), text);
}

std::expected<listen_request, std::string> parse_arguments(std::span<const std::string> args) {
    listen_request r;
    std::size_t i = 0;
    for (; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (arg == "--") {
            ++i;
            break;
        }
        if (!arg.starts_with("--"))
            return std::unexpected(fmt::format("'{}': options come first, then -- PROGRAM", arg));
        arg.remove_prefix(2);
        auto equals = arg.find('=');
        std::string_view name = arg.substr(0, equals);
        const option* o = find_option(name);
        if (!o) return std::unexpected(fmt::format("unknown option --{} (try --help)", name));
        std::string_view value;
        if (o->takes_value && equals != std::string_view::npos) {
            value = arg.substr(equals + 1);
        } else if (o->takes_value) {
            if (++i == args.size()) return std::unexpected(fmt::format("--{} needs a value", name));
            value = args[i];
        } else if (equals != std::string_view::npos) {
            return std::unexpected(fmt::format("--{} takes no value", name));
        }
        if (name == "help") {
            r.help = true;
            return r;
        }
        if (auto ok = apply_option(r, name, value); !ok) return std::unexpected(ok.error());
    }
    r.program.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
    if (r.program.empty()) return std::unexpected("no program to run after --");
    if (r.sockets.empty())
        return std::unexpected(
            "no socket: name one with --stream, --datagram, --seqpacket or --fifo");
    return r;
}

std::string_view usage() {
    return R"(usage: socket-listen [OPTION...] SOCKET... -- PROGRAM [ARG...]

Creates the sockets, puts them at descriptors 3, 4, ... in the order given, sets LISTEN_FDS,
LISTEN_PID and LISTEN_FDNAMES (systemd's socket activation protocol) and runs PROGRAM in its
place. After another socket-listen in the same process (LISTEN_PID is ours), the sockets
follow the ones it passed. Exits 111 if a socket cannot be made, 100 for a wrong command line.

Sockets (addresses as systemd.socket(5) writes them):
  --stream ADDR       a listening stream socket: /path, @abstract, PORT, A.B.C.D:PORT, [V6]:PORT
  --datagram ADDR     a datagram socket, addresses as above
  --seqpacket ADDR    a listening sequential-packet socket: /path or @abstract
  --fifo PATH         a FIFO, opened for reading and writing

Options (for every socket):
  --backlog N         the listen queue (default: the kernel's maximum)
  --mode OCTAL        of filesystem sockets and FIFOs (default 0666)
  --directory-mode OCTAL  of the directories made for them (default 0755)
  --owner USER, --group GROUP   of filesystem sockets and FIFOs
  --name NAME         in LISTEN_FDNAMES for every socket (default "unknown")
  --reuse-port, --free-bind, --transparent, --broadcast, --keep-alive, --no-delay,
  --pass-credentials, --pass-security      the socket options of those names
  --ipv6-only, --ipv6-and-ipv4   IPv6 sockets take IPv6 only / IPv4 too (default: the kernel's)
  --receive-buffer BYTES, --send-buffer BYTES
)";
}

}  // namespace hw::ctl::listen
