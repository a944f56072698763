#include <doctest/doctest.h>
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "daemon/logger/log_directory.hpp"

using hw::logger::log_directory;
using hw::logger::log_limits;
namespace fs = std::filesystem;

namespace {

struct temp_dir {
    std::string path;
    temp_dir() {
        char tmpl[] = "/tmp/hw-logdir-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~temp_dir() { fs::remove_all(path); }
};

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

timespec at(time_t sec, long nsec = 0) { return {sec, nsec}; }

}  // namespace

TEST_CASE("timestamps are UTC with microseconds") {
    CHECK(hw::logger::format_timestamp(at(0, 1500)) == "1970-01-01T00:00:00.000001Z");
    CHECK(hw::logger::format_timestamp(at(1795000000)) == "2026-11-18T11:06:40.000000Z");
}

TEST_CASE("every line gets one timestamp and a partial line is continued, not restamped") {
    temp_dir tmp;
    auto d = log_directory::open(tmp.path + "/a/b", {});
    REQUIRE(d);
    REQUIRE(d->append("one\ntw", at(0)));
    REQUIRE(d->append("o\nthree\n", at(1)));
    CHECK(slurp(tmp.path + "/a/b/current") ==
          "1970-01-01T00:00:00.000000Z one\n"
          "1970-01-01T00:00:00.000000Z two\n"
          "1970-01-01T00:00:01.000000Z three\n");
}

TEST_CASE("a reopened directory continues a partial line left by its predecessor") {
    temp_dir tmp;
    {
        auto d = log_directory::open(tmp.path, {});
        REQUIRE(d->append("half", at(0)));
    }
    auto d = log_directory::open(tmp.path, {});
    REQUIRE(d->append(" done\n", at(5)));
    CHECK(slurp(tmp.path + "/current") == "1970-01-01T00:00:00.000000Z half done\n");
}

TEST_CASE("files rotate at line boundaries and the oldest go once the total is over the cap") {
    temp_dir tmp;
    log_limits limits{.max_file_size = 100, .max_total_size = 350};
    auto d = log_directory::open(tmp.path, limits);
    REQUIRE(d);
    std::string line(40, 'x');  // 28-byte stamp + 40 + newline = 69 bytes a line
    for (int i = 0; i < 40; ++i) REQUIRE(d->append(line + "\n", at(i)));
    std::size_t total = 0, rotated = 0;
    for (const auto& e : fs::directory_iterator(tmp.path)) {
        total += fs::file_size(e.path());
        if (e.path().filename().string().starts_with("@")) {
            ++rotated;
            std::string content = slurp(e.path());
            CHECK(content.back() == '\n');  // never cut inside a line
        }
    }
    CHECK(rotated >= 2);
    CHECK(total <= 350 + 100);  // the cap, plus the current file being filled
    CHECK(d->current_size() < 200);
}

TEST_CASE("taking over a directory moves its rotated files and current, oldest first, once") {
    temp_dir early, late;
    log_limits small{64, 1 << 20};
    {
        auto e = log_directory::open(early.path, small).value();
        REQUIRE(e.append("one early line that is long enough to rotate the file\n", at(10)));
        REQUIRE(e.append("two\n", at(11)));
        REQUIRE(e.append("three, cut", at(12)));
    }
    auto l = log_directory::open(late.path, log_limits{}).value();
    REQUIRE(l.append("late partial", at(20)));
    REQUIRE(l.take_over(early.path));
    std::string text = slurp(late.path + "/current");
    auto one = text.find("one early line"), two = text.find("two\n"),
         three = text.find("three, cut\n");
    REQUIRE(one != std::string::npos);
    REQUIRE(two != std::string::npos);
    REQUIRE(three != std::string::npos);
    CHECK(text.find("late partial\n") < one);  // our partial line is ended first
    CHECK(one < two);
    CHECK(two < three);
    CHECK(fs::is_empty(early.path));  // moved, not copied: a second take-over adds nothing
    REQUIRE(l.take_over(early.path));
    CHECK(slurp(late.path + "/current") == text);
}

TEST_CASE("taking over a missing directory or itself does nothing") {
    temp_dir d;
    auto l = log_directory::open(d.path, log_limits{}).value();
    REQUIRE(l.append("kept\n", at(1)));
    CHECK(l.take_over(d.path + "/nonexistent"));
    CHECK(l.take_over(d.path));
    CHECK(slurp(d.path + "/current").find("kept\n") != std::string::npos);
}
