// sd_notify: systemd's readiness protocol (peers.md 2.5), server side.
//
// One AF_UNIX SOCK_DGRAM socket for all services, with SO_PASSCRED, so every datagram arrives
// with the sender's pid; the manager attributes it to a service by that pid (main pid, then
// process tree). parse_notify() is pure: newline-separated KEY=VALUE; unknown keys are
// ignored. Descriptors sent along (BARRIER=1, FDSTORE=1) are closed at once: closing the
// barrier fd is exactly the acknowledgement sd_notify_barrier() and systemd-notify wait for.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "service_machine.hpp"

namespace hw::svc {

struct notify_message {
    bool ready = false;                                       // READY=1
    bool stopping = false;                                    // STOPPING=1
    bool reloading = false;                                   // RELOADING=1
    bool watchdog = false;                                    // WATCHDOG=1
    bool watchdog_trigger = false;                            // WATCHDOG=trigger
    std::optional<std::string> status;                        // STATUS=
    std::optional<pid_t> main_pid;                            // MAINPID=
    std::optional<std::chrono::microseconds> extend_timeout;  // EXTEND_TIMEOUT_USEC=, <= max_seconds
};

notify_message parse_notify(std::string_view text);

// The machine events a notification means, in the order they apply (STATUS= and MAINPID= are
// the manager's business). READY=1 counts only for a service whose readiness is sd_notify.
std::vector<event> notify_events(const notify_message& m, readiness ready_by);

struct notify_datagram {
    pid_t pid = 0;  // 0 when the kernel sent no credentials
    uid_t uid = 0;
    std::string text;
};

class notify_socket {
  public:
    // Binds a fresh socket at `path` (an existing file there is replaced).
    static result<notify_socket> bind(const std::string& path);
    // Takes over a socket bound earlier (kept in PID 1's fd store across restarts).
    static result<notify_socket> adopt(unique_fd fd);

    // One waiting datagram, or nullopt when none is waiting (non-blocking).
    result<std::optional<notify_datagram>> receive();
    int fd() const noexcept { return fd_.get(); }

  private:
    unique_fd fd_;
};

}  // namespace hw::svc
