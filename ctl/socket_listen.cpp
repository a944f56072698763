// socket-listen: makes the sockets its command line names, passes them to the program after "--"
// by systemd's socket activation protocol (sd_listen_fds(3)) and execs it. What converted
// .socket units run (ctl/README.md); the command line is parsed by listen_args.hpp.
//
// Contract: on success the program runs in this process (so LISTEN_PID is its pid) with the
// sockets at fds 3 .. 3+LISTEN_FDS-1, in the order given, and every other fd as it was, except
// that fds from 3 to 3+LISTEN_FDS-1 that were open are replaced. When LISTEN_PID already names
// this process (a socket-listen before it in the same exec chain, for another socket unit of
// the service), its LISTEN_FDS sockets stay where they are and ours follow them: the counts
// add up and the names join. Nothing is left behind on a failure but the sockets' files. Exit status: 100 for a wrong command line, 111 if a socket
// cannot be made, 126 or 127 if the program cannot be run (127: not found).
#include <fcntl.h>
#include <fmt/core.h>
#include <grp.h>
#include <net/if.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "common/unique_fd.hpp"
#include "listen_args.hpp"

namespace {

using namespace hw::ctl::listen;
using hw::unique_fd;

constexpr int exit_usage = 100, exit_failure = 111;

// A failed step: what was being done to which socket, and errno's text.
struct failure {
    std::string message;
};

failure failed(const listen_address& a, std::string_view step, int err = errno) {
    return {fmt::format("{}: {}: {}", a.text, step, std::strerror(err))};
}

// mkdir -p of the directories above `path`, each made with `mode`.
bool make_parents(const std::string& path, mode_t mode) {
    for (auto slash = path.find('/', 1); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
        std::string dir = path.substr(0, slash);
        if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) return false;
    }
    return true;
}

// A user's or group's id: from the database (`known`, which getpwnam/getgrnam found), else the
// name if it is a number; nullopt for an unknown name.
template <class Id>
std::optional<Id> id_of(const std::string& name, std::optional<Id> known) {
    if (known) return known;
    Id n = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
    if (name.empty() || ec != std::errc() || end != name.data() + name.size()) return std::nullopt;
    return n;
}

std::optional<uid_t> user_id(const std::string& name) {
    const passwd* p = ::getpwnam(name.c_str());
    return id_of<uid_t>(name, p ? std::optional(p->pw_uid) : std::nullopt);
}

std::optional<gid_t> group_id(const std::string& name) {
    const group* g = ::getgrnam(name.c_str());
    return id_of<gid_t>(name, g ? std::optional(g->gr_gid) : std::nullopt);
}

// The owner, group and mode that --owner, --group and --mode give a socket's or FIFO's file.
std::optional<failure> set_owner_and_mode(const listen_address& a, const listen_options& o) {
    std::string path = a.path();
    if (::chmod(path.c_str(), o.mode) != 0) return failed(a, "chmod");
    if (o.owner.empty() && o.group.empty()) return std::nullopt;
    auto uid = o.owner.empty() ? std::optional<uid_t>(static_cast<uid_t>(-1)) : user_id(o.owner);
    auto gid = o.group.empty() ? std::optional<gid_t>(static_cast<gid_t>(-1)) : group_id(o.group);
    if (!uid) return failure{fmt::format("{}: no such user: {}", a.text, o.owner)};
    if (!gid) return failure{fmt::format("{}: no such group: {}", a.text, o.group)};
    if (::chown(path.c_str(), *uid, *gid) != 0) return failed(a, "chown");
    return std::nullopt;
}

std::expected<unique_fd, failure> make_fifo(const listen_address& a, const listen_options& o) {
    if (!make_parents(a.text, o.directory_mode)) return std::unexpected(failed(a, "mkdir"));
    struct stat st;
    if (::mkfifo(a.text.c_str(), o.mode) != 0 &&
        !(errno == EEXIST && ::lstat(a.text.c_str(), &st) == 0 && S_ISFIFO(st.st_mode)))
        return std::unexpected(failed(a, "mkfifo"));
    // Read and write, so that the FIFO never reports end of file when its writers go.
    unique_fd fd(::open(a.text.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!fd) return std::unexpected(failed(a, "open"));
    if (auto f = set_owner_and_mode(a, o)) return std::unexpected(*f);
    return fd;
}

int socket_type(socket_kind kind) {
    switch (kind) {
        case socket_kind::datagram:
            return SOCK_DGRAM;
        case socket_kind::seqpacket:
            return SOCK_SEQPACKET;
        default:
            return SOCK_STREAM;
    }
}

// setsockopt() of an int, or the failure naming `what`.
std::optional<failure> set_int(const listen_address& a, int fd, int level, int name, int value,
                               std::string_view what) {
    if (::setsockopt(fd, level, name, &value, sizeof value) == 0) return std::nullopt;
    return failed(a, fmt::format("setsockopt {}", what));
}

std::optional<failure> set_options(const listen_address& a, int fd, int family,
                                   const listen_options& o) {
    bool inet = family == AF_INET || family == AF_INET6;
    bool stream = a.kind == socket_kind::stream;
    struct wanted {
        bool when;
        int level, name, value;
        std::string_view what;
    };
    int v6only = o.v6only == ipv6_only::only ? 1 : 0;
    const wanted all[] = {
        {inet, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR"},
        {family == AF_INET6 && o.v6only != ipv6_only::kernel_default, IPPROTO_IPV6, IPV6_V6ONLY,
         v6only, "IPV6_V6ONLY"},
        {o.reuse_port, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT"},
        {inet && o.free_bind, IPPROTO_IP, IP_FREEBIND, 1, "IP_FREEBIND"},
        {family == AF_INET && o.transparent, IPPROTO_IP, IP_TRANSPARENT, 1, "IP_TRANSPARENT"},
        {family == AF_INET6 && o.transparent, IPPROTO_IPV6, IPV6_TRANSPARENT, 1,
         "IPV6_TRANSPARENT"},
        {o.broadcast, SOL_SOCKET, SO_BROADCAST, 1, "SO_BROADCAST"},
        {o.pass_credentials, SOL_SOCKET, SO_PASSCRED, 1, "SO_PASSCRED"},
        {o.pass_security, SOL_SOCKET, SO_PASSSEC, 1, "SO_PASSSEC"},
        {o.keep_alive, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE"},
        {inet && stream && o.no_delay, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY"},
        {o.receive_buffer.has_value(), SOL_SOCKET, SO_RCVBUF, o.receive_buffer.value_or(0),
         "SO_RCVBUF"},
        {o.send_buffer.has_value(), SOL_SOCKET, SO_SNDBUF, o.send_buffer.value_or(0), "SO_SNDBUF"},
    };
    for (const auto& w : all)
        if (w.when)
            if (auto f = set_int(a, fd, w.level, w.name, w.value, w.what)) return f;
    return std::nullopt;
}

// bind(2) of a filesystem socket: its directory made, created with --mode (not after a window
// with the umask's), and a stale socket file from an earlier run replaced.
int bind_path(int fd, const listen_address& a, const sockaddr* sa, const listen_options& o) {
    std::string path = a.path();
    if (!make_parents(path, o.directory_mode)) return -1;
    mode_t old = ::umask(~o.mode & 0777);
    int r = ::bind(fd, sa, a.length);
    struct stat st;
    if (r != 0 && errno == EADDRINUSE && ::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) &&
        ::unlink(path.c_str()) == 0)
        r = ::bind(fd, sa, a.length);
    int saved = errno;
    ::umask(old);
    errno = saved;
    return r;
}

std::expected<unique_fd, failure> make_socket(const listen_address& a, const listen_options& o) {
    sockaddr_storage addr = a.addr;
    int family = a.family;
    int type = socket_type(a.kind) | SOCK_CLOEXEC;
    unique_fd fd(::socket(family, type, 0));
    if (!fd && a.every_address && errno == EAFNOSUPPORT) {  // no IPv6 here: 0.0.0.0 instead
        auto port = reinterpret_cast<const sockaddr_in6*>(&a.addr)->sin6_port;
        sockaddr_in in{};
        in.sin_family = AF_INET;
        in.sin_port = port;
        in.sin_addr.s_addr = htonl(INADDR_ANY);
        addr = {};
        std::memcpy(&addr, &in, sizeof in);
        family = AF_INET;
        fd.reset(::socket(family, type, 0));
    }
    if (!fd) return std::unexpected(failed(a, "socket"));
    if (!a.scope.empty()) {
        unsigned index = ::if_nametoindex(a.scope.c_str());
        if (index == 0) return std::unexpected(failed(a, "interface " + a.scope));
        reinterpret_cast<sockaddr_in6*>(&addr)->sin6_scope_id = index;
    }
    if (auto f = set_options(a, fd.get(), family, o)) return std::unexpected(*f);
    auto* sa = reinterpret_cast<const sockaddr*>(&addr);
    socklen_t length = family == AF_INET && a.family == AF_INET6 ? sizeof(sockaddr_in) : a.length;
    int r = a.path().empty() ? ::bind(fd.get(), sa, length) : bind_path(fd.get(), a, sa, o);
    if (r != 0) return std::unexpected(failed(a, "bind"));
    if (!a.path().empty())
        if (auto f = set_owner_and_mode(a, o)) return std::unexpected(*f);
    if (a.kind != socket_kind::datagram && ::listen(fd.get(), o.backlog) != 0)
        return std::unexpected(failed(a, "listen"));
    return fd;
}

// The sockets passed by a socket-listen earlier in this process's exec chain: their count and
// names (LISTEN_FDS and LISTEN_FDNAMES, when LISTEN_PID is ours); none otherwise.
struct passed_sockets {
    int count = 0;
    std::string names;
};
passed_sockets passed_before() {
    const char* pid = std::getenv("LISTEN_PID");
    const char* count = std::getenv("LISTEN_FDS");
    if (!pid || !count || std::to_string(::getpid()) != pid) return {};
    std::string_view text(count);
    int n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size() || n < 0 || n > 1024) return {};
    const char* names = std::getenv("LISTEN_FDNAMES");
    passed_sockets p{n, names ? names : ""};
    if (!names)  // named by nobody: "unknown", as sd_listen_fds_with_names() would say
        for (int i = 0; i < n; ++i) p.names += (i ? ":" : "") + std::string("unknown");
    return p;
}

// Moves `fds` to first, first+1, ... (without CLOEXEC, so that the program gets them).
std::optional<failure> place(std::vector<unique_fd>& fds, int first) {
    int above = first + static_cast<int>(fds.size());
    for (auto& fd : fds) {  // first out of the way of the targets, so no dup2 hits a source
        unique_fd moved(::fcntl(fd.get(), F_DUPFD_CLOEXEC, above));
        if (!moved) return failure{fmt::format("fcntl F_DUPFD: {}", std::strerror(errno))};
        fd = std::move(moved);
    }
    for (std::size_t i = 0; i < fds.size(); ++i)
        if (::dup2(fds[i].get(), first + static_cast<int>(i)) < 0)
            return failure{fmt::format("dup2: {}", std::strerror(errno))};
    return std::nullopt;  // the moved copies close on exec
}

int run(const listen_request& r) {
    std::vector<unique_fd> fds;
    for (const auto& a : r.sockets) {
        auto fd = a.kind == socket_kind::fifo ? make_fifo(a, r.options) : make_socket(a, r.options);
        if (!fd) {
            fmt::print(stderr, "socket-listen: error: {}\n", fd.error().message);
            return exit_failure;
        }
        fds.push_back(std::move(*fd));
    }
    passed_sockets before = passed_before();
    if (auto f = place(fds, 3 + before.count)) {
        fmt::print(stderr, "socket-listen: error: {}\n", f->message);
        return exit_failure;
    }
    std::string names = before.names;
    for (std::size_t i = 0; i < fds.size(); ++i)
        names += (names.empty() ? "" : ":") + r.options.name;
    std::size_t total = static_cast<std::size_t>(before.count) + fds.size();
    ::setenv("LISTEN_FDS", std::to_string(total).c_str(), 1);
    ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
    ::setenv("LISTEN_FDNAMES", names.c_str(), 1);
    std::vector<char*> argv;
    for (const auto& a : r.program) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    int err = errno;
    fmt::print(stderr, "socket-listen: error: unable to run {}: {}\n", r.program[0],
               std::strerror(err));
    return err == ENOENT ? 127 : 126;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    auto r = parse_arguments(args);
    if (!r) {
        fmt::print(stderr, "socket-listen: error: {}\n", r.error());
        return exit_usage;
    }
    if (r->help) {
        fmt::print("{}", usage());
        return 0;
    }
    return run(*r);
}
