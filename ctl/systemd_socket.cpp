// The socket unit of a converted service (see systemd_converter.hpp). systemd makes the sockets
// of X.socket itself and passes them to X.service; here the service's run program makes them,
// with socket-listen (ctl/socket_listen.cpp) before its main command and before any privilege
// drop, and passes them by the same protocol (LISTEN_FDS). So the sockets exist while the
// service runs and are made again at each restart; the service starts with its bundle, not on
// the first connection. Accept=yes (a service instance per connection) is not converted.
#include <fmt/core.h>

#include <array>

#include "listen_args.hpp"
#include "systemd_converter.hpp"

namespace hw::ctl::systemd {

namespace {

using listen::socket_kind;

struct listen_key {
    std::string_view key, option;
};
constexpr std::array<listen_key, 4> listen_keys = {{
    {"ListenStream", "stream"},
    {"ListenDatagram", "datagram"},
    {"ListenSequentialPacket", "seqpacket"},
    {"ListenFIFO", "fifo"},
}};
constexpr std::array<std::string_view, 4> unsupported_listens = {
    "ListenNetlink", "ListenSpecial", "ListenMessageQueue", "ListenUSBFunction"};

// [Socket] settings that are socket-listen options of the same meaning: booleans (a flag when
// yes), then values.
constexpr std::array<listen_key, 8> flag_keys = {{
    {"ReusePort", "reuse-port"},
    {"FreeBind", "free-bind"},
    {"Transparent", "transparent"},
    {"Broadcast", "broadcast"},
    {"PassCredentials", "pass-credentials"},
    {"PassSecurity", "pass-security"},
    {"KeepAlive", "keep-alive"},
    {"NoDelay", "no-delay"},
}};
constexpr std::array<listen_key, 5> value_keys = {{
    {"Backlog", "backlog"},
    {"SocketMode", "mode"},
    {"DirectoryMode", "directory-mode"},
    {"SocketUser", "owner"},
    {"SocketGroup", "group"},
}};

}  // namespace

// One socket-listen per socket unit, chained: each passes its sockets after the ones before.
void converter::sockets(bool oneshot) {
    for (const auto& socket : unit_.sockets) {
        socket_unit(socket);
        if (oneshot)
            problems_.push_back({diagnostic::level::error, socket.path, 0,
                                 "not supported: a socket unit for a Type=oneshot service"});
    }
}

// One socket unit: its socket-listen added to listen_, its files to removed_files_, its [Install]
// used if the service has none.
void converter::socket_unit(const unit_source& socket) {
    auto name = parse_unit_name(socket.name);
    if (!name) {
        problems_.push_back({diagnostic::level::error, socket.path, 0,
                             fmt::format("'{}' is not a unit name", socket.name)});
        return;
    }
    specifiers sp(*name, socket.path);
    settings s(socket.assignments);
    s.last("Unit", "Description");
    s.last("Unit", "Documentation");
    s.last("Unit", "DefaultDependencies");  // a socket's own ordering: none here
    if (const assignment* a = s.last("Socket", "Accept"); a && parse_boolean(a->value) != false)
        error(*a, fmt::format("Accept={}: not supported (a service instance per connection); only "
                              "Accept=no converts",
                              a->value));
    if (const assignment* a = s.last("Socket", "Service")) {
        auto target = sp.expand_text(a->value);
        auto ref = target ? bundle_for_unit(*target)
                          : std::expected<bundle_ref, std::string>(std::unexpected(target.error()));
        if (!ref || *ref != out_.self)
            error(*a,
                  fmt::format("Service={}: not supported: a socket for another service", a->value));
    }
    for (std::string_view key : unsupported_listens)
        for (const assignment* a : s.list("Socket", key))
            error(*a, fmt::format("{}=: not supported (only ListenStream=, ListenDatagram=, "
                                  "ListenSequentialPacket= and ListenFIFO= convert)",
                                  key));

    listen::listen_request checked;  // what socket-listen will be asked, checked as it will
    std::vector<std::string> args = {"socket-listen"};
    auto option = [&](const assignment& a, std::string_view opt, std::string_view value) {
        if (auto ok = listen::apply_option(checked, opt, value); !ok)
            return error(a, fmt::format("{}={}: {}", a.key, a.value, ok.error()));
        args.push_back(fmt::format("--{}", opt));
        if (!value.empty()) args.push_back(sh_quote(value));
    };
    std::vector<std::string> paths;
    bool listens = false;  // an address is given (if a bad one, that is its own error)
    for (auto [key, opt] : listen_keys)
        for (const assignment* a : s.list("Socket", key)) {
            listens = true;
            auto address = sp.expand_text(a->value);
            if (!address) {
                error(*a, fmt::format("{}=: {}", key, address.error()));
                continue;
            }
            option(*a, opt, *address);
            if (address->starts_with('/')) paths.push_back(sh_quote(*address));
        }
    if (!listens)
        problems_.push_back({diagnostic::level::error, socket.path, 0,
                             "no ListenStream=, ListenDatagram=, ListenSequentialPacket= or "
                             "ListenFIFO=: nothing to listen on"});
    for (auto [key, opt] : flag_keys)
        if (const assignment* a = s.last("Socket", key)) {
            auto b = parse_boolean(a->value);
            if (!b) error(*a, fmt::format("{}={}: not a boolean (yes or no)", key, a->value));
            if (b.value_or(false)) option(*a, opt, "");
        }
    for (auto [key, opt] : value_keys)
        if (const assignment* a = s.last("Socket", key)) {
            auto value = sp.expand_text(a->value);
            if (!value)
                error(*a, fmt::format("{}=: {}", key, value.error()));
            else
                option(*a, opt, *value);
        }
    for (std::string_view key : {"ReceiveBuffer", "SendBuffer"})
        if (const assignment* a = s.last("Socket", key)) {
            auto bytes = parse_size(a->value);
            if (!bytes || *bytes > (1U << 30)) {
                error(*a,
                      fmt::format("{}={}: not a size up to 1G (like 65536, 256K)", key, a->value));
                continue;
            }
            option(*a, key == "ReceiveBuffer" ? "receive-buffer" : "send-buffer",
                   std::to_string(*bytes));
        }
    if (const assignment* a = s.last("Socket", "BindIPv6Only")) {
        if (a->value == "ipv6-only")
            option(*a, "ipv6-only", "");
        else if (a->value == "both")
            option(*a, "ipv6-and-ipv4", "");
        else if (a->value != "default")
            error(*a, fmt::format("BindIPv6Only={}: not default, both or ipv6-only", a->value));
    }
    const assignment* fd_name = s.last("Socket", "FileDescriptorName");
    auto expanded = fd_name ? sp.expand_text(fd_name->value)
                            : std::expected<std::string, std::string>(socket.name);
    if (!expanded)
        error(*fd_name, fmt::format("FileDescriptorName=: {}", expanded.error()));
    else if (auto ok = listen::apply_option(checked, "name", *expanded); !ok)
        problems_.push_back({diagnostic::level::error, socket.path, fd_name ? fd_name->line : 0,
                             fmt::format("FileDescriptorName={}: {}", *expanded, ok.error())});
    else
        args.insert(args.begin() + 1, {"--name", sh_quote(*expanded)});
    if (const assignment* a = s.last("Socket", "RemoveOnStop")) {
        auto b = parse_boolean(a->value);
        if (!b) error(*a, fmt::format("RemoveOnStop={}: not a boolean (yes or no)", a->value));
        if (b.value_or(false))
            removed_files_.insert(removed_files_.end(), paths.begin(), paths.end());
    }
    socket_install(s, sp);
    for (const assignment* a : s.unused())
        if (!a->section.starts_with("X-"))
            warn(*a, fmt::format("unused: [{}] {}= of the socket unit", a->section, a->key));
    for (const auto& arg : args) listen_ += (listen_.empty() ? "" : " ") + arg;
    listen_ += " --";
}

// The socket's [Install] when the service has none of its own (a socket-activated service is
// usually enabled through its socket): WantedBy=sockets.target is multi-user, the target of the
// services of a running system, since the socket exists only while its service runs.
void converter::socket_install(settings& s, const specifiers& sp) {
    if (!set_.list("Install", "WantedBy").empty() || !set_.list("Install", "RequiredBy").empty())
        return;  // the service's own, by relationships(); the socket's are reported unused
    for (std::string_view key : {"WantedBy", "RequiredBy"})
        for (const assignment* a : s.list("Install", key))
            for (const auto& w : split_words(a->value).value_or(std::vector<std::string>{})) {
                auto unit = sp.expand_text(w);
                if (!unit) {
                    error(*a, fmt::format("{}=: {}", key, unit.error()));
                    continue;
                }
                auto ref = installed_into(*unit);
                if (!ref)
                    warn(*a, fmt::format("{}={}: {}; left out", key, *unit, ref.error()));
                else
                    add_link("wanted-by", *ref);
            }
}

}  // namespace hw::ctl::systemd
