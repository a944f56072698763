#include "bundle.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/unique_fd.hpp"

namespace hw::svc {

namespace {

std::unexpected<bundle_error> problem(std::string text) {
    return std::unexpected(bundle_error{std::move(text)});
}

bool exists_at(int dirfd, const char* name) {
    struct stat st {};
    return ::fstatat(dirfd, name, &st, 0) == 0;
}

// The contents of a small file, or nullopt if it does not exist.
std::expected<std::optional<std::string>, std::error_code> read_small(int dirfd, const char* name) {
    unique_fd fd(::openat(dirfd, name, O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return std::optional<std::string>{};
        return std::unexpected(errno_code());
    }
    char buf[256];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) return std::unexpected(errno_code());
    return std::optional<std::string>(std::string(buf, static_cast<std::size_t>(n)));
}

std::string absolute(const std::string& path) {
    char buf[PATH_MAX];
    if (::realpath(path.c_str(), buf)) return buf;
    return path;
}

// The supervise directory: the target of a `supervise` symlink (created later if missing), an
// existing writable `supervise` directory, or <run_dir>/supervise/<name>.
std::string resolve_supervise_dir(const std::string& bundle, const std::string& name,
                                  const std::string& run_dir) {
    std::string link = bundle + "/supervise";
    char target[PATH_MAX];
    ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    if (n > 0) {
        std::string t(target, static_cast<std::size_t>(n));
        return t.front() == '/' ? t : bundle + "/" + t;
    }
    struct stat st {};
    if (::stat(link.c_str(), &st) == 0 && S_ISDIR(st.st_mode) &&
        ::access(link.c_str(), W_OK) == 0) {
        return link;
    }
    return run_dir + "/supervise/" + name;
}

}  // namespace

std::optional<std::uint64_t> parse_number(std::string_view text) noexcept {
    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    if (text.empty() || text.size() > 18) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return v;
}

std::expected<bundle_info, bundle_error> read_bundle(const std::string& dir,
                                                     const std::string& name,
                                                     const std::string& run_dir) {
    bundle_info b;
    b.bundle_dir = absolute(dir);
    unique_fd bundle_fd(::open(b.bundle_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!bundle_fd) return problem(fmt::format("{}: {}", b.bundle_dir, errno_code().message()));
    struct stat st {};
    bool has_service = ::fstatat(bundle_fd.get(), "service", &st, 0) == 0 && S_ISDIR(st.st_mode);
    b.service_dir = has_service ? b.bundle_dir + "/service" : b.bundle_dir;
    unique_fd svc(::open(b.service_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!svc) return problem(fmt::format("{}: {}", b.service_dir, errno_code().message()));

    auto& c = b.config;
    c.has_start = exists_at(svc.get(), "start");
    c.has_run = exists_at(svc.get(), "run");
    c.has_restart = exists_at(svc.get(), "restart");
    c.has_stop = exists_at(svc.get(), "stop");
    c.remain = exists_at(svc.get(), "remain");
    c.use_hangup = exists_at(svc.get(), "use_hangup");
    c.no_kill_signal = exists_at(svc.get(), "no_kill_signal");
    b.down = exists_at(svc.get(), "down");
    bool after_run = exists_at(svc.get(), "ready_after_run");
    bool sd_notify = exists_at(svc.get(), "sd_notify");

    struct number_file {
        const char* file;
        std::uint64_t max;
        std::optional<std::uint64_t> value;
    };
    number_file numbers[] = {
        {"notification-fd", 1023, {}},         {"timeout-start", 1ull << 40, {}},
        {"timeout-stop", 1ull << 40, {}},      {"timeout-kill", 1ull << 40, {}},
        {"watchdog-timeout", 1ull << 40, {}},  {"restart-delay", 1ull << 40, {}},
        {"restart-delay-max", 1ull << 40, {}}, {"restart-reset", 1ull << 40, {}},
        {"restart-limit", 1u << 30, {}},
    };
    for (auto& n : numbers) {
        auto text = read_small(svc.get(), n.file);
        if (!text) return problem(fmt::format("{}: {}", n.file, text.error().message()));
        if (!*text) continue;
        n.value = parse_number(**text);
        if (!n.value || *n.value > n.max) {
            return problem(fmt::format("{}: not a number up to {}: {}", n.file, n.max, **text));
        }
    }
    auto ms = [&](int i, milliseconds dflt) {
        return numbers[i].value ? milliseconds(*numbers[i].value) : dflt;
    };
    if (numbers[0].value) {
        if (*numbers[0].value < 3) {
            return problem("notification-fd: must be 3 or more (0, 1 and 2 are stdio)");
        }
        b.notification_fd = static_cast<int>(*numbers[0].value);
    }
    c.start_timeout = ms(1, c.start_timeout);
    c.stop_timeout = ms(2, ms(3, c.stop_timeout));  // s6's timeout-kill means the same
    c.watchdog_timeout = ms(4, c.watchdog_timeout);
    c.restart_delay = ms(5, c.restart_delay);
    c.restart_delay_max = ms(6, c.restart_delay_max);
    c.restart_reset = ms(7, c.restart_reset);
    if (numbers[8].value) c.restart_limit = static_cast<std::uint32_t>(*numbers[8].value);

    if (after_run) {
        c.ready_by = readiness::after_run;
    } else if (sd_notify) {
        c.ready_by = readiness::sd_notify;
    } else if (b.notification_fd) {
        c.ready_by = readiness::notification_fd;
    }

    std::string log_link = b.bundle_dir + "/log";
    if (::lstat(log_link.c_str(), &st) == 0) {
        char real[PATH_MAX];
        if (!::realpath(log_link.c_str(), real)) {
            return problem(fmt::format("log: {}", errno_code().message()));
        }
        b.log_bundle = real;
    }
    b.supervise_dir = resolve_supervise_dir(b.bundle_dir, name, run_dir);
    return b;
}

}  // namespace hw::svc
