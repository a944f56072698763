// Small text files (/proc, /sys, state files) read and taken apart without iostreams, so that
// programs built on common/ (PID 1 first) stay free of the locale machinery iostreams drag in.
//
// Contract: read_text_file() returns at most max_bytes of the file (a longer file is cut, which
// is not an error); a file that cannot be opened or read is an error code. The splitting helpers
// return views into the text they are given, which must outlive them.
#pragma once

#include "error.hpp"

#include <charconv>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace hw {

result<std::string> read_text_file(const char* path, std::size_t max_bytes = 64 * 1024);
// The same for a file kept open, read again from its start (pread): a /proc file that is read
// often costs one system call instead of a path walk, an open and a close each time.
result<std::string> reread_text_file(int fd, std::size_t max_bytes = 64 * 1024);

// The whitespace-separated fields of text (spaces, tabs and newlines), empty ones skipped.
std::vector<std::string_view> split_fields(std::string_view text);

// The lines of text without their '\n'; a last line without '\n' counts, a final '\n' does not
// add an empty line.
std::vector<std::string_view> split_lines(std::string_view text);

// A whole field as a number: false for empty text, trailing characters or overflow.
template <typename Number>
bool parse_number(std::string_view text, Number& out) noexcept {
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, out);
    return ec == std::errc{} && ptr == end && !text.empty();
}

}  // namespace hw
