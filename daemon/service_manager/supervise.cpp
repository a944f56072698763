#include "supervise.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/process.hpp"

namespace hw::svc {

namespace {

void put_be(std::byte* p, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) {
        p[i] = static_cast<std::byte>(v & 0xff);
        v >>= 8;
    }
}

// TAI64N label: 8 bytes 2^62 + seconds, 4 bytes nanoseconds, big-endian.
void put_tai64n(std::byte* p, std::int64_t wall_ns) {
    std::int64_t secs = wall_ns / 1'000'000'000;
    std::int64_t nanos = wall_ns % 1'000'000'000;
    if (nanos < 0) {
        nanos += 1'000'000'000;
        --secs;
    }
    put_be(p, 0x4000000000000000ull + static_cast<std::uint64_t>(secs), 8);
    put_be(p + 8, static_cast<std::uint64_t>(nanos), 4);
}

int mkdir_parents(const std::string& path) {
    for (std::size_t i = 1; i <= path.size(); ++i) {
        if (i != path.size() && path[i] != '/') continue;
        std::string part = path.substr(0, i);
        if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) return -1;
    }
    return 0;
}

unique_fd open_fifo(int dirfd, const char* name, mode_t mode, int flags) {
    if (::mkfifoat(dirfd, name, mode) != 0 && errno != EEXIST) return {};
    ::fchmodat(dirfd, name, mode, 0);  // mkfifo applies the umask
    return unique_fd(::openat(dirfd, name, flags | O_NONBLOCK | O_CLOEXEC));
}

}  // namespace

status_snapshot::record make_record(int ws, std::int64_t wall_ns) noexcept {
    status_snapshot::record r;
    r.wall_ns = wall_ns;
    if (ws < 0) {
        r.how = 1;
        r.code = 255;
    } else if (WIFEXITED(ws)) {
        r.how = 1;
        r.code = static_cast<std::uint32_t>(WEXITSTATUS(ws));
    } else if (WIFSIGNALED(ws)) {
        r.how = WCOREDUMP(ws) ? 3 : 2;
        r.code = static_cast<std::uint32_t>(WTERMSIG(ws));
    }
    return r;
}

status_bytes encode_status(const status_snapshot& s) noexcept {
    status_bytes b{};
    put_tai64n(b.data(), s.since_wall_ns);
    for (int i = 0; i < 4; ++i) {  // pid: little-endian, as nosh writes it
        b[12 + i] = static_cast<std::byte>((s.pid >> (8 * i)) & 0xff);
    }
    b[16] = std::byte{s.paused ? std::uint8_t{1} : std::uint8_t{0}};
    b[17] = static_cast<std::byte>(s.want);
    b[18] = std::byte{s.encore_state};
    for (int i = 0; i < 4; ++i) {
        std::byte* p = b.data() + 19 + 17 * i;
        const auto& r = s.programs[i];
        p[0] = std::byte{r.how};
        if (r.how == 0) continue;
        put_be(p + 1, r.code, 4);
        put_tai64n(p + 5, r.wall_ns);
    }
    return b;
}

std::expected<supervise_dir, std::string> supervise_dir::open(const std::string& path) {
    auto failed = [&](const char* what) {
        return std::unexpected(
            fmt::format("unable to {} {}: {}", what, path, errno_code().message()));
    };
    supervise_dir d;
    d.path_ = path;
    if (mkdir_parents(path) != 0) return failed("create");
    unique_fd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) return failed("open");
    d.lock_ = unique_fd(::openat(dir.get(), "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!d.lock_) return failed("create lock in");
    if (::flock(d.lock_.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            return std::unexpected(
                fmt::format("{} is locked: another supervisor runs this service", path));
        }
        return failed("lock");
    }
    d.control_ = open_fifo(dir.get(), "control", 0600, O_RDWR);
    if (!d.control_) return failed("create control FIFO in");
    d.status_ =
        unique_fd(::openat(dir.get(), "status", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!d.status_) return failed("create status in");
    d.ok_ = open_fifo(dir.get(), "ok", 0666, O_RDONLY);
    if (!d.ok_) return failed("create ok FIFO in");
    for (unique_fd* fd : {&d.lock_, &d.control_, &d.status_, &d.ok_}) move_high(*fd);
    return d;
}

result<void> supervise_dir::write_status(const status_bytes& bytes) noexcept {
    if (::pwrite(status_.get(), bytes.data(), bytes.size(), 0) !=
        static_cast<ssize_t>(bytes.size())) {
        return fail();
    }
    return {};
}

}  // namespace hw::svc
