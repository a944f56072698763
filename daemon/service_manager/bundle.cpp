#include "bundle.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "common/bundle.hpp"
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

// The files of service/cgroup/, in name order (the order they are written in), each value a
// single line of at most 255 bytes.
std::expected<std::vector<std::pair<std::string, std::string>>, bundle_error> read_cgroup_settings(
    int svc_fd) {
    std::vector<std::pair<std::string, std::string>> out;
    unique_fd dir_fd(::openat(svc_fd, "cgroup", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd) {
        if (errno == ENOENT) return out;
        return problem(fmt::format("cgroup: {}", errno_code().message()));
    }
    DIR* dir = ::fdopendir(dir_fd.get());
    if (!dir) return problem(fmt::format("cgroup: {}", errno_code().message()));
    dir_fd.release();  // the DIR owns it now
    std::unique_ptr<DIR, int (*)(DIR*)> owner(dir, ::closedir);
    constexpr std::size_t max_settings = 64;
    while (dirent* e = ::readdir(dir)) {
        std::string_view name(e->d_name);
        if (name.starts_with('.')) continue;
        if (!valid_cgroup_setting(name)) {
            return problem(fmt::format("cgroup/{}: not a cgroup setting (controller.setting, and "
                                       "never cgroup.*)",
                                       name));
        }
        if (out.size() == max_settings) {
            return problem(fmt::format("cgroup: more than {} settings", max_settings));
        }
        auto text = read_small(::dirfd(dir), e->d_name);
        if (!text || !*text) {
            auto why = text ? "vanished while read" : text.error().message();
            return problem(fmt::format("cgroup/{}: {}", name, why));
        }
        std::string value = std::move(**text);
        while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
        if (value.empty() || value.size() > 255 || value.find('\n') != std::string::npos) {
            return problem(fmt::format("cgroup/{}: not one line of 1 to 255 bytes", name));
        }
        out.emplace_back(std::string(name), std::move(value));
    }
    std::sort(out.begin(), out.end());
    return out;
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

    auto number =
        [&](const char* file,
            std::uint64_t max) -> std::expected<std::optional<std::uint64_t>, bundle_error> {
        auto text = read_small(svc.get(), file);
        if (!text) return problem(fmt::format("{}: {}", file, text.error().message()));
        if (!*text) return std::optional<std::uint64_t>{};
        auto v = parse_number(**text);
        if (!v || *v > max) {
            return problem(fmt::format("{}: not a whole number up to {}: {}", file, max, **text));
        }
        return v;
    };
    auto duration = [&](const char* file, milliseconds& out) -> std::optional<bundle_error> {
        auto text = read_small(svc.get(), file);
        if (!text) return bundle_error{fmt::format("{}: {}", file, text.error().message())};
        if (!*text) return std::nullopt;
        auto v = parse_seconds(**text);
        if (!v) return bundle_error{fmt::format("{}: not a number of seconds: {}", file, **text)};
        out = *v;
        return std::nullopt;
    };
    auto fd = number("notification-fd", 1023);
    if (!fd) return std::unexpected(fd.error());
    if (*fd) {
        if (**fd < 3) return problem("notification-fd: must be 3 or more (0, 1 and 2 are stdio)");
        b.notification_fd = static_cast<int>(**fd);
    }
    auto limit = number("restart-limit", 1u << 30);
    if (!limit) return std::unexpected(limit.error());
    if (*limit) c.restart_limit = static_cast<std::uint32_t>(**limit);
    std::pair<const char*, milliseconds*> durations[] = {
        {"timeout-start", &c.start_timeout},         {"timeout-stop", &c.stop_timeout},
        {"watchdog-timeout", &c.watchdog_timeout},   {"restart-delay", &c.restart_delay},
        {"restart-delay-max", &c.restart_delay_max}, {"restart-reset", &c.restart_reset},
    };
    for (auto& [file, field] : durations) {
        if (auto e = duration(file, *field)) return std::unexpected(*e);
    }

    if (after_run) {
        c.ready_by = readiness::after_run;
    } else if (sd_notify) {
        c.ready_by = readiness::sd_notify;
    } else if (b.notification_fd) {
        c.ready_by = readiness::notification_fd;
    }

    auto settings = read_cgroup_settings(svc.get());
    if (!settings) return std::unexpected(settings.error());
    b.cgroup_settings = std::move(*settings);

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
