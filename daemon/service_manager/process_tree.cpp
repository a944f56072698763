#include "process_tree.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "common/text_file.hpp"

#include "common/process.hpp"

namespace hw::svc {

namespace {

// The cgroup2 mount point, from /proc/self/mountinfo.
std::optional<std::string> cgroup2_mount() {
    auto info = read_text_file("/proc/self/mountinfo", 4 * 1024 * 1024);
    if (!info) return std::nullopt;
    for (auto line : split_lines(*info)) {
        auto dash = line.find(" - ");
        if (dash == std::string_view::npos || !line.substr(dash + 3).starts_with("cgroup2 ")) {
            continue;
        }
        auto fields = split_fields(line);  // id parent dev root mount ...
        if (fields.size() >= 5 && fields[3] == "/") return std::string(fields[4]);
    }
    return std::nullopt;
}

// Our own cgroup2 path ("0::/path" in /proc/self/cgroup).
std::optional<std::string> own_cgroup() {
    auto text = read_text_file("/proc/self/cgroup");
    if (!text) return std::nullopt;
    for (auto line : split_lines(*text)) {
        if (line.starts_with("0::")) return std::string(line.substr(3));
    }
    return std::nullopt;
}

bool write_all(int fd, std::string_view s) {
    return ::write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size());
}

// Enables in `dir`/cgroup.subtree_control each controller of `dir`/cgroup.controllers that
// services can be limited by; returns those enabled. A cgroup that holds processes and is not
// the root refuses (EBUSY): then the services get none, and their settings are reported.
std::string enable_controllers(const std::string& dir) {
    std::string enabled;
    auto available = read_text_file((dir + "/cgroup.controllers").c_str());
    if (!available) return enabled;
    unique_fd fd(::open((dir + "/cgroup.subtree_control").c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) return enabled;
    for (auto c : split_fields(*available)) {
        if (c != "memory" && c != "pids" && c != "cpu" && c != "io") continue;
        if (!write_all(fd.get(), "+" + std::string(c))) continue;
        enabled += (enabled.empty() ? "" : " ") + std::string(c);
    }
    return enabled;
}

}  // namespace

std::optional<cgroup_root> cgroup_root::probe(std::string* why_not) {
    auto mount = cgroup2_mount();
    auto own = own_cgroup();
    if (!mount || !own) {
        *why_not = "no cgroup2 mounted";
        return std::nullopt;
    }
    std::string base = *mount + (*own == "/" ? "" : *own) + "/services";
    if (::mkdir(base.c_str(), 0755) != 0 && errno != EEXIST) {
        *why_not = "unable to create " + base + ": " + errno_code().message();
        return std::nullopt;
    }
    // Prove it: move a short-lived child into a test cgroup.
    std::string test = base + "/.probe";
    if (::mkdir(test.c_str(), 0755) != 0 && errno != EEXIST) {
        *why_not = "unable to create " + test + ": " + errno_code().message();
        return std::nullopt;
    }
    unique_fd procs(::open((test + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
    bool moved = false;
    if (procs) {
        pid_t pid = ::fork();
        if (pid == 0) _exit(write_all(procs.get(), "0\n") ? 0 : 1);
        int status = 0;
        if (pid > 0 && ::waitpid(pid, &status, 0) == pid) {
            moved = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
    }
    if (!moved) *why_not = "unable to move a process into " + test + ": " + errno_code().message();
    ::rmdir(test.c_str());
    if (!moved) return std::nullopt;
    cgroup_root r;
    r.path_ = base;
    // From our own cgroup down to `services`, so that each service's cgroup has them.
    if (!enable_controllers(*mount + (*own == "/" ? "" : *own)).empty()) {
        r.controllers_ = enable_controllers(base);
    }
    return r;
}

result<process_tree> process_tree::in_cgroup(const cgroup_root& root, const std::string& name) {
    process_tree t;
    t.path_ = root.path() + "/" + name;
    if (::mkdir(t.path_.c_str(), 0755) != 0 && errno != EEXIST) return fail();
    t.dir_ = unique_fd(::open(t.path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!t.dir_) return fail();
    t.procs_ = unique_fd(::openat(t.dir_.get(), "cgroup.procs", O_WRONLY | O_CLOEXEC));
    if (!t.procs_) return fail();
    move_high(t.dir_);  // procs_ stays low: every spawn of the service hands it on
    return t;
}

result<void> process_tree::write_setting(const std::string& name,
                                        std::string_view value) const noexcept {
    if (!dir_) return std::unexpected(std::make_error_code(std::errc::not_supported));
    unique_fd fd(::openat(dir_.get(), name.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd || !write_all(fd.get(), value)) return fail();
    return {};
}

void process_tree::signal_all(int sig) const noexcept {
    if (!dir_) {
        if (pgid_ > 0) ::kill(-pgid_, sig);
        return;
    }
    if (sig == SIGKILL) {
        unique_fd kill_fd(::openat(dir_.get(), "cgroup.kill", O_WRONLY | O_CLOEXEC));
        if (kill_fd && write_all(kill_fd.get(), "1")) return;
    }
    // Signal every member; repeat while new members keep appearing (a forking process).
    for (int round = 0; round < 4; ++round) {
        unique_fd fd(::openat(dir_.get(), "cgroup.procs", O_RDONLY | O_CLOEXEC));
        if (!fd) return;
        std::string text;
        char buf[4096];
        ssize_t n;
        while ((n = ::read(fd.get(), buf, sizeof buf)) > 0)
            text.append(buf, static_cast<std::size_t>(n));
        bool any = false;
        for (auto field : split_fields(text)) {
            pid_t pid = 0;
            if (parse_number(field, pid) && pid > 0 && ::kill(pid, sig) == 0) any = true;
        }
        if (!any || sig != SIGKILL) return;
    }
}

bool process_tree::empty() const noexcept {
    if (!dir_) return pgid_ <= 0 || (::kill(-pgid_, 0) != 0 && errno == ESRCH);
    unique_fd fd(::openat(dir_.get(), "cgroup.events", O_RDONLY | O_CLOEXEC));
    if (!fd) return true;
    char buf[256];
    ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    if (n <= 0) return true;
    buf[n] = '\0';
    return std::strstr(buf, "populated 0") != nullptr;
}

void process_tree::remove() noexcept {
    if (!dir_) return;
    dir_.reset();
    procs_.reset();
    ::rmdir(path_.c_str());
}

}  // namespace hw::svc
