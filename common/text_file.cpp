#include "text_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "unique_fd.hpp"

namespace hw {

namespace {

// Reads up to max_bytes from fd: with `from_start`, by pread from offset 0 on (the file's own
// offset is left alone), else by read from where the file's offset stands. Straight into the
// string, growing it by doubling as append would: no stack buffer (PID 1's stack pages, once
// touched, stay resident) and no big transient allocation.
result<std::string> read_all(int fd, std::size_t max_bytes, bool from_start) {
    std::string text;
    std::size_t used = 0;
    while (used < max_bytes) {
        text.resize(std::min(std::max<std::size_t>(used * 2, 1024), max_bytes));
        ssize_t n = from_start ? ::pread(fd, text.data() + used, text.size() - used,
                                         static_cast<off_t>(used))
                               : ::read(fd, text.data() + used, text.size() - used);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(errno_code());
        if (n == 0) break;
        used += static_cast<std::size_t>(n);
    }
    text.resize(used);
    return text;
}

}  // namespace

result<std::string> read_text_file(const char* path, std::size_t max_bytes) {
    unique_fd fd(::open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd) return fail(errno_code());
    return read_all(fd.get(), max_bytes, false);
}

result<std::string> reread_text_file(int fd, std::size_t max_bytes) {
    return read_all(fd, max_bytes, true);
}

std::vector<std::string_view> split_fields(std::string_view text) {
    constexpr std::string_view blanks = " \t\n";
    std::vector<std::string_view> fields;
    std::size_t at = text.find_first_not_of(blanks);
    while (at != std::string_view::npos) {
        std::size_t end = text.find_first_of(blanks, at);
        if (end == std::string_view::npos) end = text.size();
        fields.push_back(text.substr(at, end - at));
        at = text.find_first_not_of(blanks, end);
    }
    return fields;
}

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        std::size_t end = text.find('\n');
        if (end == std::string_view::npos) end = text.size();
        lines.push_back(text.substr(0, end));
        text.remove_prefix(std::min(end + 1, text.size()));
    }
    return lines;
}

}  // namespace hw
