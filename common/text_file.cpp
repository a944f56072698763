#include "text_file.hpp"

#include "unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace hw {

result<std::string> read_text_file(const char* path, std::size_t max_bytes) {
    unique_fd fd(::open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd) return fail(errno_code());
    // Reads straight into the string, growing it by doubling as append would: no stack buffer
    // (PID 1's stack pages, once touched, stay resident) and no big transient allocation.
    std::string text;
    std::size_t used = 0;
    while (used < max_bytes) {
        text.resize(std::min(std::max<std::size_t>(used * 2, 1024), max_bytes));
        ssize_t n = ::read(fd.get(), text.data() + used, text.size() - used);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(errno_code());
        if (n == 0) break;
        used += static_cast<std::size_t>(n);
    }
    text.resize(used);
    return text;
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
