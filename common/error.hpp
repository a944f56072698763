// Error currency: std::error_code for system calls, wrapped in std::expected.
//
// A failed call returns `std::unexpected(errno_code())` (or `neg_errno(res)` for the
// negative-errno convention of io_uring and raw syscalls). The caller that can name what it
// was doing logs it, in the grammar "unable to <verb> <object>: <reason>".
#pragma once

#include <cerrno>
#include <expected>
#include <string>
#include <system_error>

namespace hw {

template <class T>
using result = std::expected<T, std::error_code>;

// The error in errno, as an error_code. Call it right after the failing call.
inline std::error_code errno_code() noexcept { return {errno, std::system_category()}; }

// An error_code from a negative errno value (io_uring completions, raw syscalls).
inline std::error_code neg_errno(int res) noexcept { return {-res, std::system_category()}; }

inline std::unexpected<std::error_code> fail() noexcept { return std::unexpected(errno_code()); }
inline std::unexpected<std::error_code> fail(std::error_code ec) noexcept {
    return std::unexpected(ec);
}
inline std::unexpected<std::error_code> fail(std::errc e) noexcept {
    return std::unexpected(std::make_error_code(e));
}

}  // namespace hw
