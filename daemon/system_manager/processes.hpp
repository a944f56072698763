// processes: what is left running, as seen in /proc, and the last steps before reboot(2).
#pragma once

#include <sys/types.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "daemon/requests.hpp"

namespace hw::sysmgr {

struct process_info {
    pid_t pid;
    std::string name;  // from /proc/PID/comm
};

// Every live process of our PID namespace except ourselves, kernel threads, zombies and the
// pids in `spared`. requires: /proc mounted for our PID namespace.
std::vector<process_info> other_processes(std::span<const pid_t> spared);

// "sleep[12], getty[40]" (at most `limit` entries, then ", ...").
std::string describe(const std::vector<process_info>& procs, std::size_t limit = 20);

// One line of the mount table (/proc/self/mounts, proc_pid_mounts(5)).
struct mount_entry {
    std::string target;  // the mount point
    std::string type;    // "ext4", "proc", ...
};
// The entries of a mount table's text, in its order, with the kernel's escapes decoded (pure).
std::vector<mount_entry> parse_mounts(std::string_view text);

// Unmounts every filesystem it can, deepest first, and remounts read-only what it cannot
// unmount, / last. Returns one line per failure. Only for the machine's own init: in a
// container the filesystems may be shared with the host.
std::vector<std::string> unmount_all();

// The path of our own executable, from /proc/self/exe, also when it was replaced on disk (an
// upgrade): the path then names the new file.
result<std::string> own_executable();

// The reboot(2) command for an action (kexec: RB_KEXEC, which needs a kernel loaded first).
int reboot_command(final_action a) noexcept;

// Whether a kernel is loaded for kexec (/sys/kernel/kexec_loaded); nullopt when unknown (no
// /sys, or a kernel without kexec).
std::optional<bool> kexec_loaded();

// Why reboot(RB_KEXEC) failed with `err`, for the log: strerror plus the likely cause. The
// kernel answers EINVAL both in a PID namespace (it never kexecs from one) and when no kernel
// is loaded. Pure.
std::string describe_kexec_failure(int err, bool in_container, std::optional<bool> loaded);

}  // namespace hw::sysmgr
