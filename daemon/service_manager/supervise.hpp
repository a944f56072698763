// supervise: the per-service filesystem API of daemontools/nosh, kept in a supervise directory.
//
//   lock     flock()ed (LOCK_EX) for as long as this service-manager supervises the service;
//            a second supervisor fails to load it
//   control  FIFO (0600) read by service-manager: one byte per command (u d o O _ x, signal
//            letters); opened read-write so it never reports EOF
//   status   87 bytes, daemontools-encore compatible (nosh.md 2.4), rewritten in place with
//            one pwrite at offset 0 on every change
//   ok       FIFO (0666) whose read end service-manager holds: "loaded" means that opening it
//            for writing with O_NONBLOCK succeeds (ENXIO otherwise); opened last
// The directory is created (with parents) when missing. Nothing is ever unlinked here, so a
// successor reuses the same FIFOs.
#pragma once

#include <array>
#include <cstdint>
#include <expected>
#include <string>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace hw::svc {

inline constexpr std::size_t status_file_size = 87;
using status_bytes = std::array<std::byte, status_file_size>;

// The content of a status file, in host terms; encode_status() lays it out.
struct status_snapshot {
    struct record {
        std::uint8_t how = 0;  // 0 not terminated, 1 exited, 2 signalled, 3 signalled + core
        std::uint32_t code = 0;
        std::int64_t wall_ns = 0;
    };
    std::int64_t since_wall_ns = 0;
    std::uint32_t pid = 0;
    bool paused = false;
    char want = 0;                  // 'u', 'd', 'o', 'O' or 0
    std::uint8_t encore_state = 0;  // 0 stopped 1 starting 3 running 4 stopping 5 failed
    record programs[4];             // start, run, restart, stop
};

// Fills a record from a wait status.
status_snapshot::record make_record(int wait_status, std::int64_t wall_ns) noexcept;
status_bytes encode_status(const status_snapshot& s) noexcept;

class supervise_dir {
  public:
    // Creates or reuses the directory and its files; the error names the step that failed.
    static std::expected<supervise_dir, std::string> open(const std::string& path);

    int control_fd() const noexcept { return control_.get(); }
    const std::string& path() const noexcept { return path_; }
    result<void> write_status(const status_bytes& bytes) noexcept;

  private:
    std::string path_;
    unique_fd lock_, control_, status_, ok_;
};

}  // namespace hw::svc
