#include "common/text_file.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <ostream>
#include <string>

#include "common/unique_fd.hpp"

namespace {

std::string temp_file_with(std::string_view text) {
    char path[] = "/tmp/hw-text-file-XXXXXX";
    hw::unique_fd fd(::mkstemp(path));
    REQUIRE(fd);
    REQUIRE(::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    return path;
}

}  // namespace

TEST_CASE("a file is read whole, and cut at the limit without an error") {
    auto path = temp_file_with("0 0 4294967295\n");
    CHECK(hw::read_text_file(path.c_str()).value() == "0 0 4294967295\n");
    CHECK(hw::read_text_file(path.c_str(), 3).value() == "0 0");
    ::unlink(path.c_str());
}

TEST_CASE("a file longer than the first reads comes whole, and cut anywhere at the limit") {
    std::string text;
    for (int i = 0; text.size() < 20000; ++i) text += std::to_string(i) + "\n";
    auto path = temp_file_with(text);
    CHECK(hw::read_text_file(path.c_str()).value() == text);
    CHECK(hw::read_text_file(path.c_str(), 5000).value() == text.substr(0, 5000));
    CHECK(hw::read_text_file(path.c_str(), 256).value() == text.substr(0, 256));
    ::unlink(path.c_str());
}

TEST_CASE("a missing file is an error naming the reason") {
    auto text = hw::read_text_file("/nonexistent/heartwood/file");
    REQUIRE(!text);
    CHECK(text.error() == std::errc::no_such_file_or_directory);
}

TEST_CASE("fields split on any run of blanks and skip empty ones") {
    auto fields = hw::split_fields("  1 (sh)\tS \n 4\n");
    REQUIRE(fields.size() == 4);
    CHECK(fields[0] == "1");
    CHECK(fields[1] == "(sh)");
    CHECK(fields[2] == "S");
    CHECK(fields[3] == "4");
    CHECK(hw::split_fields(" \n\t").empty());
}

TEST_CASE("lines keep empty lines inside but add none for the final newline") {
    auto lines = hw::split_lines("a\n\nb c\nlast");
    REQUIRE(lines.size() == 4);
    CHECK(lines[1].empty());
    CHECK(lines[2] == "b c");
    CHECK(lines[3] == "last");
    CHECK(hw::split_lines("one\n").size() == 1);
    CHECK(hw::split_lines("").empty());
}

TEST_CASE("numbers parse only when the whole field is a number that fits") {
    unsigned long value = 0;
    CHECK(hw::parse_number("4294967295", value));
    CHECK(value == 4294967295UL);
    CHECK(!hw::parse_number("12x", value));
    CHECK(!hw::parse_number("", value));
    int small = 0;
    CHECK(!hw::parse_number("99999999999", small));
    CHECK(!hw::parse_number("-", small));
}
