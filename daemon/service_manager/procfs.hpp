// procfs: the few facts service-manager reads from /proc/<pid>/stat (proc(5)): identity of a
// process across a manager restart (start time, against pid reuse), its family (parent,
// process group, session) for attributing sd_notify senders, and the exit code a zombie
// still carries.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace hw::svc {

struct proc_stat {
    char state = '?';  // R S D Z T ...
    pid_t ppid = 0;
    pid_t pgrp = 0;
    pid_t session = 0;
    std::uint64_t start_time = 0;  // clock ticks after boot (field 22)
    int exit_code = 0;             // field 52: a zombie's wait status
};

// Parses the text of /proc/<pid>/stat (pure).
std::optional<proc_stat> parse_proc_stat(std::string_view text) noexcept;
std::optional<proc_stat> read_proc_stat(pid_t pid) noexcept;

}  // namespace hw::svc
