// The mount table PID 1 reads at the final stop, to unmount everything
// (daemon/system_manager/processes): whoever may mount names the mount points, "/media/My Disk"
// say. The input is parsed as a whole table, and is also written as one mount point the way the
// kernel writes it (space, tab, newline and backslash as \ooo, proc_pid_mounts(5)), which must
// read back as that very path, or umount2() is handed a path that does not exist.
#include <fmt/core.h>

#include <string>

#include "daemon/system_manager/processes.hpp"
#include "fuzz.hpp"

namespace {

std::string kernel_escaped(std::string_view path) {
    std::string out;
    for (char c : path) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\\')
            out += fmt::format("\\{:03o}", static_cast<unsigned char>(c));
        else
            out += c;
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace hw::sysmgr;
    auto in = hw::fuzz::text(data, size);
    for (const auto& m : parse_mounts(in)) FUZZ_CHECK(!m.target.empty() && !m.type.empty());

    std::string path = "/" + std::string(in.substr(0, in.find('\0')));
    auto table = parse_mounts(
        fmt::format("proc /proc proc rw 0 0\n/dev/sda1 {} ext4 rw 0 0\n", kernel_escaped(path)));
    FUZZ_CHECK(table.size() == 2);
    FUZZ_CHECK(table[1].target == path && table[1].type == "ext4");
    return 0;
}
