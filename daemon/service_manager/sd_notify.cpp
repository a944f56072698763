#include "sd_notify.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cstring>

#include "bundle.hpp"
#include "common/bundle.hpp"
#include "common/fd_passing.hpp"

namespace hw::svc {

notify_message parse_notify(std::string_view text) {
    notify_message m;
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        auto eq = line.find('=');
        if (eq == std::string_view::npos) continue;
        std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
        if (key == "READY") {
            m.ready = value == "1";
        } else if (key == "STOPPING") {
            m.stopping = value == "1";
        } else if (key == "RELOADING") {
            m.reloading = value == "1";
        } else if (key == "WATCHDOG") {
            m.watchdog = value == "1";
            m.watchdog_trigger = value == "trigger";
        } else if (key == "STATUS") {
            m.status = std::string(value);
        } else if (key == "MAINPID") {
            if (auto n = parse_number(value); n && *n > 0 && *n < (1u << 22)) {
                m.main_pid = static_cast<pid_t>(*n);
            }
        } else if (key == "EXTEND_TIMEOUT_USEC") {
            // At most max_seconds, which the machine can add to its clock; longer means the
            // same anyway (for ever, to a person).
            if (auto n = parse_number(value)) {
                m.extend_timeout =
                    std::min<std::chrono::microseconds>(std::chrono::microseconds(*n), max_seconds);
            }
        }
    }
    return m;
}

std::vector<event> notify_events(const notify_message& m, readiness ready_by) {
    std::vector<event> events;
    if (m.ready && ready_by == readiness::sd_notify) events.emplace_back(became_ready{});
    if (m.reloading) events.emplace_back(reloading{});
    if (m.stopping) events.emplace_back(stopping_notice{});
    if (m.watchdog || m.watchdog_trigger) events.emplace_back(watchdog_ping{m.watchdog_trigger});
    if (m.extend_timeout) events.emplace_back(extend_timeout{*m.extend_timeout});
    return events;
}

result<notify_socket> notify_socket::bind(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return fail(std::errc::filename_too_long);
    std::memcpy(addr.sun_path, path.data(), path.size());
    unique_fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return fail();
    ::unlink(path.c_str());
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return fail();
    // Services that run as another user (setpriv, User= of a converted unit) must be able to
    // send too; the sender's pid (SO_PASSCRED) decides whose message it is, not the file mode.
    if (::chmod(path.c_str(), 0666) != 0) return fail();
    return adopt(std::move(fd));
}

result<notify_socket> notify_socket::adopt(unique_fd fd) {
    int one = 1;
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof one) != 0) return fail();
    int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) != 0) return fail();
    // A burst of services notifying at once must not lose datagrams.
    int size = 1 << 20;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    notify_socket s;
    s.fd_ = std::move(fd);
    return s;
}

result<std::optional<notify_datagram>> notify_socket::receive() {
    auto msg = receive_message(fd_.get(), 4096);
    if (!msg) return fail(msg.error());
    if (!*msg) return std::optional<notify_datagram>{};
    notify_datagram d;
    if ((*msg)->sender) {
        d.pid = (*msg)->sender->pid;
        d.uid = (*msg)->sender->uid;
    }
    // Descriptors that came along are closed when msg goes: that is how BARRIER=1 is
    // acknowledged. A datagram too long to read whole is ignored, as systemd does.
    if (!(*msg)->truncated) d.text = std::move((*msg)->text);
    return std::optional(std::move(d));
}

}  // namespace hw::svc
