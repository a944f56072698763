#include "event_loop.hpp"

#include <liburing.h>
#include <poll.h>

#include <deque>
#include <new>
#include <utility>

#include "log.hpp"

namespace hw {

namespace {

// user_data layout: low 32 bits slot, high 32 bits generation. Zero is reserved for our own
// cancel requests, whose completions carry no callback.
constexpr std::uint64_t no_callback = 0;

std::uint64_t pack(op_id id) {
    return (static_cast<std::uint64_t>(id.generation) << 32) | id.slot;
}
op_id unpack(std::uint64_t data) {
    return {static_cast<std::uint32_t>(data), static_cast<std::uint32_t>(data >> 32)};
}

}  // namespace

struct event_loop::impl {
    struct slot {
        std::uint32_t generation = 1;  // never 0, so user_data is never no_callback
        bool busy = false;             // the kernel still owns this slot
        callback cb;                   // empty once cancelled
        __kernel_timespec timeout{};   // storage the kernel reads for timers
    };

    io_uring ring{};
    // Grows on demand up to `capacity`: a deque, because the kernel holds pointers to the
    // timespecs in it, which must not move.
    std::deque<slot> slots;
    std::vector<std::uint32_t> free_slots;  // reserved to capacity, so pushing never allocates
    std::size_t capacity = 0;

    bool ring_ready = false;  // only a ring that was set up is torn down

    ~impl() {
        if (ring_ready) io_uring_queue_exit(&ring);
    }

    struct pending_op {
        io_uring_sqe* sqe;
        op_id id;
    };

    // Reserves a slot for `cb` and a submission entry for the caller to fill in.
    result<pending_op> submit(callback cb) {
        if (free_slots.empty() && !grow()) return fail(std::errc::resource_unavailable_try_again);
        io_uring_sqe* sqe = get_sqe();
        if (!sqe) return fail(std::errc::resource_unavailable_try_again);
        std::uint32_t index = free_slots.back();
        free_slots.pop_back();
        auto& s = slots[index];
        s.busy = true;
        s.cb = std::move(cb);
        return pending_op{sqe, {index, s.generation}};
    }

    // Adds one free slot, unless at capacity or out of memory.
    bool grow() noexcept {
        if (slots.size() >= capacity) return false;
        try {
            slots.emplace_back();
        } catch (const std::bad_alloc&) {
            return false;
        }
        free_slots.push_back(static_cast<std::uint32_t>(slots.size() - 1));
        return true;
    }

    io_uring_sqe* get_sqe() {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring);
        if (sqe) return sqe;
        io_uring_submit(&ring);  // the submission queue is full: flush it and retry
        return io_uring_get_sqe(&ring);
    }
};

event_loop::event_loop(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

std::size_t event_loop::pending() const noexcept {
    return impl_->slots.size() - impl_->free_slots.size();
}
event_loop::~event_loop() = default;

namespace {

// Rings sized for the common case, so that a big capacity costs no memory until it is used.
// Without IORING_FEAT_NODROP (kernels before 5.5) a full completion queue drops completions,
// so there it must hold every pending operation plus its cancellation.
constexpr unsigned small_cq_entries = 1024;
constexpr unsigned max_sq_entries = 64;  // a full submission queue is flushed, not refused

int setup_ring(io_uring& ring, unsigned capacity, unsigned cq_entries, unsigned& features) {
    io_uring_params params{};
    params.flags = IORING_SETUP_CQSIZE;
    params.cq_entries = cq_entries;
    int res = io_uring_queue_init_params(std::min(capacity, max_sq_entries), &ring, &params);
    features = params.features;
    return res;
}

}  // namespace

result<std::unique_ptr<event_loop>> event_loop::create(unsigned capacity) {
    auto p = std::make_unique<impl>();
    unsigned full_cq = capacity * 2;
    unsigned features = 0;
    int res = setup_ring(p->ring, capacity, std::min(full_cq, small_cq_entries), features);
    if (res >= 0 && !(features & IORING_FEAT_NODROP) && full_cq > small_cq_entries) {
        io_uring_queue_exit(&p->ring);
        res = setup_ring(p->ring, capacity, full_cq, features);
    }
    if (res < 0) return fail(neg_errno(res));
    p->ring_ready = true;
    p->capacity = capacity;
    p->free_slots.reserve(capacity);
    return std::unique_ptr<event_loop>(new event_loop(std::move(p)));
}

result<op_id> event_loop::poll_readable(int fd, callback cb) noexcept {
    return poll(fd, POLLIN, std::move(cb));
}

result<op_id> event_loop::poll_writable(int fd, callback cb) noexcept {
    return poll(fd, POLLOUT, std::move(cb));
}

result<op_id> event_loop::poll(int fd, unsigned mask, callback cb) noexcept {
    auto op = impl_->submit(std::move(cb));
    if (!op) return fail(op.error());
    io_uring_prep_poll_add(op->sqe, fd, mask);
    io_uring_sqe_set_data64(op->sqe, pack(op->id));
    return op->id;
}

result<op_id> event_loop::after(std::chrono::nanoseconds delay, callback cb) noexcept {
    auto op = impl_->submit(std::move(cb));
    if (!op) return fail(op.error());
    auto& timeout = impl_->slots[op->id.slot].timeout;
    if (delay.count() < 0) delay = {};
    timeout.tv_sec = delay.count() / 1'000'000'000;
    timeout.tv_nsec = delay.count() % 1'000'000'000;
    io_uring_prep_timeout(op->sqe, &timeout, 0, 0);
    io_uring_sqe_set_data64(op->sqe, pack(op->id));
    return op->id;
}

void event_loop::cancel(op_id& id) noexcept {
    op_id target = std::exchange(id, op_id{});
    if (!target || target.slot >= impl_->slots.size()) return;
    auto& s = impl_->slots[target.slot];
    if (!s.busy || s.generation != target.generation || !s.cb) return;
    s.cb = nullptr;  // the slot stays busy until the kernel reports the cancelled operation
    io_uring_sqe* sqe = impl_->get_sqe();
    if (!sqe) return;  // cannot happen after get_sqe's flush; the operation then just fires late
    io_uring_prep_cancel64(sqe, pack(target), 0);
    io_uring_sqe_set_data64(sqe, no_callback);
}

bool event_loop::run_once() noexcept {
    io_uring_cqe* cqe = nullptr;
    int res = io_uring_submit_and_wait(&impl_->ring, 1);
    if (res < 0 && res != -EINTR && res != -EBUSY) {
        log::error("unable to wait for io_uring completions: {}", neg_errno(res).message());
        return false;
    }
    // Drain everything available. Callbacks may queue new operations; those are submitted on
    // the next round.
    while (io_uring_peek_cqe(&impl_->ring, &cqe) == 0) {
        std::uint64_t data = io_uring_cqe_get_data64(cqe);
        int cqe_res = cqe->res;
        io_uring_cqe_seen(&impl_->ring, cqe);
        if (data == no_callback) continue;
        op_id id = unpack(data);
        if (id.slot >= impl_->slots.size()) continue;
        auto& s = impl_->slots[id.slot];
        if (!s.busy || s.generation != id.generation) continue;
        callback cb = std::move(s.cb);
        s.cb = nullptr;
        s.busy = false;
        ++s.generation;
        if (s.generation == 0) s.generation = 1;
        impl_->free_slots.push_back(id.slot);
        if (!cb) continue;  // cancelled
        if (cqe_res == -ETIME) cqe_res = 0;  // an expired timer is its success
        cb(cqe_res);
    }
    return true;
}

}  // namespace hw
