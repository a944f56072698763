#include "setup.hpp"

#include "text_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace hw::sysmgr {

namespace {

#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

bool is_mount_point(const char* path) {
    struct statx sx {};
    if (::statx(AT_FDCWD, path, AT_NO_AUTOMOUNT, STATX_BASIC_STATS, &sx) != 0) return false;
    if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) {
        return (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
    }
    // Old kernels: a mount point sits on a different device from its parent.
    std::string parent = std::string(path) + "/..";
    struct stat a {}, b {};
    return ::stat(path, &a) == 0 && ::stat(parent.c_str(), &b) == 0 && a.st_dev != b.st_dev;
}

// /proc belongs to our PID namespace when /proc/self names us.
bool proc_is_ours() {
    char buf[32] = {};
    ssize_t n = ::readlink("/proc/self", buf, sizeof buf - 1);
    return n > 0 && std::string_view(buf, static_cast<std::size_t>(n)) == std::to_string(getpid());
}

bool filesystem_supported(std::string_view type) {
    auto text = read_text_file("/proc/filesystems");
    if (!text) return false;
    for (auto line : split_lines(*text)) {
        auto fields = split_fields(line);  // ["nodev"] type
        if (!fields.empty() && fields.back() == type) return true;
    }
    return false;
}

struct api_mount {
    const char* where;
    const char* type;
    unsigned long flags;
    const char* options;
};

constexpr api_mount api_mounts[] = {
    {"/sys", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, nullptr},
    {"/dev", "devtmpfs", MS_NOSUID | MS_STRICTATIME, "mode=0755,size=10M"},
    {"/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC | MS_STRICTATIME,
     "newinstance,ptmxmode=0666,mode=0620,gid=5"},
    {"/run", "tmpfs", MS_NOSUID | MS_NODEV | MS_STRICTATIME, "mode=0755,size=20%"},
    {"/run/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_STRICTATIME,
     "mode=1777,size=50%"},
};

void mount_one(const api_mount& m, std::vector<std::string>& failures) {
    ::mkdir(m.where, 0755);
    if (::mount(m.type, m.where, m.type, m.flags, m.options) != 0) {
        failures.push_back(fmt::format("mount {} ({}): {}", m.where, m.type, strerror(errno)));
    }
}

void make_symlink(const char* target, const char* path) {
    struct stat st {};
    if (::lstat(path, &st) == 0) return;
    ::symlink(target, path);
}

bool full_identity_uid_map() {
    auto text = read_text_file("/proc/self/uid_map");
    auto fields = text ? split_fields(*text) : std::vector<std::string_view>{};
    unsigned long inside = 1, outside = 1, count = 0;
    return fields.size() == 3 && parse_number(fields[0], inside) &&
           parse_number(fields[1], outside) && parse_number(fields[2], count) && inside == 0 &&
           outside == 0 && count == 4294967295UL;
}

enum class pid_namespace { machine, nested, unknown };

// For process #1. Pid 2 of the machine's PID namespace is the kernel's kthreadd, whose parent is
// 0. In a nested namespace no process but its init has a parent of 0 (the parent is outside),
// so a pid 2 with parent 0 proves the machine's; a /proc of ours without one proves a nested
// one. So does a /proc in which we are not pid 1: it is an enclosing namespace's.
pid_namespace which_pid_namespace() {
    char self[32] = {};
    if (::readlink("/proc/self", self, sizeof self - 1) <= 0) return pid_namespace::unknown;
    if (std::string_view(self) != "1") return pid_namespace::nested;
    auto text = read_text_file("/proc/2/stat", 4096);
    if (!text) {
        return text.error() == std::errc::no_such_file_or_directory ? pid_namespace::nested
                                                                     : pid_namespace::unknown;
    }
    auto fields = split_fields(*text);
    bool kthreadd = fields.size() >= 4 && fields[1] == "(kthreadd)" && fields[3] == "0";
    return kthreadd ? pid_namespace::machine : pid_namespace::nested;
}

}  // namespace

host_facts detect_host(bool pid1) {
    host_facts f;
    f.pid1 = pid1;
    auto ns = pid1 ? which_pid_namespace() : pid_namespace::unknown;
    f.nested_pid1 = ns == pid_namespace::nested;
    if (const char* c = std::getenv("container"); c && *c) {
        f.container_reason = fmt::format("$container is {}", c);
    } else if (!full_identity_uid_map()) {
        f.container_reason = "in a user namespace";
    } else if (pid1 && ns != pid_namespace::machine) {
        f.container_reason = "in a PID namespace";
    }
    f.container = !f.container_reason.empty();
    return f;
}

std::vector<std::string> mount_api_filesystems() {
    std::vector<std::string> failures;
    ::mkdir("/proc", 0555);
    if (!proc_is_ours() &&
        ::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
        failures.push_back(fmt::format("mount /proc (proc): {}", strerror(errno)));
    }
    for (const auto& m : api_mounts) {
        if (!is_mount_point(m.where)) mount_one(m, failures);
    }
    if (::access("/sys/fs/cgroup", F_OK) == 0 && !is_mount_point("/sys/fs/cgroup") &&
        filesystem_supported("cgroup2")) {
        mount_one({"/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NOEXEC | MS_NODEV, "nsdelegate"},
                  failures);
    }
    make_symlink("/proc/self/fd", "/dev/fd");
    make_symlink("/proc/self/fd/0", "/dev/stdin");
    make_symlink("/proc/self/fd/1", "/dev/stdout");
    make_symlink("/proc/self/fd/2", "/dev/stderr");
    make_symlink("/run/shm", "/dev/shm");
    return failures;
}

std::vector<std::string> make_runtime_directories() {
    std::vector<std::string> failures;
    for (const char* dir : {"/run/system-manager", "/run/system-manager/log",
                            "/run/service-bundles", "/run/service-bundles/early-supervise",
                            "/run/service-manager", "/run/user"}) {
        if (::mkdir(dir, 0755) != 0 && errno != EEXIST) {
            failures.push_back(fmt::format("create {}: {}", dir, strerror(errno)));
        }
    }
    return failures;
}

void record_container(const host_facts& facts) {
    unique_fd fd(::open("/run/system-manager/container",
                        O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd) return;
    std::string line = facts.container_reason + "\n";
    [[maybe_unused]] auto n = ::write(fd.get(), line.data(), line.size());
}

std::vector<std::string> raise_kernel_defaults(const host_facts& facts) {
    std::vector<std::string> failures;
    if (!facts.pid1 || facts.container) return failures;
    const char* path = "/proc/sys/net/unix/max_dgram_qlen";
    unsigned qlen = 0;
    if (auto now = read_text_file(path, 64)) {
        auto fields = split_fields(*now);
        if (!fields.empty() && parse_number(fields[0], qlen) && qlen >= 512) return failures;
    }
    unique_fd fd(::open(path, O_WRONLY | O_CLOEXEC));
    if (!fd || ::write(fd.get(), "512\n", 4) != 4)
        failures.push_back(fmt::format("raise {}: {}", path, std::strerror(errno)));
    return failures;
}

void setup_process_state() {
    ::umask(022);
    if (::chdir("/") != 0) {
        // Nothing better to do: every path we use is absolute.
    }
    ::setsid();  // fails harmlessly when we already lead a session (the kernel's init does)
    ::setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 0);
    // The fd store may hold thousands of descriptors (a few per service), and the
    // service-manager, which inherits this, a few per service too: the kernel gives init only
    // 4096. Raised where we may (CAP_SYS_RESOURCE), else up to what we were given.
    constexpr rlim_t wanted_nofile = 65536;
    rlimit nofile{};
    if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < wanted_nofile) {
        rlimit raised{wanted_nofile, std::max(nofile.rlim_max, wanted_nofile)};
        if (::setrlimit(RLIMIT_NOFILE, &raised) != 0 && nofile.rlim_cur < nofile.rlim_max) {
            nofile.rlim_cur = nofile.rlim_max;
            ::setrlimit(RLIMIT_NOFILE, &nofile);
        }
    }
    for (int fd = 0; fd < 3; ++fd) {
        if (::fcntl(fd, F_GETFD) >= 0) continue;
        // Closed (the kernel found no console): the console if it opens now, else /dev/null.
        int spare = ::open("/dev/console", O_RDWR | O_NOCTTY);
        if (spare < 0) spare = ::open("/dev/null", O_RDWR);
        if (spare >= 0 && spare != fd) {
            ::dup2(spare, fd);
            ::close(spare);
        }
    }
}

unique_fd open_console_for_messages() {
    unique_fd fd(::open("/dev/console", O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
    if (!fd) fd.reset(::fcntl(2, F_DUPFD_CLOEXEC, 3));
    return fd;
}

unique_fd open_console_for_children() {
    unique_fd fd(::open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!fd) fd.reset(::fcntl(2, F_DUPFD_CLOEXEC, 3));
    return fd;
}

}  // namespace hw::sysmgr
