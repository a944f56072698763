// service_record: what manager keeps per loaded service (internal to manager*.cpp).
//
// One owner per resource: the supervise/ files live in `sup`, the process tree in `tree`, the
// pidfd of the current main process in `pidfd`, pipes in unique_fds. Pending loop operations
// (op_id) are cancelled before the record is destroyed, so no callback ever sees a dead one.
#pragma once

#include "manager.hpp"

namespace hw::svc {

struct manager::service {
    std::string name;
    bundle_info bundle;
    service_machine machine;
    supervise_dir sup;
    process_tree tree;

    // The main process of the current program (0: none).
    pid_t pid = 0;
    std::uint64_t pid_start = 0;  // /proc start time, read lazily for the state file
    unique_fd pidfd;
    bool is_child = false;  // ours to reap (else watched through its pidfd)
    op_id pidfd_watch;
    std::optional<program> prog;  // which program `pid` runs

    unique_fd ready_read;  // notification-fd read end while readiness is awaited
    op_id ready_watch;
    op_id control_watch;
    op_id timer;
    std::optional<mono_time> timer_at;
    bool watching_tree = false;
    int inotify_wd = -1;

    std::string plumb_to;         // consumer of our stdout/stderr
    std::string pending_log;      // bundle dir of a `log` target not loaded yet
    unique_fd in_read, in_write;  // our stdin pipe, when we are a consumer

    bool paused = false;
    std::string status_text;
    bool unload_when_down = false;
    bool dirty = false;  // in manager::dirty_
    bool published = false;  // during deliver(): whether a publish happened
    std::int64_t wall_since = 0;

    service(std::string n, bundle_info b, supervise_dir d, process_tree t)
        : name(std::move(n)),
          bundle(std::move(b)),
          machine(bundle.config),
          sup(std::move(d)),
          tree(std::move(t)) {}
};

}  // namespace hw::svc
