#include "daemon/service_manager/bundle.hpp"
#include "common/bundle.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <ostream>
#include <tuple>
#include <vector>

#include "common/bundle.hpp"

using namespace hw::svc;
using hw::valid_cgroup_setting;

namespace {
struct temp_bundle {
    std::string root;
    temp_bundle() {
        char tmpl[] = "/tmp/hw-bundle-test.XXXXXX";
        root = ::mkdtemp(tmpl);
        ::mkdir((root + "/b").c_str(), 0755);
        ::mkdir((root + "/b/service").c_str(), 0755);
    }
    ~temp_bundle() { std::system(("rm -rf " + root).c_str()); }
    void file(const std::string& name, const std::string& text = "") {
        std::ofstream(root + "/b/service/" + name) << text;
    }
};
}  // namespace

TEST_CASE("nosh flags and our number files are read into the service config") {
    temp_bundle t;
    for (auto f : {"run", "start", "stop", "remain", "use_hangup", "no_kill_signal", "down"}) {
        t.file(f);
    }
    t.file("timeout-stop", "2.5\n");
    t.file("restart-limit", " 4 ");
    t.file("notification-fd", "3");
    auto b = read_bundle(t.root + "/b", "b", "/run/x");
    REQUIRE(b);
    const auto& c = b->config;
    CHECK(c.has_run);
    CHECK(c.has_start);
    CHECK(c.has_stop);
    CHECK(!c.has_restart);
    CHECK(c.remain);
    CHECK(c.use_hangup);
    CHECK(c.no_kill_signal);
    CHECK(b->down);
    CHECK(c.stop_timeout == std::chrono::milliseconds(2500));
    CHECK(c.restart_limit == 4);
    CHECK(b->notification_fd == 3);
    CHECK(c.ready_by == readiness::notification_fd);
    CHECK(b->service_dir == b->bundle_dir + "/service");
    CHECK(b->supervise_dir == "/run/x/supervise/b");  // never inside the bundle
}

TEST_CASE("ready_after_run wins over sd_notify, which wins over notification-fd") {
    temp_bundle t;
    t.file("run");
    t.file("notification-fd", "5");
    t.file("sd_notify");
    CHECK(read_bundle(t.root + "/b", "b", "/run/x")->config.ready_by == readiness::sd_notify);
    t.file("ready_after_run");
    CHECK(read_bundle(t.root + "/b", "b", "/run/x")->config.ready_by == readiness::after_run);
}

TEST_CASE("a bad number is an error that names the file and the text") {
    temp_bundle t;
    t.file("run");
    t.file("timeout-start", "1.5s");
    auto b = read_bundle(t.root + "/b", "b", "/run/x");
    REQUIRE(!b);
    CHECK(b.error().message.find("timeout-start") != std::string::npos);
    CHECK(b.error().message.find("1.5s") != std::string::npos);
    t.file("timeout-start", "10");
    REQUIRE(read_bundle(t.root + "/b", "b", "/run/x"));
    t.file("notification-fd", "1");
    CHECK(!read_bundle(t.root + "/b", "b", "/run/x"));
}

// fuzz/corpus/bundle_files/: system-control took "90\n0" as 90 s (its first line), ".5", "5."
// and "1 .5", and refused 2^31 s; service-manager refused or took each the other way.
TEST_CASE("a duration file means to service-manager what it means to system-control") {
    temp_bundle t;
    t.file("timeout-start", "90\n0\n");
    CHECK(!read_bundle(t.root + "/b", "b", "/run/x"));
    for (const char* text : {"90\n0", ".5", "5.", "1 .5", "-1", "+1", "0x10", "2147483648.001"})
        CHECK_MESSAGE(!hw::parse_seconds(text), std::string(text));
    CHECK(hw::parse_seconds("2147483648") == hw::max_seconds);
    CHECK(hw::parse_seconds("\t007.5\r\n") == std::chrono::milliseconds(7500));
}

TEST_CASE("a supervise symlink and a log link are followed") {
    temp_bundle t;
    t.file("run");
    ::symlink("/run/service-bundles/early-supervise/b", (t.root + "/b/supervise").c_str());
    ::mkdir((t.root + "/logger").c_str(), 0755);
    ::symlink("../logger", (t.root + "/b/log").c_str());
    auto b = read_bundle(t.root + "/b", "b", "/run/x");
    REQUIRE(b);
    CHECK(b->supervise_dir == "/run/service-bundles/early-supervise/b");
    REQUIRE(b->log_bundle);
    CHECK(b->log_bundle->ends_with("/logger"));
}

TEST_CASE("a bundle without a service directory is its own service directory") {
    temp_bundle t;
    std::ofstream(t.root + "/b/run") << "";
    ::rmdir((t.root + "/b/service").c_str());
    auto b = read_bundle(t.root + "/b", "b", "/run/x");
    REQUIRE(b);
    CHECK(b->service_dir == b->bundle_dir);
    CHECK(b->config.has_run);
    CHECK(parse_number("12") == 12u);
    CHECK(hw::parse_seconds("0.25") == std::chrono::milliseconds(250));
    CHECK(hw::parse_seconds(" 10\n") == std::chrono::milliseconds(10000));
    CHECK(hw::parse_seconds("1.2345") == std::chrono::milliseconds(1234));
    CHECK(!hw::parse_seconds("1."));
    CHECK(!hw::parse_seconds(".5"));
    CHECK(!hw::parse_seconds("5ms"));
    CHECK(!parse_number("-1"));
    CHECK(!parse_number(""));
}

TEST_CASE("cgroup/ settings are read in name order, one trimmed line each") {
    temp_bundle t;
    t.file("run");
    ::mkdir((t.root + "/b/service/cgroup").c_str(), 0755);
    t.file("cgroup/pids.max", "8\n");
    t.file("cgroup/memory.max", "256M");
    t.file("cgroup/cpu.max", "50000 100000\n");
    t.file("cgroup/.hidden", "ignored");
    auto b = read_bundle(t.root + "/b", "b", "/run/x");
    REQUIRE_MESSAGE(b, (b ? "" : b.error().message));
    using setting = std::pair<std::string, std::string>;
    CHECK(b->cgroup_settings == std::vector<setting>{
                                    {"cpu.max", "50000 100000"},
                                    {"memory.max", "256M"},
                                    {"pids.max", "8"},
                                });
}

TEST_CASE("cgroup/ refuses the core files, odd names and values that are not one line") {
    for (auto [name, value, problem] : {
             std::tuple{"cgroup.procs", "1", "cgroup/cgroup.procs: not a cgroup setting"},
             std::tuple{"cgroup.kill", "1", "cgroup/cgroup.kill: not a cgroup setting"},
             std::tuple{"Memory.max", "1", "cgroup/Memory.max: not a cgroup setting"},
             std::tuple{"max", "1", "cgroup/max: not a cgroup setting"},
             std::tuple{"memory.max", "", "cgroup/memory.max: not one line"},
             std::tuple{"memory.max", "1\n2\n", "cgroup/memory.max: not one line"},
         }) {
        temp_bundle t;
        t.file("run");
        ::mkdir((t.root + "/b/service/cgroup").c_str(), 0755);
        t.file(std::string("cgroup/") + name, value);
        auto b = read_bundle(t.root + "/b", "b", "/run/x");
        REQUIRE(!b);
        CHECK_MESSAGE(b.error().message.starts_with(problem), b.error().message);
    }
}

TEST_CASE("a cgroup setting is controller.setting and never a core cgroup.* file") {
    CHECK(valid_cgroup_setting("memory.max"));
    CHECK(valid_cgroup_setting("memory.swap.max"));
    CHECK(valid_cgroup_setting("io.bfq.weight"));
    CHECK(valid_cgroup_setting("hugetlb.2mb.max"));
    CHECK(!valid_cgroup_setting("cgroup.procs"));
    CHECK(!valid_cgroup_setting("cgroup.subtree_control"));
    CHECK(!valid_cgroup_setting("memory"));
    CHECK(!valid_cgroup_setting(".max"));
    CHECK(!valid_cgroup_setting("memory."));
    CHECK(!valid_cgroup_setting("../memory.max"));
    CHECK(!valid_cgroup_setting("memory/max.x"));
}
