// ctl/bundle_writer.hpp: where converted bundles' links lead, and writing a bundle whole.
#include "ctl/bundle_writer.hpp"

#include <dirent.h>
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <ostream>
#include <sstream>

#include "scratch.hpp"

using namespace hw::ctl::systemd;

namespace {

struct scratch : hw::test::scratch_dir {
    scratch() : scratch_dir("hw-writer") {}
    unsigned mode(const std::string& rel) const {
        struct stat st;
        REQUIRE(::lstat((dir + "/" + rel).c_str(), &st) == 0);
        return st.st_mode & 07777;
    }
    std::string read(const std::string& rel) const {
        std::ifstream in(dir + "/" + rel);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }
    // The names in `rel`, "." and ".." left out.
    std::vector<std::string> entries(const std::string& rel) const {
        std::vector<std::string> out;
        DIR* d = ::opendir((dir + "/" + rel).c_str());
        REQUIRE(d);
        while (dirent* e = ::readdir(d))
            if (std::string_view(e->d_name) != "." && std::string_view(e->d_name) != "..")
                out.emplace_back(e->d_name);
        ::closedir(d);
        return out;
    }
};

// basic is shipped in /usr/share (seen under the image prefix /img), db was converted into the
// root before, nothing else exists.
std::optional<std::string> finder(const bundle_ref& b) {
    if (b.target && b.name == "basic") return "/img/usr/share/service-bundles/targets/basic";
    if (!b.target && b.name == "db") return "/img/etc/service-bundles/services/db";
    return std::nullopt;
}

bundle_spec web() {
    bundle_spec s;
    s.self = {"web", false};
    s.files = {{"service/run", "#!/bin/sh\nexec web\n", true}, {"service/sd_notify", "", false}};
    s.links = {{"after", {"basic", true}},
               {"after", {"db", false}},
               {"wants", {"cache", false}},
               {"wanted-by", {"network", true}}};
    return s;
}

}  // namespace

TEST_CASE("links: relative within the root, absolute to other roots, relative when nowhere") {
    const std::string root = "/img/etc/service-bundles";
    bundle_ref svc{"web", false}, tgt{"apps", true};
    CHECK(link_text(svc, {"db", false}, finder, root, "/img") == "../../db");
    CHECK(link_text(tgt, {"db", false}, finder, root, "/img") == "../../../services/db");
    CHECK(link_text(svc, {"basic", true}, finder, root, "/img") ==
          "/usr/share/service-bundles/targets/basic");
    CHECK(link_text(svc, {"basic", true}, finder, root, "") ==
          "/img/usr/share/service-bundles/targets/basic");
    CHECK(link_text(svc, {"network", true}, finder, root, "/img") == "../../../targets/network");
    CHECK(link_text(tgt, {"network", true}, finder, root, "/img") == "../../network");
}

TEST_CASE("a bundle is written whole: files with their modes, links") {
    scratch s;
    auto problems = write_bundle(s.dir, web(), finder, "");
    CHECK(problems.empty());
    CHECK(s.read("services/web/service/run") == "#!/bin/sh\nexec web\n");
    CHECK(s.mode("services/web/service/run") == 0755);
    CHECK(s.mode("services/web/service/sd_notify") == 0644);
    CHECK(s.mode("services/web") == 0755);
    CHECK(s.link("services/web/after/basic") == "/img/usr/share/service-bundles/targets/basic");
    CHECK(s.link("services/web/wants/cache") == "../../cache");
    CHECK(s.link("services/web/wanted-by/network") == "../../../targets/network");
    CHECK(s.entries("services") == std::vector<std::string>{"web"});  // no temporary left
}

TEST_CASE("converting again replaces the bundle and keeps its down file") {
    scratch s;
    REQUIRE(write_bundle(s.dir, web(), finder, "").empty());
    std::ofstream(s.dir + "/services/web/service/down");
    std::ofstream(s.dir + "/services/web/service/stale");
    auto again = web();
    again.files[0].content = "#!/bin/sh\nexec web --new\n";
    again.links.pop_back();
    REQUIRE(write_bundle(s.dir, again, finder, "").empty());
    CHECK(s.read("services/web/service/run") == "#!/bin/sh\nexec web --new\n");
    CHECK(s.exists("services/web/service/down"));
    CHECK(!s.exists("services/web/service/stale"));
    CHECK(!s.exists("services/web/wanted-by/network"));
    CHECK(s.entries("services") == std::vector<std::string>{"web"});
}

TEST_CASE("a file in the bundle's place is an error, and nothing is left behind") {
    scratch s;
    REQUIRE(::mkdir((s.dir + "/services").c_str(), 0755) == 0);
    std::ofstream(s.dir + "/services/web") << "not a bundle";
    auto problems = write_bundle(s.dir, web(), finder, "");
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].message.find("is not a directory") != std::string::npos);
    CHECK(s.entries("services") == std::vector<std::string>{"web"});
    CHECK(s.read("services/web") == "not a bundle");
}

TEST_CASE("--dry-run's description lists the files and the links' texts") {
    auto text = describe_bundle("/r", web(), finder, "/img");
    CHECK(text.starts_with("== /r/services/web\n-- service/run (executable)\n#!/bin/sh\n"));
    CHECK(text.find("-- after/basic -> /usr/share/service-bundles/targets/basic\n") !=
          std::string::npos);
    CHECK(text.find("-- wants/cache -> ../../cache\n") != std::string::npos);
}
