#include "log_directory.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace hw::logger {

namespace {

result<void> make_directories(const std::string& path) {
    for (std::size_t pos = 1; pos != std::string::npos;) {
        pos = path.find('/', pos + 1);
        std::string prefix = path.substr(0, pos);
        if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) return fail();
    }
    return {};
}

result<void> write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail();
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

struct dir_entry {
    std::string name;
    std::size_t size;
};

// Rotated files (names starting with '@'), oldest first, and the directory's total size.
result<std::pair<std::vector<dir_entry>, std::size_t>> list_rotated(int dir_fd) {
    int dup = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dup < 0) return fail();
    DIR* d = ::fdopendir(dup);
    if (!d) {
        ::close(dup);
        return fail();
    }
    std::vector<dir_entry> rotated;
    std::size_t total = 0;
    while (dirent* e = ::readdir(d)) {
        std::string_view name = e->d_name;
        if (name == "." || name == "..") continue;
        struct stat st {};
        if (::fstatat(dir_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        total += static_cast<std::size_t>(st.st_size);
        if (name.starts_with('@')) rotated.push_back({std::string(name), std::size_t(st.st_size)});
    }
    ::closedir(d);
    std::sort(rotated.begin(), rotated.end(),
              [](const dir_entry& a, const dir_entry& b) { return a.name < b.name; });
    return std::pair{std::move(rotated), total};
}

}  // namespace

std::string format_timestamp(timespec t) {
    tm utc{};
    gmtime_r(&t.tv_sec, &utc);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", utc.tm_year + 1900,
                       utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                       t.tv_nsec / 1000);
}

result<log_directory> log_directory::open(const std::string& path, log_limits limits) {
    if (auto made = make_directories(path); !made) return fail(made.error());
    log_directory d;
    d.path_ = path;
    d.limits_ = limits;
    d.dir_.reset(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!d.dir_) return fail();
    d.current_.reset(
        ::openat(d.dir_.get(), "current", O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
    if (!d.current_) return fail();
    struct stat st {};
    if (::fstat(d.current_.get(), &st) != 0) return fail();
    d.current_size_ = static_cast<std::size_t>(st.st_size);
    if (d.current_size_ > 0) {
        char last = '\n';
        if (::pread(d.current_.get(), &last, 1, st.st_size - 1) == 1) {
            d.at_line_start_ = last == '\n';
        }
    }
    return d;
}

result<void> log_directory::append(std::string_view data, timespec now) {
    std::string stamp = format_timestamp(now) + ' ';
    std::string out;
    out.reserve(data.size() + 64);
    while (!data.empty()) {
        bool may_rotate = at_line_start_ || current_size_ + out.size() >= 2 * limits_.max_file_size;
        if (may_rotate && current_size_ + out.size() >= limits_.max_file_size) {
            if (auto w = write_all(current_.get(), out); !w) return w;
            current_size_ += out.size();
            out.clear();
            if (auto r = rotate(now); !r) return r;
        }
        if (at_line_start_) out += stamp;
        std::size_t end = data.find('\n');
        std::size_t take = end == std::string_view::npos ? data.size() : end + 1;
        out.append(data.substr(0, take));
        at_line_start_ = end != std::string_view::npos;
        data.remove_prefix(take);
    }
    if (auto w = write_all(current_.get(), out); !w) return w;
    current_size_ += out.size();
    return {};
}

result<void> log_directory::rotate(timespec now) {
    std::string name = "@" + format_timestamp(now) + ".s";
    for (int suffix = 1; ::faccessat(dir_.get(), name.c_str(), F_OK, 0) == 0; ++suffix) {
        name = fmt::format("@{}-{}.s", format_timestamp(now), suffix);
    }
    if (::renameat(dir_.get(), "current", dir_.get(), name.c_str()) != 0) return fail();
    current_.reset(
        ::openat(dir_.get(), "current", O_RDWR | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!current_) return fail();
    current_size_ = 0;
    return prune();
}

result<void> log_directory::prune() {
    auto listing = list_rotated(dir_.get());
    if (!listing) return fail(listing.error());
    auto& [rotated, total] = *listing;
    for (const auto& e : rotated) {
        if (total <= limits_.max_total_size) break;
        if (::unlinkat(dir_.get(), e.name.c_str(), 0) == 0) total -= e.size;
    }
    return {};
}

result<void> log_directory::append_stamped(std::string_view data) {
    if (data.empty()) return {};
    if (auto w = write_all(current_.get(), data); !w) return w;
    current_size_ += data.size();
    at_line_start_ = data.back() == '\n';
    if (at_line_start_ && current_size_ >= limits_.max_file_size) {
        timespec now{};
        ::clock_gettime(CLOCK_REALTIME, &now);
        return rotate(now);
    }
    return {};
}

result<void> log_directory::take_over(const std::string& older_path) {
    unique_fd older(::open(older_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!older) return errno == ENOENT ? result<void>{} : fail();
    struct stat mine {}, theirs {};
    if (::fstat(dir_.get(), &mine) != 0 || ::fstat(older.get(), &theirs) != 0) return fail();
    if (mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino) return {};
    auto listing = list_rotated(older.get());
    if (!listing) return fail(listing.error());
    std::vector<std::string> names;
    for (const auto& e : listing->first) names.push_back(e.name);
    names.emplace_back("current");
    if (!at_line_start_) {  // end our partial line: the copied lines start with their stamps
        if (auto w = append_stamped("\n"); !w) return w;
    }
    for (const auto& name : names) {
        unique_fd in(::openat(older.get(), name.c_str(), O_RDONLY | O_CLOEXEC));
        if (!in) continue;  // gone meanwhile
        char chunk[16384];
        for (;;) {
            ssize_t n = ::read(in.get(), chunk, sizeof chunk);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return fail();
            if (n == 0) break;
            if (auto w = append_stamped({chunk, static_cast<std::size_t>(n)}); !w) return w;
        }
        if (!at_line_start_) {  // a cut last line
            if (auto w = append_stamped("\n"); !w) return w;
        }
        if (::unlinkat(older.get(), name.c_str(), 0) != 0) return fail();
    }
    return {};
}

}  // namespace hw::logger
