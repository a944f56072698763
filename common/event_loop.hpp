// event_loop: the one io_uring loop every long-lived heartwood process runs.
//
// It multiplexes three kinds of operation, each with a callback run on completion:
//   - poll_readable(fd):  one-shot readiness of a descriptor (signalfd, pidfd exit, pipe,
//                         socket, FIFO). The callback then does a non-blocking read itself;
//   - poll_writable(fd):  one-shot writability, for senders that met EAGAIN;
//   - after(duration):    a one-shot relative timer (CLOCK_MONOTONIC);
//   - cancel(id):         withdraws a pending operation; its callback will not run.
// Callbacks receive the completion result (>= 0 success, or -errno; a timer that expires
// reports 0) and must not throw: the loop is noexcept at this boundary, and a throwing callback
// is logged and dropped rather than allowed to unwind through PID 1.
//
// The number of pending operations is bounded (`capacity`); when full, submitting fails with
// EAGAIN and the caller decides. An operation id carries a slot index and a generation, so a
// stale id (the operation already completed and the slot was reused) is recognised and ignored.
// Only this file and event_loop.cpp know about liburing. Single-threaded.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "error.hpp"

namespace hw {

struct op_id {
    std::uint32_t slot = UINT32_MAX;
    std::uint32_t generation = 0;
    explicit operator bool() const noexcept { return slot != UINT32_MAX; }
};

class event_loop {
public:
    using callback = std::move_only_function<void(int res) noexcept>;

    // requires: capacity >= 1. Tries the cheapest setup flags first and falls back.
    static result<std::unique_ptr<event_loop>> create(unsigned capacity = 1024);
    ~event_loop();
    event_loop(const event_loop&) = delete;
    event_loop& operator=(const event_loop&) = delete;

    result<op_id> poll_readable(int fd, callback cb) noexcept;
    result<op_id> poll_writable(int fd, callback cb) noexcept;
    result<op_id> after(std::chrono::nanoseconds delay, callback cb) noexcept;
    // Safe with stale or empty ids. The callback is destroyed without being called.
    void cancel(op_id& id) noexcept;

    // Submits what is queued, waits for at least one completion, and runs the callbacks of all
    // completions available. Returns false only if waiting itself failed (logged).
    bool run_once() noexcept;

    // Operations whose completion has not been seen yet (cancelled ones included).
    std::size_t pending() const noexcept;

private:
    struct impl;
    result<op_id> poll(int fd, unsigned mask, callback cb) noexcept;
    explicit event_loop(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

}  // namespace hw
