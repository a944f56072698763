// process_tree: the set of processes that belong to one service, so that stopping it reaches
// every one of them (double-forking daemons included) and "the tree is empty" is observable.
//
// Two implementations behind one class:
//   cgroup   a cgroup v2 directory per service, <our cgroup>/services/<name>. Every program of
//            the service is spawned into it (spawn_request::cgroup_procs_fd). Signals go to every
//            pid in cgroup.procs, SIGKILL through cgroup.kill; "empty" is `populated 0` in
//            cgroup.events, whose changes the manager watches with inotify.
//   pgroup   fallback when cgroup2 is missing or not writable (user namespaces): each program
//            runs in its own session, so the tree is the process group of the current program.
//            A process that calls setsid() or setpgid() leaves it; the manager finds those by
//            their environment marker (manager::escaped_from).
//            "empty" is kill(-pgid, 0) failing with ESRCH, checked after each reap.
// cgroup_root::probe() decides once at startup by really moving a short-lived child into a
// test cgroup.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace hw::svc {

class cgroup_root {
  public:
    // The directory that holds the per-service cgroups, if cgroup2 is usable here.
    static std::optional<cgroup_root> probe(std::string* why_not);
    const std::string& path() const noexcept { return path_; }
    // The controllers the per-service cgroups have ("memory pids cpu io"), which decides the
    // settings a bundle's cgroup/ may make; empty when none could be enabled.
    const std::string& controllers() const noexcept { return controllers_; }

  private:
    std::string path_;
    std::string controllers_;
};

class process_tree {
  public:
    process_tree() = default;  // pgroup mode, no group yet
    // cgroup mode: creates (or reuses) <root>/<name>.
    static result<process_tree> in_cgroup(const cgroup_root& root, const std::string& name);

    bool uses_cgroup() const noexcept { return static_cast<bool>(dir_); }
    const std::string& cgroup_path() const noexcept { return path_; }
    // The descriptor a spawned child writes itself into (-1 in pgroup mode).
    int procs_fd() const noexcept { return procs_.get(); }
    // pgroup mode: the group of the program spawned last.
    void set_group(pid_t pgid) noexcept { pgid_ = pgid; }
    pid_t group() const noexcept { return pgid_; }

    // Writes `value` into the cgroup's interface file `name` (a bundle's cgroup/ setting).
    result<void> write_setting(const std::string& name, std::string_view value) const noexcept;

    // Sends `sig` to every process of the tree (best effort; ESRCH is not an error).
    void signal_all(int sig) const noexcept;
    bool empty() const noexcept;
    // Removes the cgroup directory (it must be empty); no-op in pgroup mode.
    void remove() noexcept;

  private:
    std::string path_;
    unique_fd dir_, procs_;
    pid_t pgid_ = 0;
};

}  // namespace hw::svc
