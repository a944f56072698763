// fd_store: service-manager's side of PID 1's descriptor store (CONVENTIONS.md): descriptors
// parked in PID 1 survive a kill -9 of service-manager, and PID 1 hands them back to the
// successor.
//
// Wire: SOCK_SEQPACKET, one message per record, text without NUL. To PID 1: "STORE <name>" with
// exactly one fd (SCM_RIGHTS), "REMOVE <name>". From PID 1 right after our start: "FD <name>"
// with one fd each, then "END". Sending never blocks: a message that does not fit is queued
// (with its own duplicate of the fd) and flush() sends the rest once the socket is writable.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace hw::svc {

class fd_store {
  public:
    fd_store() = default;  // no store (standalone): every operation succeeds doing nothing
    explicit fd_store(unique_fd sock) : sock_(std::move(sock)) {}

    bool present() const noexcept { return static_cast<bool>(sock_); }
    int fd() const noexcept { return sock_.get(); }

    // Startup only: receives the descriptors PID 1 holds, until "END" or the timeout (blocking).
    result<std::map<std::string, unique_fd>> receive_all(std::chrono::milliseconds timeout);

    // Replaces whatever is stored under `name` by a duplicate of `fd`.
    void store(std::string_view name, int fd);
    // The same, handing over `fd` itself.
    void store(std::string_view name, unique_fd fd);
    void remove(std::string_view name);

    // Sends queued messages; true when the queue is empty afterwards.
    bool flush();
    bool has_pending() const noexcept { return !queue_.empty(); }

  private:
    struct message {
        std::string text;
        unique_fd fd;  // empty for REMOVE
    };
    bool send_one(const message& m);

    unique_fd sock_;
    std::deque<message> queue_;
};

}  // namespace hw::svc
