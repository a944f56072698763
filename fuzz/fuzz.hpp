// fuzz: what the fuzz targets (fuzz/*_fuzz.cpp) share.
//
// A target is one LLVMFuzzerTestOneInput per input surface. It hands the bytes to the pure
// parser and, where the project has an encoder, checks that what decoded survives a round trip;
// other properties of the result are checked too, so that logic errors show, not only crashes.
// A failed FUZZ_CHECK prints the condition and aborts: libFuzzer keeps the input as a crash, and
// the replay build (replay_main.cpp) fails its test.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

#define FUZZ_CHECK(cond) ((cond) ? void() : ::hw::fuzz::check_failed(#cond, __FILE__, __LINE__))

namespace hw::fuzz {

[[noreturn]] inline void check_failed(const char* what, const char* file, int line) {
    std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
    std::abort();
}

inline std::string_view text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

inline std::span<const std::byte> bytes(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const std::byte*>(data), size};
}

// Whether `d` converts to the steady clock's nanoseconds, as it must to be added to or taken
// from a time point (job deadlines, a child's start time): a longer one overflows.
template <class Rep, class Period>
constexpr bool fits_clock(std::chrono::duration<Rep, Period> d) {
    using ns = std::chrono::steady_clock::duration;
    return d >= std::chrono::duration_cast<std::chrono::duration<Rep, Period>>(ns::min()) &&
           d <= std::chrono::duration_cast<std::chrono::duration<Rep, Period>>(ns::max());
}

// Splits `in` at its first `sep`: what comes before (all of it when there is none) and after.
inline std::string_view take_until(std::string_view& in, char sep) {
    auto at = in.find(sep);
    std::string_view head = in.substr(0, at);
    in = at == std::string_view::npos ? std::string_view() : in.substr(at + 1);
    return head;
}

}  // namespace hw::fuzz
