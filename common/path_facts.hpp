// path_facts: what a reading of directories depended on, and a cheap check that it still holds.
//
// A reader notes, for every path whose state its result depends on, what stat(2) or lstat(2)
// said about it (a "path fact"), and, for paths it followed through symlinks it did not walk
// itself, where they led (a "resolve fact": the device and inode, and the physical path).
// still_true() re-checks every fact with one system call per path fact and a few per resolve
// fact; it is what makes a cached copy of the result (bundle_cache.hpp) safe to use.
//
// Why a path fact proves a listing current: adding, removing or renaming an entry of a directory
// sets the directory's mtime and ctime, and writing a file sets its mtime and ctime, to the
// current time; ctime cannot be set by hand. So a directory with the same device, inode, mode,
// size, mtime and ctime has the same entries. Two caveats, both handled by settled():
//   - timestamps have a granularity: a change within the same clock tick as the noting could
//     keep the ctime. settled() is false while any noted timestamp is less than a second older
//     than the start of the reading, so such a result is not kept;
//   - only local filesystems take their timestamps from this kernel's clock: settled() is false
//     when a noted path is on any other filesystem (NFS, FUSE, overlay, ...).
// A fact must be noted before what depends on it is observed (fstat() of an open directory
// before reading it, say): a change after the noting then always changes the fact.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace hw {

// What stat(2) said about a path: an errno, or the fields that change when it does.
struct path_state {
    int error = 0;
    std::uint32_t mode = 0;
    std::uint64_t dev = 0;
    std::uint64_t ino = 0;
    std::int64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::int64_t ctime_ns = 0;

    static path_state of(const struct stat& st) noexcept;
    static path_state failed(int err) noexcept { return {.error = err}; }
    bool is_dir() const noexcept { return !error && S_ISDIR(mode); }
    bool operator==(const path_state&) const = default;
};

// stat(2) (follow) or lstat(2) of `path`.
path_state stat_path(const std::string& path, bool follow) noexcept;

// The symlink-free path of the directory open on `fd`: the kernel's own name for it through
// /proc, or realpath() of `logical` when /proc is not there; empty when neither works.
std::string physical_path(int fd, const std::string& logical);

struct path_fact {
    std::string path;
    bool follow = false;  // stat(2), not lstat(2)
    path_state state;
};

// Opening `path` as a directory gives the inode (dev, ino) whose physical path is `physical`
// (not checked when empty); or fails with identity.error.
struct resolve_fact {
    std::string path;
    path_state identity;  // error, dev and ino only
    std::string physical;
};

// Whether a fact holds now (for readers of stored facts, like bundle_cache).
bool path_fact_holds(const char* path, bool follow, const path_state& state) noexcept;
bool resolve_fact_holds(const char* path, const path_state& identity, std::string_view physical);

class path_facts {
  public:
    // `start_ns`: CLOCK_REALTIME when the reading began (see settled()).
    explicit path_facts(std::int64_t start_ns = now_ns()) : start_ns_(start_ns) {}

    static std::int64_t now_ns() noexcept;

    // lstat(2) or stat(2) of `path`, noted; each path is asked the kernel once.
    path_state look(const std::string& path, bool follow);
    bool noted(const std::string& path, bool follow) const { return index_[follow].contains(path); }
    // Notes what the caller learnt about `path` itself (fstat(2) of it open, say). Noting a path
    // twice with different states (it changed meanwhile) makes the facts unusable.
    void note(const std::string& path, bool follow, const path_state& state);
    // Returns the index of the new fact, for set_physical().
    std::size_t note_resolve(std::string path, path_state identity, std::string physical = {});
    void set_physical(std::size_t resolve_index, std::string physical);
    // The result also depends on something no fact stands for (an error, a lint check).
    void give_up() noexcept { usable_ = false; }

    bool usable() const noexcept { return usable_; }
    // True when keeping the facts is safe: usable, every noted timestamp at least a second
    // older than the start of the reading, every noted path on a local filesystem.
    bool settled() const;
    // True when every fact holds now.
    bool still_true() const;

    const std::vector<path_fact>& paths() const noexcept { return paths_; }
    const std::vector<resolve_fact>& resolves() const noexcept { return resolves_; }
    // For a cache that stores the facts: rebuilds them.
    void add(path_fact f) { paths_.push_back(std::move(f)); }
    void add(resolve_fact f) { resolves_.push_back(std::move(f)); }

  private:
    std::int64_t start_ns_;
    bool usable_ = true;
    std::vector<path_fact> paths_;
    std::vector<resolve_fact> resolves_;
    std::unordered_map<std::string, std::uint32_t> index_[2];  // [follow]: path -> paths_ index
};

}  // namespace hw
