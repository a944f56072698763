// setup: the one-time process and system setup of system-manager, before its loop starts.
//
// Everything here may fail; nothing here is fatal. Each step that cannot be done is recorded
// as a reason and logged once, so a container (or a user namespace without the privilege to
// mount) gets one clear summary instead of a screenful of errors.
#pragma once

#include <string>
#include <vector>

#include "common/unique_fd.hpp"

namespace hw::sysmgr {

struct host_facts {
    bool pid1 = false;        // we are process #1 of our PID namespace
    bool container = false;   // not the machine's own init: never unmount, remount ro, CAD
    // Process #1 of a PID namespace nested in the machine's, proven by /proc: our exit ends
    // only that namespace (a container), where the machine's init would panic the kernel.
    bool nested_pid1 = false;
    std::string container_reason;
};

// Looks at getpid(), $container, the user namespace's uid map and whether kthreadd is visible.
// requires: /proc mounted for our PID namespace (call after mount_api_filesystems).
host_facts detect_host(bool pid1);

// Mounts what is missing of /proc, /sys, /dev, /dev/pts, /run, /run/shm and cgroup2, and makes
// the /dev compatibility symlinks. Returns the steps that failed, as "mount /sys: reason".
std::vector<std::string> mount_api_filesystems();

// Creates /run/system-manager{,/log}, /run/service-bundles{,/early-supervise},
// /run/service-manager and /run/user. Returns the failures.
std::vector<std::string> make_runtime_directories();

// Writes the reason to /run/system-manager/container, so that services (and the shipped
// early services, which skip what a container must not touch) can tell. Best effort.
void record_container(const host_facts& facts);

// On the machine's own init (not a container): kernel defaults an init system needs raised, as
// systemd's sysctl defaults do: net.unix.max_dgram_qlen to 512 (at 10, an sd_notify sender
// blocks once 10 datagrams wait for a busy service-manager). Returns the failures.
std::vector<std::string> raise_kernel_defaults(const host_facts& facts);

// Sets umask, cwd, PATH (if unset), the session, the descriptor limit, and puts the console (or
// /dev/null) on any of fds 0-2 that is closed (so later opens never land there by accident).
void setup_process_state();

// The console for PID 1's own fallback messages: non-blocking so that a stalled terminal never
// stops PID 1. Falls back to a duplicate of the original stderr. May be empty.
unique_fd open_console_for_messages();
// The console for children (logger stderr, emergency shell): blocking, read-write.
unique_fd open_console_for_children();

}  // namespace hw::sysmgr
