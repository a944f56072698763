#include "fd_passing.hpp"

#include <cstring>

namespace hw {

namespace {
constexpr std::size_t max_fds = 16;
}

result<std::optional<socket_message>> receive_message(int sock, std::size_t max_text) noexcept {
    try {
        socket_message out;
        std::string buf(max_text, '\0');
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int) * max_fds)];
        iovec iov{buf.data(), buf.size()};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n;
        do {
            n = ::recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            if (errno == EAGAIN) return std::optional<socket_message>{};
            return fail();
        }
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET) continue;
            if (c->cmsg_type == SCM_RIGHTS) {
                std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (std::size_t i = 0; i < count; ++i) {
                    int fd;
                    std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                    out.fds.emplace_back(fd);
                }
            } else if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(ucred))) {
                ucred cred;
                std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
                out.sender = cred;
            }
        }
        out.truncated = (msg.msg_flags & MSG_TRUNC) != 0;
        out.eof = n == 0 && out.fds.empty() && !out.truncated;
        if (!out.truncated) {
            buf.resize(static_cast<std::size_t>(n));
            out.text = std::move(buf);
        }
        return std::optional(std::move(out));
    } catch (...) {
        return fail(std::errc::not_enough_memory);
    }
}

result<void> send_message(int sock, std::string_view text, int fd, const sockaddr_un* to) noexcept {
    iovec iov{const_cast<char*>(text.data()), text.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (to) {
        msg.msg_name = const_cast<sockaddr_un*>(to);
        msg.msg_namelen = sizeof *to;
    }
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    if (fd >= 0) {
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    ssize_t n;
    do {
        n = ::sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return fail();
    return {};
}

bool valid_fd_store_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 200) return false;
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  (c != '\0' && std::strchr("@._:/+-", c) != nullptr);
        if (!ok) return false;
    }
    return true;
}

}  // namespace hw
