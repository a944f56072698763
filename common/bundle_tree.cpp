#include "bundle_tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <deque>
#include <system_error>
#include <unordered_map>

#include "unique_fd.hpp"

namespace hw {

namespace {

struct dir_entry {
    std::string name;
    unsigned char type;  // DT_*
};

struct dir_closer {
    void operator()(DIR* d) const noexcept { ::closedir(d); }
};

std::string errno_text(int err) { return std::system_category().message(err); }

// The entries of the directory open on `fd` (borrowed), without "." and "..", sorted by name.
// On failure returns the errno.
int list_dir(int fd, std::vector<dir_entry>& out) {
    out.clear();
    unique_fd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
    if (!copy) return errno;
    // fdopendir takes over the descriptor; closedir closes it.
    std::unique_ptr<DIR, dir_closer> dir(::fdopendir(copy.get()));
    if (!dir) return errno;
    copy.release();
    ::rewinddir(dir.get());
    errno = 0;
    while (dirent* e = ::readdir(dir.get())) {
        std::string_view n(e->d_name);
        if (n != "." && n != "..") out.push_back({std::string(n), e->d_type});
        errno = 0;
    }
    if (errno) return errno;
    std::sort(out.begin(), out.end(),
              [](const dir_entry& a, const dir_entry& b) { return a.name < b.name; });
    return 0;
}

const dir_entry* find_entry(const std::vector<dir_entry>& entries, std::string_view name) {
    auto it = std::lower_bound(entries.begin(), entries.end(), name,
                               [](const dir_entry& e, std::string_view n) { return e.name < n; });
    return it != entries.end() && it->name == name ? &*it : nullptr;
}

std::string read_link(int dirfd, const char* name) {
    char buf[PATH_MAX];
    ssize_t n = ::readlinkat(dirfd, name, buf, sizeof buf);
    return n < 0 ? std::string() : std::string(buf, static_cast<std::size_t>(n));
}

// The symlink-free path of the directory open on `fd`: the kernel's own name for it through
// /proc, or realpath() of `logical` when /proc is not there.
std::string physical_path(int fd, const std::string& logical) {
    char proc[32];
    std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    std::string path = read_link(AT_FDCWD, proc);
    if (!path.empty() && path[0] == '/') return path;
    if (char* real = ::realpath(logical.c_str(), nullptr)) {
        path = real;
        std::free(real);
        return path;
    }
    return logical;
}

std::string_view basename_of(std::string_view path) {
    while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
    auto slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// "90", "1.5", "0": seconds as a decimal number with an optional fraction.
std::optional<std::chrono::milliseconds> parse_seconds(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    if (text.empty()) return std::nullopt;
    auto dot = text.find('.');
    auto whole = text.substr(0, dot);
    std::uint64_t secs = 0;
    if (whole.empty() && dot == std::string_view::npos) return std::nullopt;
    if (!whole.empty()) {
        auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), secs);
        if (ec != std::errc() || p != whole.data() + whole.size() || secs > 100'000'000)
            return std::nullopt;
    }
    std::uint64_t ms = secs * 1000;
    if (dot != std::string_view::npos) {
        auto frac = text.substr(dot + 1);
        if (frac.empty() && whole.empty()) return std::nullopt;
        std::uint64_t scale = 100;
        for (char c : frac) {
            if (c < '0' || c > '9') return std::nullopt;
            ms += static_cast<std::uint64_t>(c - '0') * scale;
            scale /= 10;
        }
    }
    return std::chrono::milliseconds(ms);
}

struct inode_key {
    dev_t dev;
    ino_t ino;
    bool operator==(const inode_key&) const = default;
};
struct inode_hash {
    std::size_t operator()(const inode_key& k) const noexcept {
        return std::hash<std::uint64_t>()(static_cast<std::uint64_t>(k.ino) * 1000003u ^
                                          static_cast<std::uint64_t>(k.dev));
    }
};

constexpr std::size_t max_queued_fds = 128;

}  // namespace

struct bundle_loader::impl {
    struct pending {
        node_id id;
        unique_fd fd;  // empty: reopen by path (too many were open)
    };

    bundle_path search;
    options opts;
    std::vector<bundle> bundles;
    graph_builder builder;
    diagnostics problems;
    std::unordered_map<inode_key, node_id, inode_hash> by_inode;
    std::deque<pending> queue;
    std::size_t queued_fds = 0;

    void report(std::string file, std::string message,
                diagnostic::level lvl = diagnostic::level::error, unsigned line = 0) {
        problems.push_back({lvl, std::move(file), line, std::move(message)});
    }

    // Registers the directory open on `fd`, whose stat is `st`; returns its id. `logical` is
    // how it was reached. `log_parent` is the bundle whose `log` this is, if so.
    node_id discover(unique_fd fd, const struct stat& st, const std::string& logical,
                     const bundle* log_parent) {
        inode_key key{st.st_dev, st.st_ino};
        if (auto it = by_inode.find(key); it != by_inode.end()) return it->second;
        bundle b;
        b.path = physical_path(fd.get(), logical);
        b.name = std::string(basename_of(b.path));
        // A daemontools-style log/ subdirectory is named after its main service.
        if (log_parent && b.name == "log") b.name = log_parent->name + "/log";
        b.dev = st.st_dev;
        b.ino = st.st_ino;
        b.service_dir = b.path;
        node_id id = builder.add_node(b.name);
        bundles.push_back(std::move(b));
        by_inode.emplace(key, id);
        if (queued_fds >= max_queued_fds) fd.reset();
        if (fd) ++queued_fds;
        queue.push_back({id, std::move(fd)});
        return id;
    }

    // Follows entry `name` of the directory `dirfd` (whose path is `dir_path`) to a bundle.
    // Records a diagnostic and returns nullopt when it does not lead to a directory.
    std::optional<node_id> follow(int dirfd, const std::string& dir_path, const std::string& name,
                                  const bundle* log_parent) {
        std::string where = dir_path + "/" + name;
        struct stat st;
        if (::fstatat(dirfd, name.c_str(), &st, 0) != 0) {
            int err = errno;
            std::string target = read_link(dirfd, name.c_str());
            if (err == ENOENT && !target.empty())
                report(where, fmt::format("dangling link to {}", target));
            else
                report(where, fmt::format("unable to follow: {}", errno_text(err)));
            return std::nullopt;
        }
        if (!S_ISDIR(st.st_mode)) {
            report(where, "not a directory or a link to one");
            return std::nullopt;
        }
        if (auto it = by_inode.find({st.st_dev, st.st_ino}); it != by_inode.end())
            return it->second;
        unique_fd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!fd) {
            report(where, fmt::format("unable to open: {}", errno_text(errno)));
            return std::nullopt;
        }
        return discover(std::move(fd), st, where, log_parent);
    }

    std::optional<node_id> open_path(const std::string& path) {
        unique_fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        struct stat st;
        if (!fd || ::fstat(fd.get(), &st) != 0) {
            report(path, fmt::format("unable to open: {}", errno_text(errno)));
            return std::nullopt;
        }
        return discover(std::move(fd), st, path, nullptr);
    }

    void drain() {
        while (!queue.empty()) {
            pending p = std::move(queue.front());
            queue.pop_front();
            if (p.fd) {
                --queued_fds;
            } else {
                p.fd.reset(::open(bundles[p.id].path.c_str(),
                                  O_RDONLY | O_DIRECTORY | O_CLOEXEC));
                if (!p.fd) {
                    report(bundles[p.id].path, fmt::format("unable to open: {}", errno_text(errno)));
                    continue;
                }
            }
            read_bundle(p.id, p.fd.get());
        }
    }

    void read_service_dir(node_id id, int svc_fd) {
        std::vector<dir_entry> entries;
        const std::string svc_path = bundles[id].service_dir;
        if (int err = list_dir(svc_fd, entries)) {
            report(svc_path, fmt::format("unable to read: {}", errno_text(err)));
            return;
        }
        bundle& b = bundles[id];
        b.flags.down = find_entry(entries, "down");
        b.flags.remain = find_entry(entries, "remain");
        b.flags.ready_after_run = find_entry(entries, "ready_after_run");
        b.flags.use_hangup = find_entry(entries, "use_hangup");
        b.flags.no_kill_signal = find_entry(entries, "no_kill_signal");
        b.has_run = find_entry(entries, "run");
        if (find_entry(entries, "timeout-start"))
            b.start_timeout = read_timeout(svc_fd, svc_path, "timeout-start");
        if (find_entry(entries, "timeout-stop"))
            b.stop_timeout = read_timeout(svc_fd, svc_path, "timeout-stop");
        if (!opts.lint) return;
        if (!b.has_run) report(svc_path, "no run program");
        for (const char* prog : {"start", "run", "stop", "restart"}) {
            if (find_entry(entries, prog) && ::faccessat(svc_fd, prog, X_OK, 0) != 0)
                report(svc_path + "/" + prog, fmt::format("not executable: {}", errno_text(errno)));
        }
    }

    std::optional<std::chrono::milliseconds> read_timeout(int dirfd, const std::string& dir,
                                                          const char* file) {
        std::string where = dir + "/" + file;
        unique_fd fd(::openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOCTTY));
        char buf[64];
        ssize_t n = fd ? ::read(fd.get(), buf, sizeof buf) : -1;
        if (n < 0) {
            report(where, fmt::format("unable to read: {}", errno_text(errno)));
            return std::nullopt;
        }
        std::string_view text(buf, static_cast<std::size_t>(n));
        auto value = parse_seconds(text.substr(0, text.find('\n')));
        if (!value || n == static_cast<ssize_t>(sizeof buf))
            report(where, "not a number of seconds (like 90 or 1.5)", diagnostic::level::error, 1);
        return value;
    }

    void read_bundle(node_id id, int fd) {
        std::vector<dir_entry> entries;
        const std::string path = bundles[id].path;
        if (int err = list_dir(fd, entries)) {
            report(path, fmt::format("unable to read: {}", errno_text(err)));
            return;
        }
        if (opts.lint) {
            std::string_view name = bundles[id].name;
            if (name.ends_with("/log")) name.remove_suffix(4);
            if (!valid_bundle_name(name))
                report(path, fmt::format("bad bundle name '{}': use 1 to 200 of A-Z a-z 0-9 @ . _ : "
                                         "+ - and do not start with . or -",
                                         bundles[id].name));
        }
        unique_fd svc;
        if (find_entry(entries, "service")) {
            svc.reset(::openat(fd, "service", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            if (!svc) report(path + "/service", fmt::format("unable to open: {}", errno_text(errno)));
            else bundles[id].service_dir = path + "/service";
        }
        read_service_dir(id, svc ? svc.get() : fd);

        std::vector<dir_entry> links;
        for (edge_kind kind : all_edge_kinds) {
            if (kind == edge_kind::log) continue;
            std::string kind_name(edge_kind_name(kind));
            if (!find_entry(entries, kind_name)) continue;
            std::string dir = path + "/" + kind_name;
            unique_fd kfd(::openat(fd, kind_name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            int err = kfd ? list_dir(kfd.get(), links) : errno;
            if (err) {
                report(dir, err == ENOTDIR ? std::string("not a directory")
                                           : fmt::format("unable to read: {}", errno_text(err)));
                continue;
            }
            for (const auto& link : links) {
                if (link.name[0] == '.') continue;
                if (auto target = follow(kfd.get(), dir, link.name, nullptr))
                    builder.add_edge(id, kind, *target);
            }
        }
        if (find_entry(entries, "log")) {
            if (auto target = follow(fd, path, "log", &bundles[id]))
                builder.add_edge(id, edge_kind::log, *target);
        }
    }

    void check_names() {
        std::vector<node_id> ids(bundles.size());
        for (node_id i = 0; i < ids.size(); ++i) ids[i] = i;
        std::stable_sort(ids.begin(), ids.end(), [this](node_id a, node_id b) {
            return bundles[a].name < bundles[b].name;
        });
        for (std::size_t i = 1; i < ids.size(); ++i) {
            const bundle& first = bundles[ids[i - 1]];
            const bundle& again = bundles[ids[i]];
            if (first.name == again.name)
                report(again.path, fmt::format("name '{}' is also the name of {}", again.name,
                                               first.path));
        }
    }
};

bundle_loader::bundle_loader(bundle_path search, options opts)
    : impl_(std::make_unique<impl>(impl{std::move(search), opts, {}, {}, {}, {}, {}, 0})) {}

bundle_loader::~bundle_loader() = default;

const bundle_path& bundle_loader::search_path() const noexcept { return impl_->search; }

std::optional<node_id> bundle_loader::load(std::string_view name) {
    auto path = impl_->search.resolve(name);
    if (!path) {
        std::string where;
        for (const auto& root : impl_->search.roots()) where += (where.empty() ? "" : ", ") + root;
        if (name.find('/') != std::string_view::npos)
            impl_->report(std::string(name), "no such bundle directory");
        else
            impl_->report(std::string(name), fmt::format("no such bundle in {}", where));
        return std::nullopt;
    }
    auto id = impl_->open_path(*path);
    impl_->drain();
    return id;
}

void bundle_loader::load_all() {
    std::vector<dir_entry> entries;
    for (const auto& root : impl_->search.roots()) {
        for (const char* sub : {"/targets", "/services"}) {
            std::string dir = root + sub;
            unique_fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            int err = fd ? list_dir(fd.get(), entries) : errno;
            if (err == ENOENT) continue;
            if (err) {
                impl_->report(dir, fmt::format("unable to read: {}", errno_text(err)));
                continue;
            }
            for (const auto& e : entries) {
                if (e.name[0] == '.') continue;
                impl_->follow(fd.get(), dir, e.name, nullptr);
            }
            impl_->drain();
        }
    }
}

std::optional<node_id> bundle_loader::find(dev_t dev, ino_t ino) const {
    if (auto it = impl_->by_inode.find({dev, ino}); it != impl_->by_inode.end()) return it->second;
    return std::nullopt;
}

bundle_tree bundle_loader::finish() && {
    impl_->drain();
    impl_->check_names();
    bundle_tree tree;
    tree.bundles = std::move(impl_->bundles);
    tree.relations = std::move(impl_->builder).build();
    tree.problems = std::move(impl_->problems);
    return tree;
}

bundle_tree load_bundles(const bundle_path& search, const std::vector<std::string>& names,
                         bundle_loader::options opts) {
    bundle_loader loader(search, opts);
    if (names.empty()) loader.load_all();
    for (const auto& n : names) loader.load(n);
    return std::move(loader).finish();
}

}  // namespace hw
