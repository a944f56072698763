#include "sd_notify.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "bundle.hpp"

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
            if (auto n = parse_number(value)) m.extend_timeout = std::chrono::microseconds(*n);
        }
    }
    return m;
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
    char text[4096];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int) * 16)];
    iovec iov{text, sizeof text};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do {
        n = ::recvmsg(fd_.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN) return std::optional<notify_datagram>{};
        return fail();
    }
    notify_datagram d;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET) continue;
        if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(ucred))) {
            ucred cred;
            std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
            d.pid = cred.pid;
            d.uid = cred.uid;
        } else if (c->cmsg_type == SCM_RIGHTS) {
            std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (std::size_t i = 0; i < count; ++i) {
                int fd;
                std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                unique_fd closing(fd);  // BARRIER=1 is acknowledged by closing its fd
            }
        }
    }
    if (msg.msg_flags & MSG_TRUNC)
        d.text.clear();  // too long: ignored, as systemd does
    else
        d.text.assign(text, static_cast<std::size_t>(n));
    return std::optional(std::move(d));
}

}  // namespace hw::svc
