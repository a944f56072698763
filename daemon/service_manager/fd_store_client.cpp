#include "fd_store_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include "common/log.hpp"

namespace hw::svc {

bool fd_store::valid_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 200) return false;
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  std::strchr("@._:/+-", c) != nullptr;
        if (!ok) return false;
    }
    return true;
}

result<std::map<std::string, unique_fd>> fd_store::receive_all(std::chrono::milliseconds timeout) {
    std::map<std::string, unique_fd> fds;
    if (!sock_) return fds;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd pfd{sock_.get(), POLLIN, 0};
        int r = ::poll(&pfd, 1, static_cast<int>(std::max<long>(0, left.count())));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return fail();
        if (r == 0) return fail(std::errc::timed_out);
        char text[512];
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
        iovec iov{text, sizeof text - 1};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n = ::recvmsg(sock_.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n < 0) return fail();
        if (n == 0) return fail(std::errc::connection_reset);
        std::vector<unique_fd> received;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (std::size_t i = 0; i < count; ++i) {
                int fd;
                std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                received.emplace_back(fd);
            }
        }
        std::string_view line(text, static_cast<std::size_t>(n));
        if (line == "END") return fds;
        if (line.rfind("FD ", 0) == 0 && received.size() == 1) {
            fds[std::string(line.substr(3))] = std::move(received[0]);
        } else {
            log::warn("unable to understand fd store message: {}", line);
        }
    }
}

bool fd_store::send_one(const message& m) {
    iovec iov{const_cast<char*>(m.text.data()), m.text.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    if (m.fd) {
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        int fd = m.fd.get();
        std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    for (;;) {
        if (::sendmsg(sock_.get(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) return true;
        int err = errno;
        if (err == EINTR) continue;
        if (err == EAGAIN) return false;
        // Other errors: drop the message rather than retry for ever.
        log::warn("unable to send {} to the fd store: {}", m.text,
                  std::error_code(err, std::system_category()).message());
        return true;
    }
}

void fd_store::store(std::string_view name, int fd) {
    if (!sock_ || !valid_name(name)) return;
    message m{"STORE " + std::string(name), unique_fd(::fcntl(fd, F_DUPFD_CLOEXEC, 3))};
    if (!m.fd) {
        log::warn("unable to duplicate a descriptor for the fd store: {}", errno_code().message());
        return;
    }
    if (queue_.empty() && send_one(m)) return;
    queue_.push_back(std::move(m));
}

void fd_store::remove(std::string_view name) {
    if (!sock_ || !valid_name(name)) return;
    message m{"REMOVE " + std::string(name), {}};
    if (queue_.empty() && send_one(m)) return;
    queue_.push_back(std::move(m));
}

bool fd_store::flush() {
    while (!queue_.empty()) {
        if (!send_one(queue_.front())) return false;
        queue_.pop_front();
    }
    return true;
}

}  // namespace hw::svc
