// The adapter point between system-control and the service-manager: connect_manager() returns
// the real service_control. Until the control client (common/control_client.hpp, branch svc)
// is merged, this reports that no client is built in, and every command that needs the
// service-manager exits 111; offline commands and --dry-run work without it.
#include <fmt/core.h>

#include "cli.hpp"

namespace hw::ctl {

control_result<std::unique_ptr<service_control>> connect_manager(const context& ctx) {
    return std::unexpected(control_error{
        fmt::format("unable to connect to the service-manager at {}: this system-control has no "
                    "control client built in yet",
                    ctx.socket_path()),
        true});
}

}  // namespace hw::ctl
