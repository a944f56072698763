#include "bundle_cache.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "unique_fd.hpp"

namespace hw {

namespace {

// Bump when the layout below or the meaning of anything stored changes.
constexpr std::string_view magic = "heartwood bundle cache 2\n";
constexpr std::size_t max_files = 32;

// Appends fixed-size integers and length-prefixed, NUL-terminated strings (so that paths can be
// handed to the kernel straight from the file's bytes).
class writer {
  public:
    template <class T>
    void num(T v) {
        out_.append(reinterpret_cast<const char*>(&v), sizeof v);
    }
    void str(std::string_view s) {
        num(static_cast<std::uint32_t>(s.size()));
        out_.append(s);
        out_.push_back('\0');
    }
    void state(const path_state& s) {
        num(s.error);
        num(s.mode);
        num(s.dev);
        num(s.ino);
        num(s.size);
        num(s.mtime_ns);
        num(s.ctime_ns);
    }
    std::string& bytes() { return out_; }

  private:
    std::string out_;
};

// Reads what writer wrote; after any overrun every read gives zeroes and ok() is false.
class reader {
  public:
    explicit reader(std::string_view in) : in_(in) {}
    template <class T>
    T num() {
        T v{};
        if (take(sizeof v)) std::memcpy(&v, in_.data() + pos_ - sizeof v, sizeof v);
        return v;
    }
    // A view whose data() is NUL-terminated. A string without its NUL, or with one inside, is
    // malformed (its data() would name another path, or none, to the kernel).
    std::string_view str() {
        auto n = num<std::uint32_t>();
        if (!take(std::size_t(n) + 1)) return {};
        auto s = in_.substr(pos_ - n - 1, n);
        if (in_[pos_ - 1] != '\0' || s.find('\0') != std::string_view::npos) {
            ok_ = false;
            return {};
        }
        return s;
    }
    path_state state() {
        path_state s;
        s.error = num<int>();
        s.mode = num<std::uint32_t>();
        s.dev = num<std::uint64_t>();
        s.ino = num<std::uint64_t>();
        s.size = num<std::int64_t>();
        s.mtime_ns = num<std::int64_t>();
        s.ctime_ns = num<std::int64_t>();
        return s;
    }
    // A count of items of at least `item_size` bytes each (so a bad count cannot allocate much).
    std::size_t count(std::size_t item_size) {
        auto n = num<std::uint32_t>();
        if (n > (in_.size() - pos_) / item_size) ok_ = false;
        return ok_ ? n : 0;
    }
    bool ok() const { return ok_; }
    bool at_end() const { return ok_ && pos_ == in_.size(); }

  private:
    bool take(std::size_t n) {
        if (!ok_ || n > in_.size() - pos_) return ok_ = false;
        pos_ += n;
        return true;
    }
    std::string_view in_;
    std::size_t pos_ = 0;
    bool ok_ = true;
};

std::string request_key(const bundle_path& search, const std::vector<std::string>& names,
                        const bundle_loader::options& opts, bool all) {
    std::string key = fmt::format("follow_all={} install_links={} all={}\n", opts.follow_all,
                                  opts.install_links, all);
    for (const auto& r : search.roots()) key += "root " + r + '\n';
    for (const auto& n : names) key += "name " + n + '\n';
    return key;
}

std::string file_name(std::string_view key) {
    std::uint64_t h = 14695981039346656037ull;  // FNV-1a
    for (unsigned char c : key) h = (h ^ c) * 1099511628211ull;
    return fmt::format("bundles-{:016x}", h);
}

// Owned by us and writable by nobody else.
bool trusted(const struct stat& st) {
    return st.st_uid == ::geteuid() && !(st.st_mode & (S_IWGRP | S_IWOTH));
}

bool trusted_dir(const std::string& dir) {
    struct stat st;
    return ::lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && trusted(st);
}

std::optional<std::string> read_file(const std::string& path) {
    unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    struct stat st;
    if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || !trusted(st))
        return std::nullopt;
    std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t got = 0;
    while (got < bytes.size()) {
        ssize_t n = ::read(fd.get(), bytes.data() + got, bytes.size() - got);
        if (n <= 0) return std::nullopt;
        got += static_cast<std::size_t>(n);
    }
    return bytes;
}

std::string serialize(std::string_view key, const cached_bundles& c, const path_facts& facts) {
    writer w;
    w.bytes().append(magic);
    w.str(key);
    w.num(static_cast<std::uint32_t>(facts.paths().size()));
    for (const auto& f : facts.paths()) {
        w.str(f.path);
        w.num(static_cast<std::uint8_t>(f.follow));
        w.state(f.state);
    }
    w.num(static_cast<std::uint32_t>(facts.resolves().size()));
    for (const auto& r : facts.resolves()) {
        w.str(r.path);
        w.state(r.identity);
        w.str(r.physical);
    }
    const bundle_tree& t = c.tree;
    w.num(static_cast<std::uint32_t>(t.bundles.size()));
    for (const auto& b : t.bundles) {
        w.str(b.name);
        w.str(b.path);
        w.str(b.service_dir);
        w.num(static_cast<std::uint64_t>(b.dev));
        w.num(static_cast<std::uint64_t>(b.ino));
        std::uint8_t bits = b.flags.down | b.flags.remain << 1 | b.flags.ready_after_run << 2 |
                            b.flags.use_hangup << 3 | b.flags.no_kill_signal << 4 | b.has_run << 5 |
                            b.contents_read << 6 | b.missing << 7;
        w.num(bits);
        w.num(static_cast<std::int64_t>(b.start_timeout ? b.start_timeout->count() : -1));
        w.num(static_cast<std::int64_t>(b.stop_timeout ? b.stop_timeout->count() : -1));
    }
    w.num(static_cast<std::uint32_t>(t.relations.edge_count()));
    for (node_id id = 0; id < t.relations.size(); ++id)
        for (edge_kind k : all_edge_kinds)
            for (node_id to : t.relations.out(id, k)) {
                w.num(id);
                w.num(static_cast<std::uint8_t>(k));
                w.num(to);
            }
    w.num(static_cast<std::uint32_t>(t.problems.size()));
    for (const auto& d : t.problems) {
        w.num(static_cast<std::uint8_t>(d.severity));
        w.str(d.file);
        w.num(static_cast<std::uint32_t>(d.line));
        w.str(d.message);
    }
    w.num(static_cast<std::uint32_t>(c.ids.size()));
    for (auto id : c.ids) w.num(id.value_or(no_node));
    return std::move(w.bytes());
}

struct stored_fact {
    const char* path;  // into the file's bytes
    bool follow;
    path_state state;
};

// Whether every fact holds, checked on up to 4 threads: with thousands of bundles, these stats
// are most of the time of a cached read, and they are independent.
bool all_hold(const std::vector<stored_fact>& facts) {
    std::atomic<bool> ok = true;
    auto check = [&facts, &ok](std::size_t from, std::size_t to) {
        for (std::size_t i = from; i < to && ok.load(std::memory_order_relaxed); ++i)
            if (!path_fact_holds(facts[i].path, facts[i].follow, facts[i].state)) ok = false;
    };
    std::size_t parts =
        facts.size() < 4096 ? 1 : std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
    std::size_t per = facts.size() / parts, done = per;
    {
        std::vector<std::jthread> helpers;
        try {
            for (std::size_t p = 1; p < parts; ++p, done += per)
                helpers.emplace_back(check, done, p + 1 == parts ? facts.size() : done + per);
        } catch (const std::system_error&) {  // no thread: check the rest here
            check(done, facts.size());
        }
        check(0, per);
    }  // joins the helpers
    return ok;
}

// The stored copy, if it is for `key`, well formed, and paths_hold(facts) and every
// resolve_holds(path, identity, physical) say yes (the facts hold now, for a cached read).
template <class PathsHold, class ResolveHolds>
std::optional<cached_bundles> deserialize(std::string_view bytes, std::string_view key,
                                          PathsHold&& paths_hold, ResolveHolds&& resolve_holds) {
    if (!bytes.starts_with(magic)) return std::nullopt;
    reader r(bytes.substr(magic.size()));
    if (r.str() != key || !r.ok()) return std::nullopt;
    // The facts first: a stale copy costs no more than the stats that show it stale.
    std::vector<stored_fact> facts(r.count(50));
    for (auto& f : facts) {
        f.path = r.str().data();
        f.follow = r.num<std::uint8_t>();
        f.state = r.state();
    }
    if (!r.ok() || !paths_hold(facts)) return std::nullopt;
    for (std::size_t i = 0, n = r.count(50); i < n; ++i) {
        auto path = r.str();
        auto identity = r.state();
        auto physical = r.str();
        if (!r.ok() || !resolve_holds(path.data(), identity, physical)) return std::nullopt;
    }
    cached_bundles c;
    c.from_cache = true;
    auto& bundles = c.tree.bundles;
    bundles.resize(r.count(35));
    graph_builder builder;
    for (auto& b : bundles) {
        b.name = r.str();
        b.path = r.str();
        b.service_dir = r.str();
        b.dev = static_cast<dev_t>(r.num<std::uint64_t>());
        b.ino = static_cast<ino_t>(r.num<std::uint64_t>());
        auto bits = r.num<std::uint8_t>();
        b.flags = {bool(bits & 1), bool(bits & 2), bool(bits & 4), bool(bits & 8), bool(bits & 16)};
        b.has_run = bits & 32;
        b.contents_read = bits & 64;
        b.missing = bits & 128;
        // -1 for none; else what parse_seconds() gives, which jobs add to the clock.
        for (auto* timeout : {&b.start_timeout, &b.stop_timeout}) {
            auto ms = r.num<std::int64_t>();
            if (ms < -1 || std::chrono::milliseconds(ms) > max_seconds) return std::nullopt;
            if (ms >= 0) *timeout = std::chrono::milliseconds(ms);
        }
        builder.add_node(b.name);
    }
    for (std::size_t i = 0, n = r.count(9); i < n; ++i) {
        auto from = r.num<node_id>();
        auto kind = r.num<std::uint8_t>();
        auto to = r.num<node_id>();
        if (from >= bundles.size() || to >= bundles.size() || kind >= edge_kind_count)
            return std::nullopt;
        builder.add_edge(from, static_cast<edge_kind>(kind), to);
    }
    c.tree.relations = std::move(builder).build();
    c.tree.problems.resize(r.count(14));
    for (auto& d : c.tree.problems) {
        auto level = r.num<std::uint8_t>();
        if (level > static_cast<std::uint8_t>(diagnostic::level::note)) return std::nullopt;
        d.severity = static_cast<diagnostic::level>(level);
        d.file = r.str();
        d.line = r.num<std::uint32_t>();
        d.message = r.str();
    }
    c.ids.resize(r.count(4));
    for (auto& id : c.ids)
        if (auto v = r.num<node_id>(); v < bundles.size()) id = v;
    if (!r.at_end()) return std::nullopt;
    return c;
}

// Creates `dir` (and its parent) for our use only, if missing.
bool make_dir(const std::string& dir) {
    std::string parent = std::filesystem::path(dir).parent_path();
    if (!parent.empty() && ::mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST) return false;
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return false;
    return trusted_dir(dir);
}

// Removes the oldest cache files beyond max_files.
void prune(const std::string& dir) {
    namespace fs = std::filesystem;
    std::vector<std::pair<fs::file_time_type, fs::path>> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (!e.path().filename().string().starts_with("bundles-")) continue;
        auto t = e.last_write_time(ec);
        if (!ec) files.emplace_back(t, e.path());
    }
    if (files.size() <= max_files) return;
    std::sort(files.begin(), files.end());
    for (std::size_t i = 0; i + max_files < files.size(); ++i) fs::remove(files[i].second, ec);
}

void store(const std::string& dir, std::string_view key, const cached_bundles& c,
           const path_facts& facts) {
    if (!facts.settled() || !make_dir(dir)) return;
    std::string path = dir + "/" + file_name(key);
    std::string tmp = fmt::format("{}.{}.tmp", path, ::getpid());
    std::string bytes = serialize(key, c, facts);
    {
        unique_fd fd(
            ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (!fd) return;
        std::size_t put = 0;
        while (put < bytes.size()) {
            ssize_t n = ::write(fd.get(), bytes.data() + put, bytes.size() - put);
            if (n <= 0) {
                ::unlink(tmp.c_str());
                return;
            }
            put += static_cast<std::size_t>(n);
        }
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) ::unlink(tmp.c_str());
    prune(dir);
}

}  // namespace

cached_bundles load_bundles_cached(const std::string& cache_dir, const bundle_path& search,
                                   const std::vector<std::string>& names,
                                   bundle_loader::options opts, bool all) {
    bool use_cache = !cache_dir.empty() && !opts.lint;
    std::string key = request_key(search, names, opts, all);
    if (use_cache && trusted_dir(cache_dir)) {
        if (auto bytes = read_file(cache_dir + "/" + file_name(key)))
            if (auto hit = deserialize(*bytes, key, all_hold, resolve_fact_holds))
                return std::move(*hit);
    }
    bundle_loader loader(search, opts);
    if (all) loader.load_all();
    cached_bundles c;
    for (const auto& n : names) c.ids.push_back(loader.load(n));
    path_facts facts;
    c.tree = std::move(loader).finish(&facts);
    if (use_cache) store(cache_dir, key, c, facts);
    return c;
}

std::string encode_cache_file(std::string_view key, const cached_bundles& c,
                              const path_facts& facts) {
    return serialize(key, c, facts);
}

std::optional<cached_bundles> decode_cache_file(std::string_view bytes, std::string_view key,
                                                path_facts& facts) {
    auto paths = [&facts](const std::vector<stored_fact>& stored) {
        for (const auto& f : stored) facts.add(path_fact{f.path, f.follow, f.state});
        return true;
    };
    auto resolve = [&facts](const char* path, const path_state& identity,
                            std::string_view physical) {
        facts.add(resolve_fact{path, identity, std::string(physical)});
        return true;
    };
    return deserialize(bytes, key, paths, resolve);
}

std::string default_bundle_cache_dir() {
    if (const char* env = std::getenv("HEARTWOOD_CACHE_DIR")) return env;
    if (::geteuid() == 0) return "/var/cache/heartwood";
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg == '/')
        return std::string(xdg) + "/heartwood";
    if (const char* home = std::getenv("HOME"); home && *home == '/')
        return std::string(home) + "/.cache/heartwood";
    return {};
}

}  // namespace hw
