#include "reexec_state.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/fd_passing.hpp"
#include "common/text_file.hpp"

namespace hw::sysmgr {

namespace {

constexpr std::string_view magic = "heartwood-reexec 1";

struct descriptor_field {
    std::string_view key;
    int reexec_state::*member;
};
constexpr descriptor_field descriptor_fields[] = {
    {"log_read", &reexec_state::log_read},
    {"log_write", &reexec_state::log_write},
    {"log_write_own", &reexec_state::log_write_own},
    {"console_messages", &reexec_state::console_messages},
    {"console_children", &reexec_state::console_children},
    {"control_socket", &reexec_state::control_socket},
    {"store_peer", &reexec_state::store_peer},
};

bool parse_fd(std::string_view text, int& fd) { return parse_number(text, fd) && fd >= -1; }

// One line of the record, split into fields; false if it is malformed.
bool decode_line(const std::vector<std::string_view>& f, reexec_state& s) {
    if (f.empty()) return false;
    for (const auto& d : descriptor_fields) {
        if (f[0] == d.key) return f.size() == 2 && parse_fd(f[1], s.*d.member);
    }
    if (f[0] == "logger" || f[0] == "manager") {
        auto& c = f[0] == "logger" ? s.logger : s.manager;
        long long ms = 0;
        return f.size() == 3 && parse_number(f[1], c.pid) && parse_number(f[2], ms) && ms >= 0 &&
               std::chrono::milliseconds(ms) <= reexec_state::max_uptime &&
               (c.uptime = std::chrono::milliseconds(ms), true);
    }
    if (f[0] == "shell") return f.size() == 2 && parse_number(f[1], s.shell);
    if (f[0] == "init_sent") return f.size() == 1 && (s.init_sent = true);
    if (f[0] == "exit_status") {
        int status = -1;
        return f.size() == 2 && parse_number(f[1], status) && status >= 0 && status <= 255 &&
               (s.exit_status = status, true);
    }
    if (f[0] == "job") {
        unsigned on = 0;
        pid_t pid = 0;
        auto what = f.size() == 4 ? parse_target(f[2]) : std::nullopt;
        if (!what || !parse_number(f[1], on) || on > 1 || !parse_number(f[3], pid) || pid <= 0) {
            return false;
        }
        // A channel runs one job at a time.
        if (std::ranges::any_of(s.jobs, [on](const auto& j) { return j.on == channel(on); }))
            return false;
        s.jobs.push_back({static_cast<channel>(on), *what, pid});
        return true;
    }
    if (f[0] == "pending") {
        auto what = f.size() == 2 ? parse_target(f[1]) : std::nullopt;
        if (what) s.pending.push_back(*what);
        return what.has_value();
    }
    if (f[0] == "store") {
        int fd = -1;
        if (f.size() != 3 || !parse_number(f[1], fd) || fd < 0 || !valid_fd_store_name(f[2])) {
            return false;
        }
        s.store.push_back({std::string(f[2]), fd});
        return true;
    }
    return false;
}

}  // namespace

std::vector<int> reexec_state::descriptors() const {
    std::vector<int> fds;
    for (const auto& d : descriptor_fields) {
        if (this->*d.member >= 0) fds.push_back(this->*d.member);
    }
    for (const auto& e : store) fds.push_back(e.fd);
    return fds;
}

std::optional<target> parse_target(std::string_view name) noexcept {
    for (std::size_t i = 0; i < target_count; ++i) {
        auto t = static_cast<target>(i);
        if (target_name(t) == name) return t;
    }
    return std::nullopt;
}

std::string encode(const reexec_state& s) {
    std::string out = fmt::format("{}\n", magic);
    for (const auto& d : descriptor_fields) out += fmt::format("{} {}\n", d.key, s.*d.member);
    out += fmt::format("logger {} {}\n", s.logger.pid, s.logger.uptime.count());
    out += fmt::format("manager {} {}\n", s.manager.pid, s.manager.uptime.count());
    out += fmt::format("shell {}\n", s.shell);
    if (s.init_sent) out += "init_sent\n";
    if (s.exit_status) out += fmt::format("exit_status {}\n", *s.exit_status);
    for (const auto& j : s.jobs) {
        out += fmt::format("job {} {} {}\n", static_cast<unsigned>(j.on), target_name(j.what),
                           j.pid);
    }
    for (auto t : s.pending) out += fmt::format("pending {}\n", target_name(t));
    for (const auto& e : s.store) out += fmt::format("store {} {}\n", e.fd, e.name);
    out += "end\n";
    return out;
}

std::optional<reexec_state> decode(std::string_view text, std::string& error) {
    auto lines = split_lines(text);
    if (lines.empty() || lines.front() != magic) {
        error = "not a heartwood-reexec 1 record";
        return std::nullopt;
    }
    if (lines.back() != "end") {
        error = "the record is cut short (no end line)";
        return std::nullopt;
    }
    reexec_state s;
    for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
        if (!decode_line(split_fields(lines[i]), s)) {
            error = fmt::format("line {} is malformed: {}", i + 1, lines[i]);
            return std::nullopt;
        }
    }
    // Each descriptor has one owner in the new image: one named twice would be closed twice.
    auto fds = s.descriptors();
    std::sort(fds.begin(), fds.end());
    if (auto twice = std::adjacent_find(fds.begin(), fds.end()); twice != fds.end()) {
        error = fmt::format("descriptor {} is named twice", *twice);
        return std::nullopt;
    }
    return s;
}

}  // namespace hw::sysmgr
