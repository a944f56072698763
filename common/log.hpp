// Logging: one sink per process, fmt-formatted, never blocking.
//
// A message is one line, "<program>: <severity>: <text>\n", written with a single write(2) of
// at most log::max_line bytes, so lines from several processes sharing a pipe never interleave.
// The primary sink is expected to be non-blocking; when a write to it fails for any reason
// (pipe full, reader gone, closed), the line goes to the fallback sink (the console or
// /dev/kmsg) instead, so the caller never waits. Not thread-safe: our daemons are
// single-threaded.
#pragma once

#include <fmt/core.h>

#include <string_view>

namespace hw::log {

enum class severity { debug, info, notice, warning, error, critical };

inline constexpr std::size_t max_line = 4000;  // below PIPE_BUF, so one write is atomic

// The program name that prefixes every line (default "heartwood").
void set_program(std::string_view name) noexcept;
// Descriptors are borrowed, not owned; -1 disables a sink. Defaults: primary 2, no fallback.
void set_primary(int fd) noexcept;
// `kmsg` selects the /dev/kmsg framing ("<prio>" prefix) for the fallback.
void set_fallback(int fd, bool kmsg) noexcept;
// Lines at or above `min` are also copied to `fd` (PID 1 copies notices to the console, so the
// administrator sees boot and shutdown). -1 disables the mirror.
void set_mirror(int fd, severity min) noexcept;
// Messages below this severity are dropped (default info).
void set_threshold(severity s) noexcept;

void write(severity s, std::string_view text) noexcept;

template <class... A>
void emit(severity s, fmt::format_string<A...> f, A&&... args) noexcept {
    try {
        write(s, fmt::format(f, std::forward<A>(args)...));
    } catch (...) {
        fmt::string_view raw(f);
        write(s, std::string_view(raw.data(), raw.size()));  // formatting failed (out of memory): the bare format string
    }
}
template <class... A>
void debug(fmt::format_string<A...> f, A&&... a) noexcept {
    emit(severity::debug, f, std::forward<A>(a)...);
}
template <class... A>
void info(fmt::format_string<A...> f, A&&... a) noexcept {
    emit(severity::info, f, std::forward<A>(a)...);
}
template <class... A>
void notice(fmt::format_string<A...> f, A&&... a) noexcept {
    emit(severity::notice, f, std::forward<A>(a)...);
}
template <class... A>
void warn(fmt::format_string<A...> f, A&&... a) noexcept {
    emit(severity::warning, f, std::forward<A>(a)...);
}
template <class... A>
void error(fmt::format_string<A...> f, A&&... a) noexcept {
    emit(severity::error, f, std::forward<A>(a)...);
}
template <class... A>
void critical(fmt::format_string<A...> f, A&&... a) noexcept {
    emit(severity::critical, f, std::forward<A>(a)...);
}

}  // namespace hw::log
