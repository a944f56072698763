#include "common/bundle_tree.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ostream>

using hw::edge_kind;

namespace {

const std::string fixtures = HW_FIXTURES;

hw::bundle_path roots(std::initializer_list<const char*> names) {
    std::vector<std::string> r;
    for (auto n : names) r.push_back(fixtures + "/" + n);
    return hw::bundle_path(std::move(r));
}

std::vector<std::string> names_of(const hw::bundle_tree& t, std::span<const hw::node_id> ids) {
    std::vector<std::string> out;
    for (auto id : ids) out.push_back(t.at(id).name);
    std::sort(out.begin(), out.end());
    return out;
}

// The diagnostics whose file ends with `suffix`, as "message" strings.
std::vector<std::string> problems_at(const hw::bundle_tree& t, std::string_view suffix) {
    std::vector<std::string> out;
    for (const auto& d : t.problems)
        if (std::string_view(d.file).ends_with(suffix)) out.push_back(d.message);
    return out;
}

}  // namespace

TEST_CASE("a bare name is looked up in every targets/ first, then in services/") {
    auto path = roots({"overlay", "basic"});
    CHECK(path.resolve("web") == fixtures + "/overlay/targets/web");
    CHECK(path.resolve("web.service") == fixtures + "/basic/services/web");
    CHECK(path.resolve("getty") == fixtures + "/overlay/services/getty");
    CHECK(path.resolve("normal.target") == fixtures + "/basic/targets/normal");
    CHECK(!path.resolve("normal.service"));
    CHECK(!path.resolve("nothing"));
}

TEST_CASE("X.timer and X.socket: the bundle of that name, else X's service") {
    auto path = hw::bundle_path({"/a", "/b"});
    CHECK(path.candidates("x.timer") == std::vector<std::string>{"/a/services/x.timer",
                                                                 "/b/services/x.timer",
                                                                 "/a/services/x", "/b/services/x"});
    CHECK(path.candidates("x.socket") ==
          std::vector<std::string>{"/a/services/x.socket", "/b/services/x.socket", "/a/services/x",
                                   "/b/services/x"});
    CHECK(path.candidates("x.service") ==
          std::vector<std::string>{"/a/services/x", "/b/services/x"});
}

TEST_CASE("a name with a slash is a path and is not searched") {
    auto path = roots({"basic"});
    auto dir = fixtures + "/basic/services/db";
    CHECK(path.resolve(dir) == dir);
    CHECK(!path.resolve("services/db"));  // relative to the current directory, not the roots
    CHECK(path.candidates("x/y") == std::vector<std::string>{"x/y"});
}

TEST_CASE("HEARTWOOD_BUNDLE_PATH replaces the default roots and --root prefixes them") {
    ::setenv("HEARTWOOD_BUNDLE_PATH", "/a:/b::/c", 1);
    CHECK(hw::bundle_path::from_environment().roots() ==
          std::vector<std::string>{"/a", "/b", "/c"});
    CHECK(hw::bundle_path::from_environment("/img/").roots() ==
          std::vector<std::string>{"/img/a", "/img/b", "/img/c"});
    ::unsetenv("HEARTWOOD_BUNDLE_PATH");
    CHECK(hw::bundle_path::from_environment().roots() == hw::bundle_path::default_roots());
    CHECK(hw::bundle_path::from_environment("/x").roots().front() == "/x/run/service-bundles");
}

TEST_CASE("loading a target follows every relationship transitively") {
    auto tree = hw::load_bundles(roots({"basic"}), {"normal"});
    CHECK(tree.problems.empty());
    auto normal = tree.relations.find("normal");
    REQUIRE(normal);
    CHECK(names_of(tree, tree.relations.out(*normal, edge_kind::wants)) ==
          std::vector<std::string>{"multi-user", "web"});
    auto web = *tree.relations.find("web");
    CHECK(names_of(tree, tree.relations.out(web, edge_kind::requires_)) ==
          std::vector<std::string>{"db"});
    CHECK(names_of(tree, tree.relations.out(web, edge_kind::log)) ==
          std::vector<std::string>{"web-log"});
    CHECK(!tree.relations.find("api"));  // only api/required-by/web knows of it
    CHECK(names_of(tree, tree.relations.in(web, edge_kind::before)) ==
          std::vector<std::string>{"web-log"});
    // wanted-by/ and stopped-by/ lead to targets, which are read too.
    CHECK(tree.relations.find("shutdown"));
    CHECK(tree.at(*normal).path == fixtures + "/basic/targets/normal");
    CHECK(tree.at(*normal).service_dir == fixtures + "/basic/targets/normal/service");
}

TEST_CASE("reading the whole search path also finds the bundles that only point inwards") {
    hw::bundle_loader loader(roots({"basic"}));
    loader.load_all();
    auto tree = std::move(loader).finish();
    auto web = *tree.relations.find("web");
    CHECK(names_of(tree, tree.relations.in(web, edge_kind::required_by)) ==
          std::vector<std::string>{"api"});
}

TEST_CASE("flags and timeouts are read from the service directory, or the bundle itself") {
    auto tree = hw::load_bundles(roots({"basic"}), {"cache", "mount-root", "normal"});
    CHECK(tree.problems.empty());
    const auto& cache = tree.at(*tree.relations.find("cache"));
    CHECK(cache.service_dir == cache.path);
    CHECK(cache.flags.down);
    CHECK(cache.has_run);
    const auto& mount = tree.at(*tree.relations.find("mount-root"));
    CHECK(mount.flags.ready_after_run);
    CHECK(!mount.flags.down);
    CHECK(mount.start_timeout == std::chrono::milliseconds(5000));
    CHECK(mount.stop_timeout == std::chrono::milliseconds(2500));
    CHECK(tree.at(*tree.relations.find("normal")).flags.remain);
}

TEST_CASE("links and aliases to one directory are merged by device and inode") {
    auto tree = hw::load_bundles(roots({"basic"}), {"database", "db", "web"});
    CHECK(tree.problems.empty());
    std::size_t dbs = 0;
    for (const auto& b : tree.bundles) dbs += b.path.ends_with("/db");
    CHECK(dbs == 1);
    CHECK(!tree.relations.find("database"));  // the alias names no bundle of its own
    hw::bundle_loader loader(roots({"basic"}));
    auto a = loader.load("database");
    auto b = loader.load(fixtures + "/basic/services/db");
    auto c = loader.load("db.service");
    CHECK(a == b);
    CHECK(b == c);
}

TEST_CASE("every problem in a broken tree is reported with its file, and reading goes on") {
    auto tree = hw::load_bundles(roots({"broken"}), {}, {.lint = true});
    CHECK(problems_at(tree, "/services/good/wants/nowhere") ==
          std::vector<std::string>{"dangling link to ../../nowhere: no such bundle (yet); ignored"});
    CHECK(problems_at(tree, "/services/good/after/plain-file") ==
          std::vector<std::string>{"not a directory or a link to one"});
    CHECK(problems_at(tree, "/services/good/conflicts") ==
          std::vector<std::string>{"not a directory"});
    CHECK(problems_at(tree, "/services/good/log") ==
          std::vector<std::string>{"dangling link to ../../missing-logger"});
    CHECK(problems_at(tree, "/services/dangling-top") ==
          std::vector<std::string>{"dangling link to ../elsewhere"});
    CHECK(problems_at(tree, "/services/norun/service") ==
          std::vector<std::string>{"no run program (so it would be up at once, like a target)"});
    // Even root needs one x bit to execute a file.
    CHECK(problems_at(tree, "/services/noexec/service/run").size() == 1);
    auto bad_name = problems_at(tree, "/services/Bad Name!");
    REQUIRE(bad_name.size() == 1);
    CHECK(bad_name[0].starts_with("bad bundle name 'Bad Name!'"));
    bool timeout_line = false;
    for (const auto& d : tree.problems)
        if (d.file.ends_with("/badtimeout/service/timeout-start"))
            timeout_line = d.line == 1 && d.message.starts_with("not a number of seconds");
    CHECK(timeout_line);
    auto twins = problems_at(tree, "/twin");
    REQUIRE(twins.size() == 1);
    CHECK(twins[0].starts_with("name 'twin' is also the name of"));
    CHECK(problems_at(tree, "/services/badcgroup/service/cgroup/cgroup.procs") ==
          std::vector<std::string>{"not a cgroup setting (controller.setting, never cgroup.*)"});
    CHECK(problems_at(tree, "/services/badcgroup/service/cgroup/memory.max").empty());
    // The readable bundle is there in spite of all that.
    CHECK(tree.relations.find("good"));
    CHECK(tree.problems.size() == 11);
    CHECK(std::count_if(tree.problems.begin(), tree.problems.end(), hw::is_problem) == 10);
}

TEST_CASE("a dangling want is only a note; a dangling requirement is a missing bundle") {
    auto tree = hw::load_bundles(roots({"missing"}), {"normal"});
    auto app = *tree.relations.find("app");
    // wants/ (like after/, conflicts/...) may name what a generator or a package adds later.
    auto extras = problems_at(tree, "/services/app/wants/extras");
    REQUIRE(extras.size() == 1);
    CHECK(extras[0].starts_with("dangling link to /run/service-bundles/targets/not-generated-yet"));
    CHECK(tree.relations.out(app, edge_kind::wants).empty());
    // requires/ leads to a bundle that is known to be missing, so that app cannot start.
    CHECK(problems_at(tree, "/services/app/requires/db") ==
          std::vector<std::string>{"dangling link to ../../uninstalled-db: a requirement that does "
                                   "not exist, so what requires it cannot start"});
    REQUIRE(names_of(tree, tree.relations.out(app, edge_kind::requires_)) ==
            std::vector<std::string>{"uninstalled-db"});
    const auto& db = tree.at(tree.relations.out(app, edge_kind::requires_)[0]);
    CHECK(db.missing);
    CHECK(!db.contents_read);
    CHECK(db.path == fixtures + "/missing/services/uninstalled-db");
    // Ordering against a missing bundle is moot: a note, and no edge.
    CHECK(names_of(tree, tree.relations.out(app, edge_kind::after)).empty());
    std::size_t notes = 0, errors = 0;
    for (const auto& d : tree.problems) (hw::is_problem(d) ? errors : notes)++;
    CHECK(errors == 1);
    CHECK(notes == 2);  // wants/extras and after/db
}

TEST_CASE("a missing name is a diagnostic naming where it was looked for") {
    hw::bundle_loader loader(roots({"basic"}));
    CHECK(!loader.load("nope"));
    auto tree = std::move(loader).finish();
    REQUIRE(tree.problems.size() == 1);
    CHECK(tree.problems[0].file == "nope");
    CHECK(tree.problems[0].message == "no such bundle in " + fixtures + "/basic");
}

TEST_CASE("ids follow discovery order, so the same tree always gives the same graph") {
    auto one = hw::load_bundles(roots({"basic"}), {});
    auto two = hw::load_bundles(roots({"basic"}), {});
    REQUIRE(one.bundles.size() == two.bundles.size());
    for (std::size_t i = 0; i < one.bundles.size(); ++i)
        CHECK(one.bundles[i].path == two.bundles[i].path);
    CHECK(one.bundles.size() == 12);
    CHECK(one.relations.edge_count() == two.relations.edge_count());
}

TEST_CASE("a log/ subdirectory is named after its main service") {
    char tmpl[] = "/tmp/hw-bundle-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    std::string root = tmpl;
    REQUIRE(::mkdir((root + "/services").c_str(), 0755) == 0);
    REQUIRE(::mkdir((root + "/services/sshd").c_str(), 0755) == 0);
    REQUIRE(::mkdir((root + "/services/sshd/log").c_str(), 0755) == 0);
    auto tree = hw::load_bundles(hw::bundle_path({root}), {"sshd"});
    CHECK(tree.relations.find("sshd.log"));
    std::system(("rm -rf " + root).c_str());
}
