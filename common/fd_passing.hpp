// fd_passing: one message, with descriptors attached, over an AF_UNIX socket (SCM_RIGHTS), and
// the fd-store naming rule that system-manager and service-manager share.
//
// Both calls are non-blocking and take ownership of every descriptor that arrives, so none can
// leak, whatever the message says.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "unique_fd.hpp"

namespace hw {

struct socket_message {
    std::string text;
    std::vector<unique_fd> fds;    // every descriptor that came along
    std::optional<ucred> sender;   // when the socket has SO_PASSCRED
    bool truncated = false;        // the text was longer than the limit (and is empty here)
    bool eof = false;              // zero bytes and nothing attached: a stream peer has closed
};

// nullopt when nothing is waiting.
result<std::optional<socket_message>> receive_message(int sock,
                                                      std::size_t max_text = 4096) noexcept;

// Sends `text` with `fd` attached (none when fd < 0), to `to` on an unconnected datagram socket.
// EAGAIN when the socket is full.
result<void> send_message(int sock, std::string_view text, int fd = -1,
                          const sockaddr_un* to = nullptr) noexcept;

// Names in the fd store: 1..200 bytes of [A-Za-z0-9@._:/+-].
bool valid_fd_store_name(std::string_view name) noexcept;

}  // namespace hw
