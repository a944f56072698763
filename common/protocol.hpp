// protocol: the wire format of service-manager's control socket, shared by the daemon and every
// client (system-control, tests). The pure codec is in protocol_codec.hpp.
//
// Transport: AF_UNIX SOCK_SEQPACKET at /run/service-manager/control. One record = one message,
// at most `max_record` bytes. The client sends requests; the server answers every request with
// exactly one reply record carrying the same request id (a `list` answer may span several
// `list_reply` records, all but the last with `more` set). After `subscribe`, the server also
// pushes `event` records (request id 0) on every state change of any service; events and replies
// interleave on that connection, in the order the changes happened.
//
// Record layout, all integers little-endian:
//   0  4  magic "hwsm"
//   4  2  protocol version (`version` below)
//   6  2  kind (enum kind)
//   8  4  request id (chosen by the client; 0 for pushed events)
//  12  .. body, a fixed sequence of fields per kind:
//         u8/u16/u32/u64/i32/i64 as such; string = u16 length + bytes (no NUL);
//         service_status = string name, u8 state, u8 flags, u32 main_pid, i64 since_monotonic_ns,
//                          i64 since_wall_ns, i32 last_wait_status, u32 restart_count,
//                          string status_text
// A record whose body does not end exactly where its last field ends is malformed.
//
// Version history:
//   1  load, unload, start, stop, signal, status, list, plumb, subscribe; ok, error, status,
//      list, event.
// A server receiving another version answers with an `error` (code EPROTONOSUPPORT) encoded in
// its own version, so an old client can at least print the reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace hw::proto {

inline constexpr std::uint16_t version = 1;
inline constexpr std::size_t max_record = 64 * 1024;
inline constexpr std::size_t header_size = 12;
inline constexpr std::size_t max_name = 128;   // service names; see valid_service_name()
inline constexpr std::size_t max_path = 4095;  // bundle directories
inline constexpr std::size_t max_text = 1024;  // STATUS= text and error messages
inline constexpr std::string_view default_socket = "/run/service-manager/control";

// Explicit numbers: they are the wire format. Requests below 64, replies from 64.
enum class kind : std::uint16_t {
    load = 1,
    unload = 2,
    start = 3,
    stop = 4,
    signal = 5,
    status = 6,
    list = 7,
    plumb = 8,
    subscribe = 9,

    ok = 64,
    error = 65,
    status_reply = 66,
    list_reply = 67,
    event = 68,
};

// The public state of one service.
//   stopped   nothing runs and it is not wanted up (or it was never started)
//   starting  `start` runs, or a restart is pending (backoff), or `restart` decides
//   running   `run` runs and its readiness (notification-fd, sd_notify, ready_after_run) is
//             still awaited
//   ready     `run` runs and is ready, or it ended successfully under `remain`
//   stopping  being stopped: TERM/KILL to its processes, then `stop`
//   failed    gave up: `start` failed, the start timeout passed, the restart limit was reached
//             or `restart` said no. Left alone until started again.
enum class service_state : std::uint8_t {
    stopped = 0,
    starting = 1,
    running = 2,
    ready = 3,
    stopping = 4,
    failed = 5,
};
inline constexpr std::uint8_t service_state_count = 6;
std::string_view state_name(service_state s) noexcept;

// service_status.flags bits
inline constexpr std::uint8_t flag_ready = 1;      // readiness reached (ready state)
inline constexpr std::uint8_t flag_wanted_up = 2;  // want flag is up
inline constexpr std::uint8_t flag_paused = 4;     // stopped by SIGSTOP (`p` letter)
inline constexpr std::uint8_t flag_has_exit = 8;   // last_wait_status is meaningful

struct service_status {
    std::string name;
    service_state state = service_state::stopped;
    std::uint8_t flags = 0;
    std::uint32_t main_pid = 0;           // 0: no process
    std::int64_t since_monotonic_ns = 0;  // CLOCK_MONOTONIC of the last state change
    std::int64_t since_wall_ns = 0;       // CLOCK_REALTIME of the same change
    std::int32_t last_wait_status = 0;    // of the last `run`, as from waitpid(); see flags
    std::uint32_t restart_count = 0;      // consecutive automatic restarts since the last reset
    std::string status_text;              // last STATUS= from sd_notify
    bool operator==(const service_status&) const = default;
};

struct load_request {
    std::string name;
    std::string bundle_dir;
    bool operator==(const load_request&) const = default;
};
struct unload_request {
    std::string name;
    bool operator==(const unload_request&) const = default;
};
struct start_request {
    std::string name;
    bool operator==(const start_request&) const = default;
};
struct stop_request {
    std::string name;
    bool operator==(const stop_request&) const = default;
};
// Any daemontools control letter (u d o O x t k h ...), applied as if written to the
// service's supervise/control FIFO.
struct signal_request {
    std::string name;
    char letter = 0;
    bool operator==(const signal_request&) const = default;
};
struct status_request {
    std::string name;
    bool operator==(const status_request&) const = default;
};
struct list_request {
    bool operator==(const list_request&) const = default;
};
// The producer's stdout and stderr go into the consumer's stdin through a pipe the manager
// keeps (both ends), so a restart of either side loses nothing.
struct plumb_request {
    std::string producer;
    std::string consumer;
    bool operator==(const plumb_request&) const = default;
};
struct subscribe_request {
    bool operator==(const subscribe_request&) const = default;
};

using request =
    std::variant<load_request, unload_request, start_request, stop_request, signal_request,
                 status_request, list_request, plumb_request, subscribe_request>;

struct ok_reply {
    bool operator==(const ok_reply&) const = default;
};
// `code` is an errno value (ENOENT: no such service, EBUSY: not stopped, EPERM: peer refused,
// EINVAL: bad name or letter, EPROTONOSUPPORT: version, EOPNOTSUPP: unknown kind ...).
struct error_reply {
    std::uint32_t code = 0;
    std::string message;
    bool operator==(const error_reply&) const = default;
};
struct status_reply {
    service_status status;
    bool operator==(const status_reply&) const = default;
};
struct list_reply {
    bool more = false;  // further list_reply records with the same id follow
    std::vector<service_status> services;
    bool operator==(const list_reply&) const = default;
};
struct event {
    service_status status;
    bool operator==(const event&) const = default;
};

using reply = std::variant<ok_reply, error_reply, status_reply, list_reply, event>;

// A service name: 1..max_name bytes of [A-Za-z0-9@._:+-], not starting with '.' or '-'. Names
// appear in paths under /run and, with a prefix of up to 10 bytes, in fd-store names (at most
// 200 bytes), hence no '/' and the limit of 190.
bool valid_service_name(std::string_view name) noexcept;

}  // namespace hw::proto
