#include "fd_store.hpp"

#include <sys/socket.h>

#include <cstring>

namespace hw::sysmgr {

bool valid_store_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 200) return false;
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  std::strchr("@._:/+-", c) != nullptr;
        if (!ok || c == '\0') return false;
    }
    return true;
}

std::optional<store_command> parse_store_command(std::string_view text) {
    using k = store_command::kind;
    for (auto [prefix, what] : {std::pair{std::string_view("STORE "), k::store},
                                std::pair{std::string_view("REMOVE "), k::remove}}) {
        if (!text.starts_with(prefix)) continue;
        std::string_view name = text.substr(prefix.size());
        if (!valid_store_name(name)) return std::nullopt;
        return store_command{what, std::string(name)};
    }
    return std::nullopt;
}

result<void> fd_store::store(const std::string& name, unique_fd fd) {
    auto it = entries_.find(name);
    if (it != entries_.end()) {
        it->second = std::move(fd);
        return {};
    }
    if (entries_.size() >= max_entries) return fail(std::errc::no_space_on_device);
    entries_.emplace(name, std::move(fd));
    return {};
}

void fd_store::remove(const std::string& name) noexcept {
    auto it = entries_.find(name);
    if (it != entries_.end()) entries_.erase(it);
}

result<std::optional<fd_message>> receive_fd_message(int sock) noexcept {
    char text[256];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
    iovec iov{text, sizeof text};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return std::nullopt;
        return fail();
    }
    fd_message out;
    // Take ownership of every descriptor that arrived, keep the first, close the rest.
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < count; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            unique_fd owned(fd);
            if (!out.fd) out.fd = std::move(owned);
        }
    }
    if (n == 0 && !out.fd) return fail(std::errc::connection_reset);
    if (msg.msg_flags & MSG_TRUNC) return std::optional<fd_message>(fd_message{});
    try {
        out.text.assign(text, static_cast<std::size_t>(n));
    } catch (...) {
        return fail(std::errc::not_enough_memory);
    }
    return std::optional<fd_message>(std::move(out));
}

result<void> send_fd_message(int sock, std::string_view text, int fd) noexcept {
    iovec iov{const_cast<char*>(text.data()), text.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
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

}  // namespace hw::sysmgr
