// log_directory: a size-capped, rotated, timestamped log directory (in the manner of multilog
// and cyclog).
//
// The directory holds `current` and rotated files named `@<UTC time>.s`, which sort by age.
// Every line written gets a UTC timestamp prefix "2026-11-25T10:03:22.123456Z ". Data is
// appended as it comes: a partial line is written at once and continued, without a second
// timestamp, by the next append (the state is read back from the last byte of `current`, so it
// survives a restart of the logger). Rotation happens only at a line boundary, unless one line
// grows past twice the file size cap. After each rotation the oldest files are deleted until the
// directory's total is under the cap. Owns its directory and file descriptors.
#pragma once

#include <time.h>

#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace hw::logger {

struct log_limits {
    std::size_t max_file_size = 1024 * 1024;
    std::size_t max_total_size = 8 * 1024 * 1024;
};

// "2026-11-25T10:03:22.123456Z" (27 bytes).
std::string format_timestamp(timespec t);

class log_directory {
public:
    // Creates the directory (and parents) if needed and opens `current` for appending.
    static result<log_directory> open(const std::string& path, log_limits limits);

    result<void> append(std::string_view data, timespec now);

    // Moves the log another directory holds (rotated files oldest first, then `current`; their
    // lines are already timestamped) to the end of this one, then deletes it there: the early
    // log written in /run before /var/log was writable survives a reboot. A file is deleted
    // only once all of it is copied, so an interrupted move loses nothing (at worst a second
    // move copies a file again). A missing or empty directory, or this one, is nothing to do.
    result<void> take_over(const std::string& older_path);
    const std::string& path() const noexcept { return path_; }
    std::size_t current_size() const noexcept { return current_size_; }

private:
    log_directory() = default;
    result<void> rotate(timespec now);
    result<void> append_stamped(std::string_view data);
    result<void> prune();

    std::string path_;
    log_limits limits_;
    unique_fd dir_;
    unique_fd current_;
    std::size_t current_size_ = 0;
    bool at_line_start_ = true;
};

}  // namespace hw::logger
