// service_control: the abstract face of the service-manager, as the job engine and the
// commands see it. It has exactly the operations of the control API (CONVENTIONS.md): load,
// unload, start, stop, signal, status, list, plumb, subscribe; plus next_event(), the receiving
// side of subscribe(), now(), the clock that deadlines are measured on, and batches of load,
// status and start/stop, which the real implementation pipelines.
//
// The real implementation wraps the control client on the service-manager's socket; tests use a
// scripted fake with a virtual clock. Every call blocks until the reply; errors carry the
// manager's message. A `connection_lost` error means the manager cannot be asked any more.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
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
    // Batches: the same as the single operation on each item in turn, one result per item, in
    // order. The real implementation pipelines them (a round trip per window of requests, not
    // per request). A connection_lost error ends a batch: every result from it on carries it.
    virtual std::vector<control_result<void>> load_many(
        std::span<const std::pair<std::string_view, std::string_view>> name_and_dir) {
        std::vector<control_result<void>> out;
        for (const auto& [name, dir] : name_and_dir)
            out.push_back(until_lost(out, [&] { return load(name, dir); }));
        return out;
    }
    virtual std::vector<control_result<std::optional<service_status>>> status_many(
        std::span<const std::string_view> names) {
        std::vector<control_result<std::optional<service_status>>> out;
        for (auto name : names) out.push_back(until_lost(out, [&] { return status(name); }));
        return out;
    }
    // For each item: start it (true) or stop it (false).
    virtual std::vector<control_result<void>> start_stop_many(
        std::span<const std::pair<std::string_view, bool>> name_and_start) {
        std::vector<control_result<void>> out;
        for (const auto& [name, up] : name_and_start)
            out.push_back(until_lost(out, [&] { return up ? start(name) : stop(name); }));
        return out;
    }
    // After this, every state change of any service is queued for next_event().
    virtual control_result<void> subscribe() = 0;
    // The next queued event, waiting at most until `deadline`; nullopt when it passes first.
    virtual control_result<std::optional<service_event>> next_event(clock::time_point deadline) = 0;
    virtual clock::time_point now() = 0;

  protected:
    // The next result of a batch: the connection loss of an earlier item, or call().
    template <class T, class F>
    static T until_lost(const std::vector<T>& so_far, F&& call) {
        if (!so_far.empty() && !so_far.back() && so_far.back().error().connection_lost)
            return std::unexpected(so_far.back().error());
        return call();
    }
};

}  // namespace hw::ctl
