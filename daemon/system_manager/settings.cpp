#include "settings.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <string_view>

namespace hw::sysmgr {

namespace {

void read_seconds(const char* name, std::chrono::seconds& out,
                  std::vector<std::string>& problems) {
    const char* text = std::getenv(name);
    if (!text) return;
    std::string_view v = text;
    long value = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
    if (ec != std::errc() || p != v.data() + v.size() || value <= 0 || value > 86400) {
        problems.push_back(fmt::format("ignoring {}={}: not a number of seconds in 1..86400",
                                       name, text));
    } else {
        out = std::chrono::seconds(value);
    }
    ::unsetenv(name);
}

std::vector<std::string> split_colons(std::string_view text) {
    std::vector<std::string> parts;
    while (!text.empty()) {
        auto end = text.find(':');
        if (end != 0) parts.emplace_back(text.substr(0, end));
        if (end == std::string_view::npos) break;
        text.remove_prefix(end + 1);
    }
    return parts;
}

}  // namespace

settings read_settings(int argc, char** argv, std::vector<std::string>& problems) {
    settings s;
    for (int i = 1; i < argc; ++i) s.boot_args.emplace_back(argv[i]);
    read_seconds("HEARTWOOD_JOB_TIMEOUT", s.job_timeout, problems);
    read_seconds("HEARTWOOD_EMERGENCY_TIMEOUT", s.emergency_timeout, problems);
    read_seconds("HEARTWOOD_JOB_DRAIN", s.job_drain, problems);
    read_seconds("HEARTWOOD_MANAGER_STOP", s.manager_stop, problems);
    read_seconds("HEARTWOOD_KILL_GRACE", s.kill_grace, problems);
    read_seconds("HEARTWOOD_LOGGER_DRAIN", s.logger_drain, problems);
    if (const char* cg = std::getenv("HEARTWOOD_CGROUPS")) {
        s.container_cgroups = std::string_view(cg) == "1";
        ::unsetenv("HEARTWOOD_CGROUPS");
    }
    if (const char* dirs = std::getenv("HEARTWOOD_LOG_DIRS")) {
        auto parsed = split_colons(dirs);
        if (parsed.empty()) {
            problems.push_back("ignoring an empty HEARTWOOD_LOG_DIRS");
        } else {
            s.log_dirs = std::move(parsed);
        }
        ::unsetenv("HEARTWOOD_LOG_DIRS");
    }
    return s;
}

std::vector<std::string> settings_environment(const settings& s) {
    std::vector<std::string> env = {
        fmt::format("HEARTWOOD_JOB_TIMEOUT={}", s.job_timeout.count()),
        fmt::format("HEARTWOOD_EMERGENCY_TIMEOUT={}", s.emergency_timeout.count()),
        fmt::format("HEARTWOOD_JOB_DRAIN={}", s.job_drain.count()),
        fmt::format("HEARTWOOD_MANAGER_STOP={}", s.manager_stop.count()),
        fmt::format("HEARTWOOD_KILL_GRACE={}", s.kill_grace.count()),
        fmt::format("HEARTWOOD_LOGGER_DRAIN={}", s.logger_drain.count()),
        fmt::format("HEARTWOOD_LOG_DIRS={}", fmt::join(s.log_dirs, ":")),
    };
    if (s.container_cgroups) env.emplace_back("HEARTWOOD_CGROUPS=1");
    return env;
}

}  // namespace hw::sysmgr
