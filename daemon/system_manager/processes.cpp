#include "processes.hpp"

#include "text_file.hpp"

#include <dirent.h>
#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace hw::sysmgr {

namespace {

constexpr unsigned long pf_kthread = 0x00200000;

// Reads /proc/PID/stat: false for kernel threads, zombies, and processes already gone.
bool is_live_user_process(pid_t pid) {
    auto stat = read_text_file(fmt::format("/proc/{}/stat", pid).c_str(), 4096);
    if (!stat) return false;
    auto close = stat->rfind(')');
    if (close == std::string::npos) return false;
    // After "pid (comm)": state ppid pgrp session tty_nr tpgid flags ...
    auto fields = split_fields(std::string_view(*stat).substr(close + 1));
    unsigned long flags = 0;
    if (fields.size() < 7 || !parse_number(fields[6], flags)) return false;
    char state = fields[0].front();
    return state != 'Z' && state != 'X' && !(flags & pf_kthread);
}

std::string comm_of(pid_t pid) {
    auto comm = read_text_file(fmt::format("/proc/{}/comm", pid).c_str(), 64);
    auto lines = comm ? split_lines(*comm) : std::vector<std::string_view>{};
    return lines.empty() || lines[0].empty() ? "?" : std::string(lines[0]);
}

// A field of the mount table as the kernel writes it: space, tab, newline and backslash as
// \040, \011, \012 and \134, and nothing else escaped.
std::string unescape_mount_field(std::string_view field) {
    static constexpr std::pair<std::string_view, char> escapes[] = {
        {"\\040", ' '}, {"\\011", '\t'}, {"\\012", '\n'}, {"\\134", '\\'}};
    std::string out;
    while (!field.empty()) {
        auto e = std::find_if(std::begin(escapes), std::end(escapes),
                              [field](const auto& x) { return field.starts_with(x.first); });
        if (e != std::end(escapes)) {
            out += e->second;
            field.remove_prefix(e->first.size());
        } else {
            out += field.front();
            field.remove_prefix(1);
        }
    }
    return out;
}

std::vector<mount_entry> read_mounts() {
    auto text = read_text_file("/proc/self/mounts", 4 * 1024 * 1024);
    return text ? parse_mounts(*text) : std::vector<mount_entry>{};
}

bool is_api_filesystem(const mount_entry& m) {
    static constexpr std::string_view api_types[] = {
        "proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "securityfs",
        "debugfs", "tracefs", "pstore", "bpf", "configfs", "mqueue", "hugetlbfs",
        "fusectl", "efivarfs", "binfmt_misc", "autofs", "rpc_pipefs"};
    if (m.target == "/proc" || m.target == "/sys" || m.target == "/dev" || m.target == "/run") {
        return true;
    }
    return std::find(std::begin(api_types), std::end(api_types), m.type) != std::end(api_types);
}

}  // namespace

std::vector<mount_entry> parse_mounts(std::string_view text) {
    std::vector<mount_entry> mounts;
    for (auto line : split_lines(text)) {
        auto fields = split_fields(line);  // source target type options dump pass
        if (fields.size() >= 3)
            mounts.push_back({unescape_mount_field(fields[1]), unescape_mount_field(fields[2])});
    }
    return mounts;
}

std::vector<process_info> other_processes(std::span<const pid_t> spared) {
    std::vector<process_info> found;
    DIR* d = ::opendir("/proc");
    if (!d) return found;
    pid_t self = ::getpid();
    while (dirent* e = ::readdir(d)) {
        pid_t pid = 0;
        auto end = e->d_name + std::strlen(e->d_name);
        auto [p, ec] = std::from_chars(e->d_name, end, pid);
        if (ec != std::errc() || p != end || pid == self) continue;
        if (std::find(spared.begin(), spared.end(), pid) != spared.end()) continue;
        if (!is_live_user_process(pid)) continue;
        found.push_back({pid, comm_of(pid)});
    }
    ::closedir(d);
    return found;
}

result<std::string> own_executable() {
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf);
    if (n < 0) return fail();
    if (n == sizeof buf) return fail(std::errc::filename_too_long);
    std::string path(buf, static_cast<std::size_t>(n));
    constexpr std::string_view deleted = " (deleted)";
    if (path.ends_with(deleted)) path.resize(path.size() - deleted.size());
    return path;
}

std::string describe(const std::vector<process_info>& procs, std::size_t limit) {
    std::string out;
    for (std::size_t i = 0; i < procs.size(); ++i) {
        if (i == limit) {
            out += fmt::format(", ... ({} in all)", procs.size());
            break;
        }
        if (i) out += ", ";
        out += fmt::format("{}[{}]", procs[i].name, procs[i].pid);
    }
    return out;
}

std::vector<std::string> unmount_all() {
    std::vector<std::string> failures;
    auto mounts = read_mounts();
    // Later entries are mounted on top of earlier ones: undo them in reverse.
    for (auto it = mounts.rbegin(); it != mounts.rend(); ++it) {
        if (it->target == "/" || is_api_filesystem(*it)) continue;
        if (::umount2(it->target.c_str(), 0) == 0) continue;
        if (::mount(nullptr, it->target.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
            failures.push_back(fmt::format("unmount {}: {}", it->target, strerror(errno)));
        }
    }
    if (::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
        failures.push_back(fmt::format("remount / read-only: {}", strerror(errno)));
    }
    return failures;
}

int reboot_command(final_action a) noexcept {
    switch (a) {
        case final_action::halt: return RB_HALT_SYSTEM;
        case final_action::poweroff: return RB_POWER_OFF;
        case final_action::reboot: return RB_AUTOBOOT;
        case final_action::kexec: return RB_KEXEC;
    }
    return RB_POWER_OFF;
}

std::optional<bool> kexec_loaded() {
    auto text = read_text_file("/sys/kernel/kexec_loaded", 64);
    if (!text) return std::nullopt;
    auto lines = split_lines(*text);
    if (lines.empty() || (lines[0] != "0" && lines[0] != "1")) return std::nullopt;
    return lines[0] == "1";
}

std::string describe_kexec_failure(int err, bool in_container, std::optional<bool> loaded) {
    std::string why = strerror(err);
    if (err == EINVAL && in_container) {
        why += " (in a container: the kernel does not kexec from a PID namespace)";
    } else if (err == EINVAL && loaded == false) {
        why += " (no kernel is loaded: load one with kexec -l first)";
    } else if (err == EPERM) {
        why += " (no CAP_SYS_BOOT, or kexec is disabled: kernel.kexec_load_disabled)";
    }
    return why;
}

}  // namespace hw::sysmgr
