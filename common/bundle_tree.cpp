#include "bundle_tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <deque>
#include <system_error>
#include <unordered_map>

#include "path_facts.hpp"
#include "protocol.hpp"
#include "unique_fd.hpp"

namespace hw {

namespace {

struct dir_entry {
    std::string name;
    unsigned char type;  // DT_*
};

std::string errno_text(int err) {
    return std::system_category().message(err);
}

// The entries of the directory open on `fd` (borrowed, freshly opened: read from offset 0),
// without "." and "..", sorted by name. Returns 0 or the errno. Uses getdents64 directly: a
// bundle tree is thousands of small directories, and opendir() costs four extra system calls
// per directory.
int list_dir(int fd, std::vector<dir_entry>& out) {
    out.clear();
    alignas(8) char buf[16384];
    for (;;) {
        long n = ::syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (n < 0) return errno;
        if (n == 0) break;
        for (long pos = 0; pos < n;) {
            struct raw_dirent {
                ino64_t ino;
                off64_t off;
                unsigned short reclen;
                unsigned char type;
                char name[1];
            };
            auto* e = reinterpret_cast<raw_dirent*>(buf + pos);
            std::string_view name(e->name);
            if (name != "." && name != "..") out.push_back({std::string(name), e->type});
            pos += e->reclen;
        }
    }
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

std::string_view basename_of(std::string_view path) {
    while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
    auto slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
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

}  // namespace

// Identity first, contents later: a bundle gets its id when a link to it is first followed, and
// is opened once, when its contents are read.
//
// Following a link: when the directory holding it has a physical (symlink-free) path and the
// link reads like "../../name" (any number of "..", then names), the loader walks it itself with
// lstat() of each name below the last "..": if every one is a real directory, the target's
// physical path is that path, with no system call spent on the link besides readlink(). Every
// other link is followed by the kernel (fstatat), and the target's physical path is the kernel's
// name for it once it is opened (physical_path()). Bundles that are only named (never read) get
// their path in finish().
//
// Every stat is noted in `facts` (path_facts.hpp) before what depends on it is read, so that a
// cache can later prove the result current.
struct bundle_loader::impl {
    struct edge {
        node_id from;
        edge_kind kind;
        node_id to;
    };
    // Where a walked link led: a directory (state.is_dir()), something else, or nowhere (ENOENT).
    struct walked {
        std::string path;
        path_state state;
    };

    bundle_path search{{}};
    options opts;
    path_facts facts;
    std::vector<bundle> bundles;  // path is the logical path until resolved
    std::vector<node_id> log_of;  // per bundle: whose `log` it was first reached as, or no_node
    std::vector<bool> resolved;   // per bundle: path and name are final
    std::vector<std::size_t> resolve_fact_of;  // per bundle: facts.resolves() index, or npos
    std::vector<edge> edges;
    diagnostics problems;
    std::unordered_map<inode_key, node_id, inode_hash> by_inode;
    std::unordered_map<std::string, node_id> absent_by_path;  // the `missing` bundles
    std::deque<node_id> queue;

    static constexpr std::size_t npos = std::size_t(-1);

    void report(std::string file, std::string message,
                diagnostic::level lvl = diagnostic::level::error, unsigned line = 0) {
        problems.push_back({lvl, std::move(file), line, std::move(message)});
    }
    // A problem the system reported (not one of the tree's contents): no fact stands for it.
    void report_failure(std::string file, std::string message) {
        facts.give_up();
        report(std::move(file), std::move(message));
    }

    // The id of the directory (dev, ino), reached as `path` (`physical`: a physical path); a new
    // one if unseen. `read`: queue its contents for reading (else it is only named, until
    // reached again).
    node_id discover(std::uint64_t dev, std::uint64_t ino, std::string path, bool physical,
                     node_id log_parent, bool read) {
        inode_key key{static_cast<dev_t>(dev), static_cast<ino_t>(ino)};
        node_id id;
        if (auto it = by_inode.find(key); it != by_inode.end()) {
            id = it->second;
        } else {
            bundle b;
            b.path = std::move(path);
            b.dev = key.dev;
            b.ino = key.ino;
            id = add_node(std::move(b), log_parent);
            by_inode.emplace(key, id);
            if (physical) name(id);
        }
        if (read && !bundles[id].contents_read) {
            bundles[id].contents_read = true;  // from now on: read, or queued to be
            queue.push_back(id);
        }
        return id;
    }

    // Sets the bundle's name from its (final, physical) path.
    void name(node_id id) {
        bundle& b = bundles[id];
        b.service_dir = b.path;
        b.name = std::string(basename_of(b.path));
        // A daemontools-style log/ subdirectory is named after its main service.
        if (log_of[id] != no_node && b.name == "log") {
            const bundle& parent = bundles[log_of[id]];
            b.name = std::string(resolved[log_of[id]] ? std::string_view(parent.name)
                                                      : basename_of(parent.path)) +
                     ".log";
        }
        resolved[id] = true;
    }

    // Sets the physical path of a bundle reached through the kernel, from the open `fd`.
    void resolve(node_id id, int fd) {
        if (resolved[id]) return;
        std::string physical = physical_path(fd, bundles[id].path);
        if (physical.empty())
            facts.give_up();  // the logical path stands in for it
        else
            bundles[id].path = std::move(physical);
        if (resolve_fact_of[id] != npos) facts.set_physical(resolve_fact_of[id], bundles[id].path);
        name(id);
    }

    // Walks `text` (a link's contents, or an entry's name) from the directory whose physical
    // path is `dir`, as the kernel would, by lstat() of each name. nullopt when the walk is not
    // one the loader does itself: a "." or ".." after a name, an absolute link, a symlink on the
    // way, an error other than a missing name.
    std::optional<walked> walk(const std::string& dir, std::string_view text) {
        if (text.empty() || text.front() == '/') return std::nullopt;
        std::string path = dir == "/" ? std::string() : dir;
        bool down = false;
        path_state state;
        for (std::size_t pos = 0; pos <= text.size();) {
            std::size_t slash = std::min(text.find('/', pos), text.size());
            std::string_view part = text.substr(pos, slash - pos);
            pos = slash + 1;
            if (part.empty()) continue;
            if (part == "." || part == "..") {
                if (down) return std::nullopt;
                if (part == "..") path.resize(std::min(path.rfind('/'), path.size()));
                continue;
            }
            down = true;
            path += '/';
            path += part;
            state = facts.look(path, false);
            if (state.error == ENOENT) return walked{std::move(path), state};
            if (state.error || S_ISLNK(state.mode)) return std::nullopt;
            if (!S_ISDIR(state.mode) && pos <= text.size()) return std::nullopt;  // "file/..."
        }
        if (!down) return std::nullopt;
        return walked{std::move(path), state};
    }

    // What a link that leads nowhere means where it is found.
    enum class if_dangling {
        error,   // a problem (a `log` link, an entry of targets/ or services/)
        ignore,  // a note, and no edge: wants/, after/, conflicts/... may name a bundle that a
                 // generator or a package adds later (fstab-mounts, serial-gettys)
        absent,  // requires/: an error, and an edge to a `missing` bundle, which can never
                 // start, so that what requires it fails instead of starting without it
    };

    // A dangling link `where` whose contents are `text`, leading to `path` (absolute when known,
    // else as written); see if_dangling.
    std::optional<node_id> dangling(const std::string& where, const std::string& text,
                                    std::string path, if_dangling policy) {
        switch (policy) {
            case if_dangling::error:
                report(where, fmt::format("dangling link to {}", text));
                return std::nullopt;
            case if_dangling::ignore:
                report(where, fmt::format("dangling link to {}: no such bundle (yet); ignored", text),
                       diagnostic::level::note);
                return std::nullopt;
            case if_dangling::absent:
                report(where, fmt::format("dangling link to {}: a requirement that does not exist, "
                                          "so what requires it cannot start",
                                          text));
                return absent(std::move(path));
        }
        return std::nullopt;
    }

    // The `missing` bundle standing for the nonexistent directory `path` (one per path).
    node_id absent(std::string path) {
        if (auto it = absent_by_path.find(path); it != absent_by_path.end()) return it->second;
        bundle b;
        b.path = path;
        b.missing = true;
        node_id id = add_node(std::move(b), no_node);
        absent_by_path.emplace(std::move(path), id);
        name(id);
        return id;
    }

    // Appends `b` with its per-node bookkeeping (not resolved yet); returns its id.
    node_id add_node(bundle b, node_id log_parent) {
        auto id = static_cast<node_id>(bundles.size());
        bundles.push_back(std::move(b));
        log_of.push_back(log_parent);
        resolved.push_back(false);
        resolve_fact_of.push_back(npos);
        return id;
    }

    // Follows entry `e` of the directory `dirfd`, shown as `dir` and whose physical path is
    // `physical_dir` (empty if unknown), to a bundle. Records a diagnostic and returns nullopt
    // when it does not lead to a directory (or the `missing` bundle; see if_dangling).
    std::optional<node_id> follow(int dirfd, const std::string& dir,
                                  const std::string& physical_dir, const dir_entry& e,
                                  node_id log_parent, bool read,
                                  if_dangling policy = if_dangling::error) {
        std::string where = dir + "/" + e.name;
        std::string text = e.type == DT_LNK   ? read_link(dirfd, e.name.c_str())
                           : e.type == DT_DIR ? e.name
                                              : std::string();
        if (!physical_dir.empty() && !text.empty()) {
            if (auto w = walk(physical_dir, text)) {
                if (w->state.is_dir())
                    return discover(w->state.dev, w->state.ino, std::move(w->path), true,
                                    log_parent, read);
                if (w->state.error == ENOENT && e.type == DT_LNK)
                    return dangling(where, text, std::move(w->path), policy);
                if (!w->state.error) {
                    report(where, "not a directory or a link to one");
                    return std::nullopt;
                }
            }
        }
        struct stat st;
        if (::fstatat(dirfd, e.name.c_str(), &st, 0) != 0) {
            int err = errno;
            std::string target = read_link(dirfd, e.name.c_str());
            facts.give_up();  // the kernel followed it: no fact stands for what it found
            if (err == ENOENT && !target.empty())
                return dangling(where, target, target.starts_with('/') ? target : dir + "/" + target,
                                policy);
            report(where, fmt::format("unable to follow: {}", errno_text(err)));
            return std::nullopt;
        }
        if (!S_ISDIR(st.st_mode)) {
            report_failure(where, "not a directory or a link to one");
            return std::nullopt;
        }
        return discover_logical(path_state::of(st), std::move(where), log_parent, read);
    }

    // A directory reached through the kernel as `path`: noted as a resolve fact, whose physical
    // path resolve() fills in if it is a new bundle.
    node_id discover_logical(const path_state& st, std::string path, node_id log_parent,
                             bool read) {
        std::size_t fact = facts.note_resolve(path, st);
        std::size_t before = bundles.size();
        node_id id = discover(st.dev, st.ino, std::move(path), false, log_parent, read);
        if (bundles.size() > before) resolve_fact_of[id] = fact;
        return id;
    }

    void drain() {
        while (!queue.empty()) {
            node_id id = queue.front();
            queue.pop_front();
            unique_fd fd(::open(bundles[id].path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            if (!fd) {
                report_failure(bundles[id].path,
                               fmt::format("unable to open: {}", errno_text(errno)));
                continue;
            }
            resolve(id, fd.get());
            read_bundle(id, fd.get());
        }
    }

    // Paths and names of the bundles that were only named.
    void resolve_the_rest() {
        for (node_id id = 0; id < bundles.size(); ++id) {
            if (resolved[id]) continue;
            unique_fd fd(::open(bundles[id].path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
            resolve(id, fd ? fd.get() : -1);
        }
    }

    // Lists the directory open on `fd`, whose path is `path`, after noting its state (`follow`:
    // `path` may end in a symlink) unless a walk already did. Returns 0 or the errno.
    int list_noted(int fd, const std::string& path, bool follow, std::vector<dir_entry>& out) {
        struct stat st;
        if (!facts.noted(path, follow)) {
            if (::fstat(fd, &st) != 0) return errno;
            facts.note(path, follow, path_state::of(st));
        }
        return list_dir(fd, out);
    }

    // `entries`: the listing of svc_fd.
    void read_service_dir(node_id id, int svc_fd, const std::vector<dir_entry>& entries) {
        const std::string svc_path = bundles[id].service_dir;
        bundle& b = bundles[id];
        b.flags.down = find_entry(entries, "down");
        b.flags.remain = find_entry(entries, "remain");
        b.flags.ready_after_run = find_entry(entries, "ready_after_run");
        b.flags.use_hangup = find_entry(entries, "use_hangup");
        b.flags.no_kill_signal = find_entry(entries, "no_kill_signal");
        b.has_run = find_entry(entries, "run");
        if (auto e = find_entry(entries, "timeout-start"))
            b.start_timeout = read_timeout(svc_fd, svc_path, *e);
        if (auto e = find_entry(entries, "timeout-stop"))
            b.stop_timeout = read_timeout(svc_fd, svc_path, *e);
        if (!opts.lint) return;
        std::string_view parent = std::string_view(b.path).substr(0, b.path.rfind('/'));
        if (!b.has_run && !parent.ends_with("/targets"))
            report(svc_path, "no run program (so it would be up at once, like a target)");
        for (const char* prog : {"start", "run", "stop", "restart"}) {
            if (find_entry(entries, prog) && ::faccessat(svc_fd, prog, X_OK, 0) != 0)
                report(svc_path + "/" + prog, fmt::format("not executable: {}", errno_text(errno)));
        }
        if (find_entry(entries, "cgroup")) lint_cgroup_settings(svc_fd, svc_path + "/cgroup");
    }

    // service/cgroup/: names the service-manager would refuse to load.
    void lint_cgroup_settings(int svc_fd, const std::string& path) {
        unique_fd fd(::openat(svc_fd, "cgroup", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        std::vector<dir_entry> settings;
        if (int err = fd ? list_dir(fd.get(), settings) : errno) {
            report(path, fmt::format("unable to read: {}", errno_text(err)));
            return;
        }
        for (const auto& e : settings) {
            if (e.name.starts_with('.') || valid_cgroup_setting(e.name)) continue;
            report(path + "/" + e.name, "not a cgroup setting (controller.setting, never cgroup.*)");
        }
    }

    std::optional<std::chrono::milliseconds> read_timeout(int dirfd, const std::string& dir,
                                                          const dir_entry& file) {
        std::string where = dir + "/" + file.name;
        unique_fd fd(::openat(dirfd, file.name.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
        struct stat st;
        if (fd && ::fstat(fd.get(), &st) == 0)
            facts.note(where, file.type != DT_REG, path_state::of(st));
        char buf[64];
        ssize_t n = fd ? ::read(fd.get(), buf, sizeof buf) : -1;
        if (n < 0) {
            report_failure(where, fmt::format("unable to read: {}", errno_text(errno)));
            return std::nullopt;
        }
        std::string_view text(buf, static_cast<std::size_t>(n));
        auto value = parse_seconds(text);
        if (!value || n == static_cast<ssize_t>(sizeof buf))
            report(where, "not a number of seconds (like 90 or 1.5)", diagnostic::level::error, 1);
        return value;
    }

    void read_bundle(node_id id, int fd) {
        std::vector<dir_entry> entries;
        const std::string path = bundles[id].path;
        // Its own path is physical unless physical_path() failed (and facts gave up).
        if (int err = list_noted(fd, path, false, entries)) {
            report_failure(path, fmt::format("unable to read: {}", errno_text(err)));
            return;
        }
        if (opts.lint) {
            facts.give_up();  // faccessat() results are not facts
            if (!valid_bundle_name(bundles[id].name))
                report(path, fmt::format("bad bundle name '{}': use 1 to {} of A-Z a-z 0-9 @ . _ "
                                         ": + - and do not start with . or -",
                                         bundles[id].name, proto::max_name));
        }
        if (auto e = find_entry(entries, "service")) {
            std::vector<dir_entry> svc_entries;
            std::string svc_path = path + "/service";
            unique_fd svc(::openat(fd, "service", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            int err = svc ? list_noted(svc.get(), svc_path, e->type != DT_DIR, svc_entries) : errno;
            if (err) {
                report_failure(svc_path, fmt::format("unable to read: {}", errno_text(err)));
            } else {
                bundles[id].service_dir = std::move(svc_path);
                read_service_dir(id, svc.get(), svc_entries);
            }
        } else {
            read_service_dir(id, fd, entries);
        }

        std::vector<dir_entry> links;
        for (edge_kind kind : all_edge_kinds) {
            if (kind == edge_kind::log) continue;
            bool install = kind == edge_kind::wanted_by || kind == edge_kind::stopped_by;
            if (install && !opts.install_links) continue;
            bool ordering = kind == edge_kind::after || kind == edge_kind::before;
            std::string kind_name(edge_kind_name(kind));
            const dir_entry* e = find_entry(entries, kind_name);
            if (!e) continue;
            std::string dir = path + "/" + kind_name;
            unique_fd kfd(::openat(fd, kind_name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            int err = kfd ? list_noted(kfd.get(), dir, e->type != DT_DIR, links) : errno;
            if (err) {
                report_failure(dir, err == ENOTDIR
                                        ? std::string("not a directory")
                                        : fmt::format("unable to read: {}", errno_text(err)));
                continue;
            }
            const std::string& physical_dir = e->type == DT_DIR ? dir : std::string();
            for (const auto& link : links) {
                if (link.name[0] == '.') continue;
                bool read = opts.follow_all || !(install || ordering);
                auto policy = kind == edge_kind::requires_ ? if_dangling::absent
                                                            : if_dangling::ignore;
                if (auto target = follow(kfd.get(), dir, physical_dir, link, no_node, read, policy))
                    edges.push_back({id, kind, *target});
            }
        }
        if (auto e = find_entry(entries, "log")) {
            if (auto target = follow(fd, path, path, *e, id, true))
                edges.push_back({id, edge_kind::log, *target});
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
                report(again.path,
                       fmt::format("name '{}' is also the name of {}", again.name, first.path));
        }
    }
};

bundle_loader::bundle_loader(bundle_path search, options opts) : impl_(std::make_unique<impl>()) {
    impl_->search = std::move(search);
    impl_->opts = opts;
}

bundle_loader::~bundle_loader() = default;

const bundle_path& bundle_loader::search_path() const noexcept {
    return impl_->search;
}

std::optional<node_id> bundle_loader::load(std::string_view name) {
    // As bundle_path::resolve(), noting what each candidate is.
    impl& im = *impl_;
    std::optional<std::string> path;
    path_state state;
    for (auto& candidate : im.search.candidates(name)) {
        if (!candidate.starts_with('/')) im.facts.give_up();  // relative to the current directory
        state = im.facts.look(candidate, true);
        if (state.is_dir()) {
            path = std::move(candidate);
            break;
        }
    }
    if (!path) {
        im.facts.give_up();
        std::string where;
        for (const auto& root : im.search.roots()) where += (where.empty() ? "" : ", ") + root;
        if (name.find('/') != std::string_view::npos)
            im.report(std::string(name), "no such bundle directory");
        else
            im.report(std::string(name), fmt::format("no such bundle in {}", where));
        return std::nullopt;
    }
    auto id = im.discover_logical(state, std::move(*path), no_node, true);
    im.drain();
    return id;
}

void bundle_loader::load_all() {
    impl& im = *impl_;
    std::vector<dir_entry> entries;
    for (const auto& root : im.search.roots()) {
        for (const char* sub : {"/targets", "/services"}) {
            std::string dir = root + sub;
            unique_fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            struct stat st;
            int err = fd && ::fstat(fd.get(), &st) != 0 ? errno : fd ? 0 : errno;
            if (err == ENOENT) {
                im.facts.note_resolve(dir, path_state::failed(err));
                continue;
            }
            std::string physical;
            if (!err) {
                physical = physical_path(fd.get(), dir);
                if (physical.empty()) im.facts.give_up();
                im.facts.note_resolve(dir, path_state::of(st), physical);
                err = im.list_noted(fd.get(), physical.empty() ? dir : physical, physical.empty(),
                                    entries);
            }
            if (err) {
                im.report_failure(dir, fmt::format("unable to read: {}", errno_text(err)));
                continue;
            }
            for (const auto& e : entries) {
                if (e.name[0] == '.') continue;
                im.follow(fd.get(), dir, physical, e, no_node, true);
            }
            im.drain();
        }
    }
}

std::optional<node_id> bundle_loader::find(dev_t dev, ino_t ino) const {
    if (auto it = impl_->by_inode.find({dev, ino}); it != impl_->by_inode.end()) return it->second;
    return std::nullopt;
}

bundle_tree bundle_loader::finish(path_facts* facts) && {
    impl_->drain();
    impl_->resolve_the_rest();
    impl_->check_names();
    graph_builder builder;
    for (const auto& b : impl_->bundles) builder.add_node(b.name);
    for (const auto& e : impl_->edges) builder.add_edge(e.from, e.kind, e.to);
    bundle_tree tree;
    tree.bundles = std::move(impl_->bundles);
    tree.relations = std::move(builder).build();
    tree.problems = std::move(impl_->problems);
    if (facts) *facts = std::move(impl_->facts);
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
