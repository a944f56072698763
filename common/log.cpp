#include "log.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace hw::log {
namespace {

struct sink_config {
    char program[64] = "heartwood";
    int primary = 2;
    int fallback = -1;
    bool fallback_is_kmsg = false;
    int mirror = -1;
    severity mirror_threshold = severity::notice;
    severity threshold = severity::info;
};
sink_config config;

constexpr std::array<std::string_view, 6> severity_names = {"debug",   "info",  "notice",
                                                             "warning", "error", "critical"};
// syslog priorities for /dev/kmsg framing, indexed like severity.
constexpr std::array<int, 6> kmsg_priorities = {7, 6, 5, 4, 3, 2};

// Appends `text` to buf at *len, truncating at the buffer's end.
void append(char* buf, std::size_t cap, std::size_t* len, std::string_view text) {
    std::size_t n = std::min(text.size(), cap - *len);
    std::memcpy(buf + *len, text.data(), n);
    *len += n;
}

bool write_whole(int fd, const char* buf, std::size_t len) {
    if (fd < 0) return false;
    ssize_t n = ::write(fd, buf, len);
    return n == static_cast<ssize_t>(len);
}

}  // namespace

void set_program(std::string_view name) noexcept {
    std::size_t n = std::min(name.size(), sizeof config.program - 1);
    std::memcpy(config.program, name.data(), n);
    config.program[n] = '\0';
}
void set_primary(int fd) noexcept { config.primary = fd; }
void set_fallback(int fd, bool kmsg) noexcept {
    config.fallback = fd;
    config.fallback_is_kmsg = kmsg;
}
void set_mirror(int fd, severity min) noexcept {
    config.mirror = fd;
    config.mirror_threshold = min;
}
void set_threshold(severity s) noexcept { config.threshold = s; }

void write(severity s, std::string_view text) noexcept {
    if (s < config.threshold) return;
    auto index = static_cast<std::size_t>(s);
    char line[max_line + 8];
    constexpr std::size_t cap = max_line - 1;  // room for the newline
    std::size_t len = 0;
    append(line, cap, &len, config.program);
    append(line, cap, &len, ": ");
    append(line, cap, &len, severity_names[index]);
    append(line, cap, &len, ": ");
    append(line, cap, &len, text);
    line[len++] = '\n';
    bool primary_ok = write_whole(config.primary, line, len);
    bool fallback_used = !primary_ok && config.fallback >= 0;
    if (s >= config.mirror_threshold && config.mirror != config.primary &&
        !(fallback_used && config.mirror == config.fallback)) {
        write_whole(config.mirror, line, len);
    }
    if (!fallback_used) return;
    if (!config.fallback_is_kmsg) {
        write_whole(config.fallback, line, len);
        return;
    }
    // The priority prefix goes in front of the line in place (line has 8 bytes to spare): a
    // second line-sized buffer would deepen PID 1's stack, whose pages stay resident.
    char prefix[8];
    int printed = std::snprintf(prefix, sizeof prefix, "<%d>", kmsg_priorities[index]);
    auto n = static_cast<std::size_t>(printed);
    std::memmove(line + n, line, len);
    std::memcpy(line, prefix, n);
    write_whole(config.fallback, line, len + n);
}

}  // namespace hw::log
