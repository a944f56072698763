// unique_fd: the sole owner of one file descriptor.
//
// Move-only; -1 means empty; the destructor closes. Every descriptor the project opens lives in
// one of these (or in a type built on it) from the moment the syscall returns. Functions that
// take ownership take `unique_fd&&`; functions that only use a descriptor take `int`.
#pragma once

#include <unistd.h>

#include <utility>

namespace hw {

class unique_fd {
public:
    unique_fd() noexcept = default;
    explicit unique_fd(int fd) noexcept : fd_(fd) {}
    unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {}
    unique_fd& operator=(unique_fd&& other) noexcept {
        if (this != &other) reset(other.release());
        return *this;
    }
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    ~unique_fd() { reset(); }

    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }

    // Gives up ownership without closing.
    int release() noexcept { return std::exchange(fd_, -1); }

    // Closes the current descriptor (errors from close(2) are deliberately ignored: the
    // descriptor is gone either way) and takes ownership of `fd`.
    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

}  // namespace hw
