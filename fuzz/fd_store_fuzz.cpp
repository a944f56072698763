// The fd store's messages to PID 1 (daemon/fd_store): service-manager sends "STORE <name>"
// with a descriptor and "REMOVE <name>"; PID 1 must never act on anything else. A command
// that parses is exactly its verb, one space and a valid name.
#include <string>

#include "common/fd_passing.hpp"
#include "daemon/fd_store.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace hw::sysmgr;
    auto text = hw::fuzz::text(data, size);
    auto cmd = parse_store_command(text);
    if (!cmd) return 0;
    FUZZ_CHECK(hw::valid_fd_store_name(cmd->name));
    std::string verb = cmd->what == store_command::kind::store ? "STORE " : "REMOVE ";
    FUZZ_CHECK(verb + cmd->name == text);
    return 0;
}
