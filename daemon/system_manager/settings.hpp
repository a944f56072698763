// settings: system-manager's tunables, read once at startup from HEARTWOOD_* variables.
//
// Kernel command-line words of the form KEY=value reach PID 1 as environment variables, so
// these can be set at the boot prompt as well as by a container runtime or a test. They are
// removed from the environment after reading, so services do not inherit them.
//   HEARTWOOD_JOB_TIMEOUT       seconds a `system-control start` job may run      (600)
//   HEARTWOOD_EMERGENCY_TIMEOUT seconds for the emergency channel's job           (120)
//   HEARTWOOD_JOB_DRAIN         seconds to let running jobs finish at final stop  (10)
//   HEARTWOOD_MANAGER_STOP      seconds for service-manager to stop its services  (30)
//   HEARTWOOD_KILL_GRACE        seconds between SIGTERM and SIGKILL for the rest  (10)
//   HEARTWOOD_LOGGER_DRAIN      seconds for the logger to write out and exit      (5)
//   HEARTWOOD_CGROUPS=1         in a container: let service-manager use cgroup v2 (only when
//                               the runtime delegated a cgroup subtree; default off there)
//   HEARTWOOD_LOG_DIRS          colon-separated log directories, first usable wins
//                               (/var/log/system-manager:/run/system-manager/log)
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace hw::sysmgr {

struct settings {
    std::vector<std::string> boot_args;  // passed to `system-control init`
    std::chrono::seconds job_timeout{600};
    std::chrono::seconds emergency_timeout{120};
    std::chrono::seconds job_drain{10};
    std::chrono::seconds manager_stop{30};
    std::chrono::seconds kill_grace{10};
    std::chrono::seconds logger_drain{5};
    std::vector<std::string> log_dirs{"/var/log/system-manager", "/run/system-manager/log"};
    std::string control_socket = "/run/service-manager/control";
    bool container_cgroups = false;
};

// Reads and unsets the variables above; malformed values are reported in `problems`.
settings read_settings(int argc, char** argv, std::vector<std::string>& problems);

// The variables above as KEY=value, so that read_settings() in a re-executed image reads the
// same settings back (boot_args travel as the arguments).
std::vector<std::string> settings_environment(const settings& s);

}  // namespace hw::sysmgr
