// /proc/PID/stat of a service's processes (daemon/service_manager/procfs): the command name in
// it is whatever the process set with prctl(PR_SET_NAME) or its executable's name, spaces and
// parentheses included. The input is parsed as a whole stat line, and is also put as the name
// into a well-formed line, whose fields must then come out exactly.
#include <fmt/core.h>

#include "daemon/service_manager/procfs.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace hw::svc;
    auto in = hw::fuzz::text(data, size);
    (void)parse_proc_stat(in);

    // The kernel shows at most 15 bytes of name, and no NUL.
    std::string_view name = in.substr(0, std::min<std::size_t>(in.find('\0'), 15));
    std::string line = fmt::format("4711 ({}) Z 1 4700 4700 0 -1 4194560", name);
    for (int field = 10; field <= 21; ++field) line += " 0";
    line += " 123456";  // 22: start time
    for (int field = 23; field <= 51; ++field) line += " 0";
    line += " 256\n";  // 52: exit code
    auto st = parse_proc_stat(line);
    FUZZ_CHECK(st.has_value());
    FUZZ_CHECK(st->state == 'Z' && st->ppid == 1 && st->pgrp == 4700 && st->session == 4700);
    FUZZ_CHECK(st->start_time == 123456 && st->exit_code == 256);
    return 0;
}
