#include "fd_store_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include "common/fd_passing.hpp"
#include "common/log.hpp"

namespace hw::svc {

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
        auto msg = receive_message(sock_.get(), 512);
        if (!msg) return fail(msg.error());
        if (!*msg) continue;
        if ((*msg)->eof) return fail(std::errc::connection_reset);
        auto& received = (*msg)->fds;
        std::string_view line = (*msg)->text;
        if (line == "END") return fds;
        if (line.rfind("FD ", 0) == 0 && received.size() == 1) {
            fds[std::string(line.substr(3))] = std::move(received[0]);
        } else {
            log::warn("unable to understand fd store message: {}", line);
        }
    }
}

bool fd_store::send_one(const message& m) {
    auto sent = send_message(sock_.get(), m.text, m.fd ? m.fd.get() : -1);
    if (sent) return true;
    if (sent.error().value() == EAGAIN) return false;
    // Other errors: drop the message rather than retry for ever.
    log::warn("unable to send {} to the fd store: {}", m.text, sent.error().message());
    return true;
}

void fd_store::store(std::string_view name, int fd) {
    if (!sock_ || !valid_fd_store_name(name)) return;
    unique_fd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
    if (!copy) {
        log::warn("unable to duplicate a descriptor for the fd store: {}", errno_code().message());
        return;
    }
    store(name, std::move(copy));
}

void fd_store::store(std::string_view name, unique_fd fd) {
    if (!sock_ || !valid_fd_store_name(name) || !fd) return;
    message m{"STORE " + std::string(name), std::move(fd)};
    if (queue_.empty() && send_one(m)) return;
    queue_.push_back(std::move(m));
}

void fd_store::remove(std::string_view name) {
    if (!sock_ || !valid_fd_store_name(name)) return;
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
