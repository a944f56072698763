// The bundle cache (common/bundle_cache.hpp) and the facts it rests on (common/path_facts.hpp):
// a stored copy is used while nothing the read looked at changed, and never after any change.
#include "common/bundle_cache.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

namespace fs = std::filesystem;

namespace {

// A temporary directory, removed with everything in it.
struct scratch {
    std::string dir;
    scratch() {
        char tmpl[] = "/tmp/hw-cache-test.XXXXXX";
        REQUIRE(::mkdtemp(tmpl));
        dir = tmpl;
    }
    ~scratch() { fs::remove_all(dir); }
};

void write(const std::string& path, std::string_view text) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << text;
}

// A small tree under `root`: target `all` wants a and b; a requires c and is after d (d is only
// named by a start read); b has a timeout and a log/ subdirectory.
void make_tree(const std::string& root) {
    for (auto s : {"a", "b", "c", "d", "e"}) write(root + "/services/" + s + "/service/run", "");
    write(root + "/targets/all/service/remain", "");
    write(root + "/services/b/service/timeout-start", "5\n");
    write(root + "/services/b/log/service/run", "");
    auto link = [&root](std::string from, std::string kind, std::string to) {
        fs::create_directories(root + "/" + from + "/" + kind);
        fs::create_directory_symlink(
            to, root + "/" + from + "/" + kind + "/" + fs::path(to).filename().string());
    };
    link("targets/all", "wants", "../../../services/a");
    link("targets/all", "wants", "../../../services/b");
    link("services/a", "requires", "../../c");
    link("services/a", "after", "../../d");
}

// Everything a read gives, as text, to compare two reads.
std::string describe(const hw::cached_bundles& r) {
    std::string out;
    const auto& t = r.tree;
    for (hw::node_id id = 0; id < t.bundles.size(); ++id) {
        const auto& b = t.bundles[id];
        out += fmt::format("{} {} {} {} {} {}{}{}{}{} {} {} {} {}\n", id, b.name, b.path,
                           b.service_dir, b.ino, b.flags.down, b.flags.remain,
                           b.flags.ready_after_run, b.flags.use_hangup, b.flags.no_kill_signal,
                           b.start_timeout ? b.start_timeout->count() : -1, b.has_run,
                           b.contents_read, b.missing);
        for (auto k : hw::all_edge_kinds)
            for (auto to : t.relations.out(id, k))
                out += fmt::format("  {} {}\n", hw::edge_kind_name(k), to);
    }
    for (const auto& d : t.problems)
        out += fmt::format("{} {}\n", int(d.severity), hw::to_string(d));
    for (auto id : r.ids) out += fmt::format("id {}\n", id ? int(*id) : -1);
    return out;
}

hw::bundle_loader::options start_read() {
    return {.follow_all = false, .install_links = false};
}

struct tree_case {
    std::string name;
    std::function<void(const std::string& root)> change;
};

}  // namespace

TEST_CASE("the reader sees a wants/ link added after a previous read") {
    scratch s;
    make_tree(s.dir);
    hw::bundle_path search({s.dir});
    auto before = hw::load_bundles(search, {"all"}, start_read());
    CHECK(!before.relations.find("e"));
    fs::create_directory_symlink("../../../services/e", s.dir + "/targets/all/wants/e");
    auto after = hw::load_bundles(search, {"all"}, start_read());
    REQUIRE(after.relations.find("e"));
    CHECK(after.relations.out(*after.relations.find("all"), hw::edge_kind::wants).size() == 3);
}

TEST_CASE("links the loader walks itself and links the kernel follows give the same bundles") {
    scratch s;
    make_tree(s.dir);
    // An absolute link, and a link through a symlinked directory: both followed by the kernel.
    fs::create_directory_symlink(s.dir + "/services/e", s.dir + "/targets/all/wants/e");
    fs::create_directory_symlink(s.dir + "/services", s.dir + "/alias");
    fs::create_directory_symlink("../../../alias/c", s.dir + "/targets/all/wants/c");
    auto tree = hw::load_bundles(hw::bundle_path({s.dir}), {"all"}, start_read());
    CHECK(tree.problems.empty());
    for (auto name : {"a", "b", "c", "d", "e", "b.log"}) {
        auto id = tree.relations.find(name);
        REQUIRE(id);
        CHECK(tree.at(*id).path.find("/alias/") == std::string::npos);
    }
    CHECK(tree.at(*tree.relations.find("e")).path == s.dir + "/services/e");
    CHECK(tree.at(*tree.relations.find("b.log")).path == s.dir + "/services/b/log");
}

TEST_CASE("path facts are not settled while a noted timestamp is under a second old") {
    scratch s;
    make_tree(s.dir);
    hw::bundle_loader loader(hw::bundle_path({s.dir}), start_read());
    loader.load("all");
    hw::path_facts facts;
    std::move(loader).finish(&facts);
    CHECK(facts.usable());
    CHECK(facts.still_true());
    CHECK(!facts.settled());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // past the clock tick of the read
    write(s.dir + "/services/c/service/down", "");
    CHECK(!facts.still_true());
}

TEST_CASE("a cached read is used while nothing changed, and each kind of change invalidates it") {
    std::vector<tree_case> cases = {
        {"a wants/ link added",
         [](auto& r) {
             fs::create_directory_symlink("../../../services/e", r + "/targets/all/wants/e");
         }},
        {"a wants/ link removed", [](auto& r) { fs::remove(r + "/targets/all/wants/b"); }},
        {"a link pointed elsewhere",
         [](auto& r) {
             fs::remove(r + "/services/a/requires/c");
             fs::create_directory_symlink("../../e", r + "/services/a/requires/c");
         }},
        {"a relationship directory added",
         [](auto& r) {
             fs::create_directories(r + "/services/c/wants");
             fs::create_directory_symlink("../../e", r + "/services/c/wants/e");
         }},
        {"a flag file added", [](auto& r) { write(r + "/services/c/service/down", ""); }},
        {"a timeout rewritten",
         [](auto& r) { write(r + "/services/b/service/timeout-start", "7\n"); }},
        {"a bundle directory replaced",
         [](auto& r) {
             fs::rename(r + "/services/c", r + "/services/old-c");
             write(r + "/services/c/service/run", "");
         }},
        {"a bundle only named renamed",
         [](auto& r) {
             fs::rename(r + "/services/d", r + "/services/d2");
             fs::create_directory_symlink("d2", r + "/services/d");
         }},
        {"a log/ subdirectory removed", [](auto& r) { fs::remove_all(r + "/services/b/log"); }},
        {"the named bundle found earlier in the search path",
         [](auto& r) { write(r + "-first/targets/all/service/remain", ""); }},
        {"a symlinked root pointed at another tree",
         [](auto& r) {
             fs::remove(r + "-link");
             fs::create_directory_symlink(r + "-other", r + "-link");
         }},
    };
    scratch s;
    std::string cache = s.dir + "/cache";
    auto root_of = [&s](std::size_t i) { return fmt::format("{}/tree{}", s.dir, i); };
    auto search_of = [&](std::size_t i) {
        std::string r = root_of(i);
        return hw::bundle_path({r + "-first", r + "-link"});
    };
    for (std::size_t i = 0; i < cases.size(); ++i) {
        make_tree(root_of(i));
        make_tree(root_of(i) + "-other");
        write(root_of(i) + "-other/services/a/service/down", "");  // tells the trees apart
        fs::create_directory_symlink(root_of(i), root_of(i) + "-link");
    }
    // Timestamps under a second old are not trusted (path_facts::settled()).
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    for (std::size_t i = 0; i < cases.size(); ++i) {
        CAPTURE(cases[i].name);
        auto fresh = hw::load_bundles_cached("", search_of(i), {"all"}, start_read(), false);
        auto first = hw::load_bundles_cached(cache, search_of(i), {"all"}, start_read(), false);
        auto again = hw::load_bundles_cached(cache, search_of(i), {"all"}, start_read(), false);
        CHECK(!first.from_cache);
        CHECK(again.from_cache);
        CHECK(describe(again) == describe(fresh));
    }
    // Changes within one clock tick of the last read could keep a directory's ctime (that is
    // what settled() guards against); these come well after it.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (std::size_t i = 0; i < cases.size(); ++i) {
        CAPTURE(cases[i].name);
        auto before = hw::load_bundles_cached("", search_of(i), {"all"}, start_read(), false);
        cases[i].change(root_of(i));
        auto fresh = hw::load_bundles_cached("", search_of(i), {"all"}, start_read(), false);
        auto cached = hw::load_bundles_cached(cache, search_of(i), {"all"}, start_read(), false);
        CHECK(describe(fresh) != describe(before));  // the change matters to the read
        CHECK(!cached.from_cache);
        CHECK(describe(cached) == describe(fresh));
    }
}

TEST_CASE("a cache file others could have written, or a damaged one, is not used") {
    scratch s;
    std::string root = s.dir + "/tree", cache = s.dir + "/cache";
    make_tree(root);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    hw::bundle_path search({root});
    hw::load_bundles_cached(cache, search, {"all"}, start_read(), false);
    REQUIRE(hw::load_bundles_cached(cache, search, {"all"}, start_read(), false).from_cache);
    std::string file;
    for (const auto& e : fs::directory_iterator(cache)) file = e.path();
    REQUIRE(!file.empty());

    ::chmod(file.c_str(), 0666);
    CHECK(!hw::load_bundles_cached(cache, search, {"all"}, start_read(), false).from_cache);
    ::chmod(file.c_str(), 0600);
    REQUIRE(hw::load_bundles_cached(cache, search, {"all"}, start_read(), false).from_cache);

    fs::resize_file(file, fs::file_size(file) - 3);
    auto damaged = hw::load_bundles_cached(cache, search, {"all"}, start_read(), false);
    CHECK(!damaged.from_cache);
    CHECK(damaged.tree.relations.find("a"));
}

TEST_CASE("a read that met an error, or a lint read, is never stored; a dangling link is") {
    scratch s;
    std::string root = s.dir + "/tree", broken = s.dir + "/broken", cache = s.dir + "/cache";
    make_tree(root);
    make_tree(broken);
    fs::create_directory_symlink("../../../services/gone", root + "/targets/all/wants/gone");
    fs::create_directories(root + "/targets/all/requires");
    fs::create_directory_symlink("../../../services/lost", root + "/targets/all/requires/lost");
    write(broken + "/services/c/requires", "");  // a file where a directory belongs
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    auto twice = [&cache](const std::string& r, const char* name, hw::bundle_loader::options o) {
        hw::load_bundles_cached(cache, hw::bundle_path({r}), {name}, o, false);
        return hw::load_bundles_cached(cache, hw::bundle_path({r}), {name}, o, false);
    };
    CHECK(!twice(root, "no-such", start_read()).from_cache);
    auto error = twice(broken, "all", start_read());
    CHECK(!error.from_cache);
    CHECK(error.tree.problems.size() == 1);
    hw::bundle_loader::options lint = start_read();
    lint.lint = true;
    CHECK(!twice(root, "all", lint).from_cache);
    auto hit = twice(root, "all", start_read());
    CHECK(hit.from_cache);
    REQUIRE(hit.tree.problems.size() == 2);
    CHECK(hit.tree.problems[0].message ==
          "dangling link to ../../../services/gone: no such bundle (yet); ignored");
    CHECK(hit.tree.problems[0].severity == hw::diagnostic::level::note);
    CHECK(hit.tree.problems[1].message ==
          "dangling link to ../../../services/lost: a requirement that does not exist, so what "
          "requires it cannot start");
    CHECK(hit.tree.problems[1].severity == hw::diagnostic::level::error);
    auto lost = hit.tree.relations.find("lost");
    REQUIRE(lost);
    CHECK(hit.tree.at(*lost).missing);
    CHECK(!hit.tree.at(*hit.tree.relations.find("all")).missing);
    // Once the requirement is installed, the cached read is no longer current.
    write(root + "/services/lost/service/run", "");
    auto fresh = hw::load_bundles_cached(cache, hw::bundle_path({root}), {"all"}, start_read(), false);
    CHECK(!fresh.from_cache);
    CHECK(!fresh.tree.at(*fresh.tree.relations.find("lost")).missing);
}

// fuzz/corpus/bundle_cache/crash-string-without-nul: a path whose NUL was overwritten read as
// an empty string with no data, still "well formed"; its fact was then checked with stat(NULL),
// whose EFAULT a stored error could match, and the decoder for tests threw on it.
TEST_CASE("a stored string without its NUL, or with one inside, makes the whole copy malformed") {
    scratch s;
    make_tree(s.dir);
    hw::bundle_loader loader(hw::bundle_path({s.dir}), start_read());
    hw::cached_bundles c;
    c.ids.push_back(loader.load("all"));
    hw::path_facts facts;
    c.tree = std::move(loader).finish(&facts);
    REQUIRE(!facts.paths().empty());
    const std::string key = "key\n", bytes = hw::encode_cache_file(key, c, facts);
    hw::path_facts back;
    REQUIRE(hw::decode_cache_file(bytes, key, back));
    CHECK(hw::encode_cache_file(key, c, back) == bytes);

    const std::string& first = facts.paths().front().path;
    auto at = bytes.find(first + '\0');
    REQUIRE(at != std::string::npos);
    std::string cut = bytes, inside = bytes;
    cut[at + first.size()] = 'x';
    inside[at + 1] = '\0';
    CHECK(!hw::decode_cache_file(cut, key, back));
    CHECK(!hw::decode_cache_file(inside, key, back));
}

// fuzz/corpus/bundle_cache/crash-timeout-past-clock: a stored timeout was any 64-bit count of
// milliseconds, and system-control's job engine adds it to the steady clock in nanoseconds
// (signed overflow, undefined behaviour, past 2^63 ns).
TEST_CASE("a stored timeout parse_seconds could not have given makes the copy malformed") {
    hw::cached_bundles c;
    c.tree.bundles.resize(1);
    c.tree.bundles[0].name = "a";
    hw::graph_builder g;
    g.add_node("a");
    c.tree.relations = std::move(g).build();
    hw::path_facts facts, back;
    for (auto ms : {std::chrono::milliseconds(0), std::chrono::milliseconds(hw::max_seconds)}) {
        c.tree.bundles[0].start_timeout = ms;
        auto decoded = hw::decode_cache_file(hw::encode_cache_file("k", c, facts), "k", back);
        REQUIRE(decoded);
        CHECK(decoded->tree.bundles[0].start_timeout == ms);
    }
    c.tree.bundles[0].start_timeout = hw::max_seconds + std::chrono::milliseconds(1);
    CHECK(!hw::decode_cache_file(hw::encode_cache_file("k", c, facts), "k", back));
    c.tree.bundles[0].start_timeout = std::chrono::milliseconds(-2);
    CHECK(!hw::decode_cache_file(hw::encode_cache_file("k", c, facts), "k", back));
}
