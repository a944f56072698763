// manager: service-manager's executor. It owns every loaded service (bundle, supervise/ API,
// process tree, pipes, timer), feeds the service machines with events from the kernel (reaped
// children, pidfds, readiness pipes, sd_notify datagrams, control FIFOs, timers) and carries
// out the effects they return (spawn, signal, watch the tree, publish).
//
// Contracts:
//   - Nothing here blocks or sleeps: a failed spawn is logged with its step and comes back to
//     the machine as an exit (127 for a missing program, 126 for exec errors, 111 otherwise) on
//     the next loop round; it affects only that service.
//   - Events for one service are processed to completion, in order, before the next event
//     (a queue, no re-entrance into the machine).
//   - Every public state change is published: status file, subscribers (on_publish), log line;
//     so is a new main process in an unchanged state (an immediate restart).
//   - flush() runs after every loop round: it rewrites the state files of the services that
//     changed (see state_file.hpp) and pushes queued fd-store messages.
//   - Recovery (recover()) re-adopts processes recorded in the state files when their pid still
//     names the same process (same start time), so a successor restarts nothing that still runs.
//   - The pidfd of every service's current process is parked in PID 1's fd store
//     (parked_pidfd_name: "pid:NAME:PID", so a stale entry never passes for a later process),
//     so that a process that ends while no service-manager runs, or after it was re-adopted
//     (PID 1 reaps it then), still has its exit status read (pidfd_exit_status, Linux 6.15+;
//     older kernels report "status unknown").
// Single-threaded; all callbacks are noexcept and catch allocation failures at their boundary.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "bundle.hpp"
#include "common/event_loop.hpp"
#include "common/protocol.hpp"
#include "fd_store_client.hpp"
#include "process_tree.hpp"
#include "sd_notify.hpp"
#include "service_machine.hpp"
#include "supervise.hpp"

namespace hw::svc {

struct manager_options {
    std::string run_dir = "/run/service-manager";
    bool try_cgroups = true;
};

// An error for a control request: errno value plus the message sent to the client.
struct request_error {
    int code;
    std::string message;
};
template <class T>
using request_result = std::expected<T, request_error>;

// Every program of a service runs with HEARTWOOD_SERVICE=<name> first in its environment: what
// it leaves behind outside its process group is still known to be its own (escaped_from()).
inline constexpr std::string_view service_marker = "HEARTWOOD_SERVICE=";

// Every program of a service starts with this soft limit on open descriptors (its hard limit is
// the service-manager's own), as systemd's DefaultLimitNOFILE=1024:524288 does: above 1024,
// select() overflows its fd_set, so a program that wants more raises its soft limit itself (or
// its run script does, `ulimit -n`). The service-manager and PID 1 run with far higher limits.
inline constexpr rlim_t service_nofile_soft = 1024;

// The fd-store name under which the pidfd of `service`'s process `pid` is parked.
std::string parked_pidfd_name(std::string_view service, pid_t pid);

class manager {
  public:
    manager(event_loop& loop, manager_options opts, fd_store& store);
    ~manager();
    manager(const manager&) = delete;
    manager& operator=(const manager&) = delete;

    // Startup: directories, cgroup probe, sd_notify socket, then recovery from the state files
    // and the descriptors PID 1 handed back (`stored`; the unused ones are dropped).
    result<void> start(std::map<std::string, unique_fd> stored);

    // Control requests.
    request_result<void> load(const std::string& name, const std::string& bundle_dir);
    request_result<void> unload(const std::string& name);
    request_result<void> letter(const std::string& name, char letter);
    request_result<proto::service_status> status(const std::string& name) const;
    std::vector<proto::service_status> list() const;
    request_result<void> plumb(const std::string& producer, const std::string& consumer);

    // Kernel events handled by the caller's signalfd.
    void reap_children();
    // SIGTERM: stop every service (each with its own timeouts); done() once all are down.
    void begin_shutdown();
    bool done() const noexcept;

    // After every loop round.
    void flush();

    // Called on every published state change.
    std::function<void(const proto::service_status&)> on_publish;

    struct service;

  private:
    request_result<service*> find(const std::string& name) const;
    request_result<service*> create_service(const std::string& name, bundle_info bundle);
    void apply_cgroup_settings(const service& s);
    void watch_control(service& s);
    void on_control(service& s);
    void deliver(service& s, const event& ev);
    void execute(service& s, const effect& fx, std::deque<event>& follow_ups);
    void after_events(service& s);
    void spawn_program(service& s, program prog, const std::vector<std::string>& args,
                       std::deque<event>& follow_ups);
    std::vector<std::string> environment_for(const service& s) const;
    void process_ended(service& s, int wait_status);
    void watch_pidfd(service& s);
    void on_pidfd(service& s);
    void watch_ready_pipe(service& s);
    void on_ready_pipe(service& s);
    void on_notify();
    void receive_notifications();
    void apply_notify(service& s, pid_t sender, const notify_message& m);
    service* owner_of(pid_t pid);
    void watch_tree(service& s, std::deque<event>& follow_ups);
    void check_trees();
    void on_inotify();
    void arm_tree_recheck();
    // Tells the status file, the log and the subscribers. `state`: the state the machine
    // published, which may have passed already (a oneshot is ready, then at once stopped);
    // none for its current one.
    void publish(service& s, std::optional<proto::service_state> state = std::nullopt);
    void write_status_file(service& s);
    proto::service_status make_status(const service& s) const;
    void ensure_input(service& s);
    void plumb_log_links(service& s);
    void drop(service& s);
    void adopt(service& s, pid_t pid, std::uint64_t start_time, pid_t pgid, unique_fd stored_pidfd,
               std::deque<event>& follow_ups);
    int status_of_ended(const service& s, int pidfd) const;
    void park_pidfd(const service& s);
    struct escaped_process {
        pid_t pid;
        std::string service;  // its HEARTWOOD_SERVICE
    };
    void open_children_files();
    const std::vector<escaped_process>& scan_escaped() const;
    std::vector<pid_t> escaped_from(const service& s) const;
    bool tree_is_empty(const service& s) const;
    void signal_tree(service& s, int sig);
    void unpark_pidfd(const service& s);
    void arm_flush_store();
    void mark_dirty(service& s);
    mono_time now() const;
    std::int64_t wall_of(mono_time t) const;

    bool succeeds_a_manager_ = false;  // start() found state files: a predecessor ran
    mutable std::optional<std::vector<escaped_process>> escaped_scan_;  // this round's scan
    // In pgroup mode, /proc/<us>/task/<us>/children and (for a successor) PID 1's, open from
    // start() on: a scan_escaped() then costs a pread instead of a path walk and an open.
    unique_fd own_children_, pid1_children_;
    event_loop& loop_;
    manager_options opts_;
    fd_store& store_;
    std::string services_dir_;
    std::string notify_path_;
    std::optional<cgroup_root> cgroups_;
    std::optional<notify_socket> notify_;
    unique_fd inotify_;
    std::unordered_map<int, service*> inotify_watches_;
    std::map<std::string, std::unique_ptr<service>> services_;
    std::unordered_map<pid_t, service*> pids_;
    std::vector<service*> dirty_;  // services whose state file flush() rewrites
    std::vector<std::string> base_env_;
    unique_fd service_out_, service_err_;  // our stdout/stderr, blocking, for services
    op_id tree_recheck_;
    std::chrono::milliseconds tree_recheck_delay_{};
    op_id store_flush_;
    // Park and unpark requests for pidfds, applied to store_ together park_delay after the first
    // (so PID 1 is not woken while a restarted service starts); an empty fd is a removal.
    std::unordered_map<std::string, unique_fd> pending_parks_;
    op_id park_timer_;
    void queue_park(std::string entry, unique_fd fd);
    void apply_parks();
    bool shutting_down_ = false;
};

}  // namespace hw::svc
