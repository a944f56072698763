// service_control: the abstract face of the service-manager, as the job engine and the
// commands see it. It has exactly the operations of the control API (CONVENTIONS.md): load,
// unload, start, stop, signal, status, list, plumb, subscribe; plus next_event(), the receiving
// side of subscribe(), and now(), the clock that deadlines are measured on.
//
// The real implementation wraps the control client on the service-manager's socket; tests use a
// scripted fake with a virtual clock. Every call blocks until the reply; errors carry the
// manager's message. A `connection_lost` error means the manager cannot be asked any more.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol.hpp"

namespace hw::ctl {

// The service-manager's own states (common/protocol.hpp), named the same everywhere.
using service_state = proto::service_state;
using proto::state_name;
std::optional<service_state> state_from_name(std::string_view name) noexcept;

using clock = std::chrono::steady_clock;

struct service_status {
    std::string name;
    service_state state = service_state::stopped;
    pid_t pid = 0;
    bool ready = false;
    clock::time_point since{};                           // of the current state, monotonic
    std::chrono::system_clock::time_point since_wall{};  // the same instant, wall clock
    std::optional<int> last_wait_status;                 // as from waitpid()
    unsigned restarts = 0;
    std::string status_text;  // the service's STATUS=
};

struct service_event {
    std::string name;
    service_state state = service_state::stopped;
    pid_t pid = 0;
    std::optional<int> wait_status;
};

struct control_error {
    std::string message;
    bool connection_lost = false;
};

template <class T>
using control_result = std::expected<T, control_error>;

class service_control {
  public:
    virtual ~service_control() = default;

    // Idempotent: creates the service from bundle_dir's service directory if not yet loaded.
    virtual control_result<void> load(std::string_view name, std::string_view bundle_dir) = 0;
    virtual control_result<void> unload(std::string_view name) = 0;
    virtual control_result<void> start(std::string_view name) = 0;
    virtual control_result<void> stop(std::string_view name) = 0;
    // Any daemontools control letter (u d o x t k h ...).
    virtual control_result<void> signal(std::string_view name, char letter) = 0;
    // nullopt: not loaded.
    virtual control_result<std::optional<service_status>> status(std::string_view name) = 0;
    virtual control_result<std::vector<service_status>> list() = 0;
    virtual control_result<void> plumb(std::string_view producer, std::string_view consumer) = 0;
    // After this, every state change of any service is queued for next_event().
    virtual control_result<void> subscribe() = 0;
    // The next queued event, waiting at most until `deadline`; nullopt when it passes first.
    virtual control_result<std::optional<service_event>> next_event(clock::time_point deadline) = 0;
    virtual clock::time_point now() = 0;
};

}  // namespace hw::ctl
