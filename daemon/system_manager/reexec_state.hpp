// reexec_state: what PID 1 hands to its next image when it re-executes itself (an upgrade of
// the system-manager without a reboot).
//
// The children, the jobs and every descriptor PID 1 owns survive execve(): children stay ours,
// blocked signals stay pending, and the descriptors listed here are kept open (close-on-exec
// cleared). This record says which descriptor is which and what PID 1 was doing. It travels as
// text in a memfd named by HEARTWOOD_REEXEC_STATE=<fd>; the format is versioned, and a record
// the new image cannot read in full is refused as a whole (the caller then starts afresh).
//
// Pure: encode/decode only, no I/O.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "daemon/requests.hpp"

namespace hw::sysmgr {

struct reexec_state {
    // Descriptor numbers as they are in the new image (-1: none).
    int log_read = -1, log_write = -1, log_write_own = -1;
    int console_messages = -1, console_children = -1;
    int control_socket = -1;
    int store_peer = -1;  // our end of the running service-manager's fd store socket

    // The longest uptime a record may give: what steady_clock's nanoseconds hold, so that the
    // new image can take it from the clock.
    static constexpr auto max_uptime = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::duration::max());
    struct child {
        pid_t pid = -1;
        std::chrono::milliseconds uptime{0};  // how long it had been running (<= max_uptime)
    };
    child logger, manager;
    pid_t shell = -1;

    struct job {
        channel on;
        target what;
        pid_t pid;
    };
    std::vector<job> jobs;          // running, at most one per channel
    std::vector<target> pending;    // requested, not started
    bool init_sent = false;
    std::optional<int> exit_status;  // asked for by `system-control exit N`

    struct stored_fd {
        std::string name;
        int fd;
    };
    std::vector<stored_fd> store;

    // Every descriptor the record names, for clearing and restoring close-on-exec.
    std::vector<int> descriptors() const;
};

std::string encode(const reexec_state& s);
// nullopt, with the reason in `error`, unless the whole text is a valid record of this version
// that names no descriptor twice.
std::optional<reexec_state> decode(std::string_view text, std::string& error);

std::optional<target> parse_target(std::string_view name) noexcept;

}  // namespace hw::sysmgr
