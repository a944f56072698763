#include "path_facts.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <unordered_set>

#include "unique_fd.hpp"

namespace hw {

namespace {

std::int64_t ns_of(const struct timespec& ts) noexcept {
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Filesystems that stamp changes with this kernel's clock (and so can be trusted by settled()).
bool local_filesystem(const std::string& path) {
    struct statfs fs;
    if (::statfs(path.c_str(), &fs) != 0) return false;
    switch (static_cast<unsigned long>(fs.f_type)) {
        case EXT4_SUPER_MAGIC:  // also ext2 and ext3
        case XFS_SUPER_MAGIC:
        case BTRFS_SUPER_MAGIC:
        case TMPFS_MAGIC:
        case F2FS_SUPER_MAGIC:
            return true;
        default:
            return false;
    }
}

}  // namespace

path_state path_state::of(const struct stat& st) noexcept {
    return {.error = 0,
            .mode = st.st_mode,
            .dev = st.st_dev,
            .ino = st.st_ino,
            .size = st.st_size,
            .mtime_ns = ns_of(st.st_mtim),
            .ctime_ns = ns_of(st.st_ctim)};
}

path_state stat_path(const std::string& path, bool follow) noexcept {
    struct stat st;
    if (::fstatat(AT_FDCWD, path.c_str(), &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) != 0)
        return path_state::failed(errno);
    return path_state::of(st);
}

std::string physical_path(int fd, const std::string& logical) {
    char proc[32];
    std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    char buf[PATH_MAX];
    ssize_t n = fd >= 0 ? ::readlink(proc, buf, sizeof buf) : -1;
    if (n > 0 && buf[0] == '/') return std::string(buf, static_cast<std::size_t>(n));
    if (char* real = ::realpath(logical.c_str(), nullptr)) {
        std::string path = real;
        std::free(real);
        return path;
    }
    return {};
}

std::int64_t path_facts::now_ns() noexcept {
    struct timespec ts;
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return ns_of(ts);
}

path_state path_facts::look(const std::string& path, bool follow) {
    auto& index = index_[follow];
    if (auto it = index.find(path); it != index.end()) return paths_[it->second].state;
    index.emplace(path, static_cast<std::uint32_t>(paths_.size()));
    paths_.push_back({path, follow, stat_path(path, follow)});
    return paths_.back().state;
}

void path_facts::note(const std::string& path, bool follow, const path_state& state) {
    auto& index = index_[follow];
    if (auto it = index.find(path); it != index.end()) {
        if (paths_[it->second].state != state) give_up();
        return;
    }
    index.emplace(path, static_cast<std::uint32_t>(paths_.size()));
    paths_.push_back({path, follow, state});
}

std::size_t path_facts::note_resolve(std::string path, path_state identity, std::string physical) {
    resolves_.push_back({std::move(path), identity, std::move(physical)});
    return resolves_.size() - 1;
}

void path_facts::set_physical(std::size_t resolve_index, std::string physical) {
    resolves_.at(resolve_index).physical = std::move(physical);
}

bool path_facts::settled() const {
    if (!usable_) return false;
    const std::int64_t recent = start_ns_ - 1'000'000'000;
    std::unordered_set<std::uint64_t> devices;
    for (const auto& f : paths_) {
        if (f.state.error) continue;
        if (f.state.mtime_ns >= recent || f.state.ctime_ns >= recent) return false;
        if (devices.insert(f.state.dev).second && !local_filesystem(f.path)) return false;
    }
    return true;
}

bool path_fact_holds(const char* path, bool follow, const path_state& state) noexcept {
    struct stat st;
    if (::fstatat(AT_FDCWD, path, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) != 0)
        return state.error == errno;
    return path_state::of(st) == state;
}

bool resolve_fact_holds(const char* path, const path_state& identity, std::string_view physical) {
    unique_fd fd(::open(path, O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return identity.error == errno;
    struct stat st;
    if (identity.error || ::fstat(fd.get(), &st) != 0 || st.st_dev != identity.dev ||
        st.st_ino != identity.ino)
        return false;
    return physical.empty() || physical_path(fd.get(), path) == physical;
}

bool path_facts::still_true() const {
    if (!usable_) return false;
    for (const auto& f : paths_)
        if (!path_fact_holds(f.path.c_str(), f.follow, f.state)) return false;
    for (const auto& r : resolves_)
        if (!resolve_fact_holds(r.path.c_str(), r.identity, r.physical)) return false;
    return true;
}

}  // namespace hw
