// job: carries out a plan through a service_control, and says how each bundle fared.
//
// Protocol with the service-manager: subscribe first (so no state change is missed), load
// every bundle that is to start (and plumb each into its `log` bundle), then act on every member
// whose waits are all finished, all at once (the loads, and the status and start/stop requests
// of the members released together, go out as pipelined batches: service_control::*_many):
//   start: failed at once if the bundle is `missing` (a dangling requires/ link led to it);
//          done at once ("already") if the service is ready; else start(name), then done on a
//          `ready` event, failed on a `failed` event or on `stopped` after it had begun, timed out
//          after its start timeout (the service is left wanted up: its restart policy goes on).
//   stop:  done at once if not loaded or not running; else stop(name), then done on `stopped`
//          or `failed`; on its stop timeout it is sent SIGKILL ('k', unless no_kill_signal) and
//          given kill_grace more, then timed out.
// A member finishes whatever happens, and then releases those that wait for it. A start that
// fails (or times out, or cannot load) fails with outcome `dependency` every starting member that
// requires it and has not been acted on yet, transitively; members already started are left
// alone. Wants never propagate failure.
//
// The runner never polls: it sleeps in next_event() until an event or the earliest deadline
// (a start/stop timeout, or the observer's progress tick).
//
// Exit status: 0 when every bundle named in the request succeeded and no stop failed; 1 when a
// named bundle failed (itself or through a requirement) or a stop failed; 111 when the
// service-manager could not be asked (connection lost, subscribe refused).
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/bundle_tree.hpp"
#include "plan.hpp"
#include "service_control.hpp"

namespace hw::ctl {

enum class outcome : std::uint8_t { pending, done, already, failed, timed_out, dependency };
std::string_view outcome_name(outcome o) noexcept;
inline bool succeeded(outcome o) noexcept {
    return o == outcome::done || o == outcome::already;
}

struct member_result {
    outcome result = outcome::pending;
    std::string detail;      // why it failed, or what it is waiting for
    clock::duration took{};  // from acting to finishing
};

struct job_options {
    using ms = std::chrono::milliseconds;
    ms start_timeout{90'000};  // for bundles without service/timeout-start; 0 = wait for ever
    ms stop_timeout{30'000};   // for bundles without service/timeout-stop; 0 = wait for ever
    ms kill_grace{10'000};     // after the SIGKILL that follows a stop timeout
    ms tick{0};                // period of job_observer::on_tick; 0 = never
};

enum class job_event_kind : std::uint8_t { load, plumb, unblocked, start, stop, kill, finished };
std::string_view job_event_name(job_event_kind k) noexcept;

struct job_event {
    job_event_kind kind;
    std::uint32_t member;
    std::string_view detail;  // e.g. the outcome or the error
};

struct in_progress {
    std::uint32_t member;
    clock::time_point since;
};

class job_observer {
  public:
    virtual ~job_observer() = default;
    virtual void on_event(const job_event&) {}
    virtual void on_tick(clock::time_point /*now*/, std::span<const in_progress> /*waiting*/,
                         std::size_t /*finished*/, std::size_t /*total*/) {}
};

struct job_result {
    std::vector<member_result> members;  // per plan member
    int exit_status = 0;
    std::string system_error;  // set with exit status 111
};

job_result run_job(const bundle_tree& tree, const plan& p, service_control& control,
                   const job_options& opts, job_observer* observer = nullptr);

}  // namespace hw::ctl
