// bundle: reads one service bundle directory (units/README.md is the format's specification)
// into what service-manager needs: the machine's service_config plus paths and plumbing.
//
// Reading never writes anything under the bundle (a read-only /etc or /usr is fine). Every
// problem is reported with the file it concerns ("timeout-stop: not a number of milliseconds:
// 1.5s"); an unreadable optional file is an error, a missing one is not.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "service_machine.hpp"

namespace hw::svc {

struct bundle_info {
    std::string bundle_dir;     // absolute, symlinks resolved: the bundle's identity
    std::string service_dir;    // bundle/service, or the bundle itself when that is missing
    std::string supervise_dir;  // where the supervise/ API lives (see resolve_supervise_dir)
    service_config config;
    std::optional<int> notification_fd;     // s6 notification-fd
    bool down = false;                      // `down` flag: not wanted at boot (for system-control)
    std::optional<std::string> log_bundle;  // resolved target of the `log` link
    // service/cgroup/<file>: resource settings written into the service's cgroup, in name
    // order ("memory.max" -> "256M"). See units/README.md, section 5.
    std::vector<std::pair<std::string, std::string>> cgroup_settings;
};

struct bundle_error {
    std::string message;  // "<file>: <problem>"
};

// Reads the bundle at `dir`. `run_dir` is service-manager's runtime directory, used for the
// supervise directory of bundles that have none (see resolve_supervise_dir).
std::expected<bundle_info, bundle_error> read_bundle(const std::string& dir,
                                                     const std::string& name,
                                                     const std::string& run_dir);

// Parses the text of a number file: decimal digits, optional surrounding whitespace.
std::optional<std::uint64_t> parse_number(std::string_view text) noexcept;
// Duration files are read with hw::parse_seconds (common/bundle.hpp), as system-control does.

}  // namespace hw::svc
