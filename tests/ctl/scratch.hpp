// scratch: a temporary directory for the tests of ctl/, removed with everything in it, and what
// the tests ask about the files in it.
#pragma once

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <filesystem>
#include <string>

namespace hw::test {

struct scratch_dir {
    std::string top;  // removed at the end
    std::string dir;  // what the questions are relative to: top, or a directory below it

    explicit scratch_dir(std::string prefix) {
        std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
        REQUIRE(::mkdtemp(tmpl.data()));
        top = dir = tmpl;
    }
    ~scratch_dir() {
        std::error_code ec;
        std::filesystem::remove_all(top, ec);
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;

    // The text of the link at `rel`, or "".
    std::string link(const std::string& rel) const {
        char buf[PATH_MAX];
        ssize_t n = ::readlink((dir + "/" + rel).c_str(), buf, sizeof buf);
        return n < 0 ? std::string() : std::string(buf, static_cast<std::size_t>(n));
    }
    // Whether there is anything at `rel` (a dangling link counts).
    bool exists(const std::string& rel) const {
        struct stat st;
        return ::lstat((dir + "/" + rel).c_str(), &st) == 0;
    }
};

}  // namespace hw::test
