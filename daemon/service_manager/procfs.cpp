#include "procfs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>

#include "common/unique_fd.hpp"

namespace hw::svc {

std::optional<proc_stat> parse_proc_stat(std::string_view text) noexcept {
    auto close = text.rfind(')');  // the command name may hold spaces and parentheses
    if (close == std::string_view::npos) return std::nullopt;
    text.remove_prefix(close + 1);
    proc_stat st;
    // Fields from 3 (state) on, space-separated.
    int field = 2;
    while (!text.empty()) {
        while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
        if (text.empty()) break;
        auto end = text.find(' ');
        std::string_view word = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end);
        ++field;
        if (field == 3) {
            st.state = word.empty() ? '?' : word.front();
            continue;
        }
        if (field != 4 && field != 5 && field != 6 && field != 22 && field != 52) continue;
        std::uint64_t v = 0;  // the fields we read are never negative
        for (char c : word) {
            if (c < '0' || c > '9' || v > (UINT64_MAX - 9) / 10) break;
            v = v * 10 + static_cast<std::uint64_t>(c - '0');
        }
        switch (field) {
            case 4:
                st.ppid = static_cast<pid_t>(v);
                break;
            case 5:
                st.pgrp = static_cast<pid_t>(v);
                break;
            case 6:
                st.session = static_cast<pid_t>(v);
                break;
            case 22:
                st.start_time = static_cast<std::uint64_t>(v);
                break;
            case 52:
                st.exit_code = static_cast<int>(v);
                break;
            default:
                break;
        }
    }
    if (field < 22) return std::nullopt;
    return st;
}

std::optional<proc_stat> read_proc_stat(pid_t pid) noexcept {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
    unique_fd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (!fd) return std::nullopt;
    char buf[1024];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n <= 0) return std::nullopt;
    return parse_proc_stat(std::string_view(buf, static_cast<std::size_t>(n)));
}

}  // namespace hw::svc
