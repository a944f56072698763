// system-logger: copies its standard input into a rotated log directory, losing nothing.
//
//   system-logger [--max-file-size BYTES] [--max-total-size BYTES] DIR [DIR...]
//
// The first DIR that can be created and written is used (system-manager passes
// /var/log/system-manager then /run/system-manager/log); SIGHUP makes it choose again, so the
// log moves to /var once that is writable. When standard input is a pipe, data is copied out of
// it with tee(2) and only consumed once it is written to the log file: a logger killed at any
// instant leaves every unwritten byte in the pipe for its successor (at worst a chunk is written
// twice, never lost). It exits 0 at end of input after everything is written, 111 on a fatal
// error. Its own complaints go to standard error (the console, under system-manager).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "daemon/programs.hpp"
#include "log_directory.hpp"

namespace {

using hw::logger::log_directory;
using hw::logger::log_limits;

volatile sig_atomic_t reopen_requested = 0;

struct options {
    log_limits limits;
    std::vector<std::string> dirs;
};

std::optional<std::size_t> parse_size(const char* text) {
    std::size_t value = 0;
    auto end = text + std::char_traits<char>::length(text);
    auto [p, ec] = std::from_chars(text, end, value);
    if (ec != std::errc() || p != end || value == 0) return std::nullopt;
    return value;
}

std::optional<options> parse_args(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if ((arg == "--max-file-size" || arg == "--max-total-size") && i + 1 < argc) {
            auto size = parse_size(argv[++i]);
            if (!size) {
                hw::log::error("bad size for {}: {}", arg, argv[i]);
                return std::nullopt;
            }
            (arg == "--max-file-size" ? o.limits.max_file_size : o.limits.max_total_size) = *size;
        } else if (arg.starts_with("-")) {
            hw::log::error("unknown option {}", arg);
            return std::nullopt;
        } else {
            o.dirs.emplace_back(arg);
        }
    }
    if (o.dirs.empty()) {
        hw::log::error("usage: system-logger [--max-file-size N] [--max-total-size N] DIR...");
        return std::nullopt;
    }
    return o;
}

// What the directories after the one in use hold (the early log in /run, written before
// /var/log was writable) moves to its end. Those before it are left alone: they could not be
// opened for writing, so they may hold an older boot's log on a read-only filesystem.
void take_over_others(log_directory& dir, const options& o) {
    auto in_use = std::find(o.dirs.begin(), o.dirs.end(), dir.path());
    if (in_use == o.dirs.end()) return;
    for (auto other = std::next(in_use); other != o.dirs.end(); ++other) {
        if (auto r = dir.take_over(*other); !r) {
            hw::log::warn("unable to move the log of {} to {}: {}", *other, dir.path(),
                          r.error().message());
        }
    }
}

std::optional<log_directory> open_first(const options& o) {
    for (const auto& dir : o.dirs) {
        auto d = log_directory::open(dir, o.limits);
        if (d) return std::move(*d);
        hw::log::warn("unable to use log directory {}: {}", dir, d.error().message());
    }
    return std::nullopt;
}

timespec now() {
    timespec t{};
    clock_gettime(CLOCK_REALTIME, &t);
    return t;
}

// Reads exactly `n` bytes (or fewer at EOF).
ssize_t read_fully(int fd, char* buf, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
        ssize_t r = ::read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return got > 0 ? static_cast<ssize_t>(got) : r;
        got += static_cast<std::size_t>(r);
    }
    return static_cast<ssize_t>(got);
}

// One round of copying: returns false at end of input.
class copier {
public:
    explicit copier(log_directory& dir) : dir_(&dir) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) == 0) {
            peek_read_.reset(p[0]);
            peek_write_.reset(p[1]);
        }
    }
    void retarget(log_directory& dir) { dir_ = &dir; }

    // Blocks until input arrives. Returns false at EOF, and on EINTR returns true with nothing
    // done so that the caller can look at its signal flags.
    bool copy_once() {
        if (peek_write_) {
            ssize_t n = ::tee(STDIN_FILENO, peek_write_.get(), sizeof buf_, 0);
            if (n == 0) return false;
            if (n > 0) return write_then_consume(static_cast<std::size_t>(n));
            if (errno == EINTR) return true;
            if (errno != EINVAL) hw::log::warn("unable to tee standard input: {}", strerror(errno));
            peek_write_.reset();  // not a pipe: plain reads from here on
        }
        ssize_t n = ::read(STDIN_FILENO, buf_, sizeof buf_);
        if (n < 0 && errno == EINTR) return true;
        if (n <= 0) return false;
        write_out(static_cast<std::size_t>(n));
        return true;
    }

private:
    bool write_then_consume(std::size_t n) {
        ssize_t got = read_fully(peek_read_.get(), buf_, n);
        if (got != static_cast<ssize_t>(n)) {
            hw::log::error("unable to read back teed input: short read");
            std::exit(111);
        }
        write_out(n);
        // Now the bytes are in the log: take them out of the pipe.
        if (read_fully(STDIN_FILENO, discard_, n) != static_cast<ssize_t>(n)) {
            hw::log::warn("standard input shrank while consuming written data");
        }
        return true;
    }

    void write_out(std::size_t n) {
        // A failed write is retried once a second: the data stays in the pipe meanwhile.
        for (;;) {
            auto r = dir_->append({buf_, n}, now());
            if (r) return;
            hw::log::error("unable to write to {}/current: {}", dir_->path(), r.error().message());
            sleep(1);
        }
    }

    log_directory* dir_;
    hw::unique_fd peek_read_, peek_write_;
    char buf_[65536];
    char discard_[65536];
};

}  // namespace

int hw::system_logger_main(int argc, char** argv) {
    hw::log::set_program("system-logger");
    auto opts = parse_args(argc, argv);
    if (!opts) return 100;
    struct sigaction sa {};
    sa.sa_handler = [](int) { reopen_requested = 1; };
    sigaction(SIGHUP, &sa, nullptr);  // no SA_RESTART: tee/read return EINTR
    signal(SIGPIPE, SIG_IGN);
    sigset_t hup;
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    sigprocmask(SIG_UNBLOCK, &hup, nullptr);  // system-manager starts us with it blocked

    auto dir = open_first(*opts);
    if (!dir) {
        hw::log::critical("no usable log directory; giving up");
        return 111;
    }
    take_over_others(*dir, *opts);
    copier c(*dir);
    while (c.copy_once()) {
        if (!reopen_requested) continue;
        reopen_requested = 0;
        if (auto better = open_first(*opts); better && better->path() != dir->path()) {
            hw::log::notice("moving the log to {}", better->path());
            *dir = std::move(*better);
            take_over_others(*dir, *opts);
        }
    }
    return 0;
}
