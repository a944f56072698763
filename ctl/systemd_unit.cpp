#include "systemd_unit.hpp"

#include <fmt/core.h>

#include <array>
#include <charconv>
#include <cmath>

namespace hw::ctl::systemd {

namespace {

constexpr std::string_view blanks = " \t\r\n";

std::string_view strip(std::string_view s) {
    auto first = s.find_first_not_of(blanks);
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(blanks) - first + 1);
}

bool is_comment(std::string_view line) {
    return !line.empty() && (line.front() == '#' || line.front() == ';');
}

// One logical line (continuations joined) of `file`, starting at `line`.
void take_line(std::string_view text, std::string_view file, unsigned line, std::string& section,
               std::vector<assignment>& out, diagnostics& problems) {
    auto error = [&](std::string message) {
        problems.push_back({diagnostic::level::error, std::string(file), line, std::move(message)});
    };
    text = strip(text);
    if (text.front() == '[') {
        if (text.size() < 3 || text.back() != ']')
            return error(fmt::format("bad section header '{}'", text));
        section = text.substr(1, text.size() - 2);
        return;
    }
    auto eq = text.find('=');
    if (eq == std::string_view::npos)
        return error(fmt::format("not an assignment (no '='): '{}'", text));
    auto key = strip(text.substr(0, eq));
    if (key.empty()) return error(fmt::format("no key before '=': '{}'", text));
    if (section.empty()) return error(fmt::format("{}= comes before any [section]", key));
    out.push_back({section, std::string(key), std::string(strip(text.substr(eq + 1))),
                   std::string(file), line});
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The number written with `digits` digits of base `base` at text[pos...], or -1.
long digits_value(std::string_view text, std::size_t pos, int digits, int base) {
    if (pos + digits > text.size()) return -1;
    long v = 0;
    for (int i = 0; i < digits; ++i) {
        int d = hex_value(text[pos + i]);
        if (d < 0 || d >= base) return -1;
        v = v * base + d;
    }
    return v;
}

void append_utf8(std::string& out, unsigned long cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// Decodes the escape whose backslash is text[pos]; returns how many characters it took.
std::size_t decode_escape(std::string_view text, std::size_t pos, std::string& out) {
    if (pos + 1 >= text.size()) {
        out += '\\';
        return 1;
    }
    char c = text[pos + 1];
    constexpr std::string_view simple_from = "abfnrtv\\\"'s";
    constexpr std::string_view simple_to = "\a\b\f\n\r\t\v\\\"' ";
    if (auto i = simple_from.find(c); i != std::string_view::npos) {
        out += simple_to[i];
        return 2;
    }
    struct numeric {
        char letter;
        int digits, base;
    };
    constexpr std::array<numeric, 3> numerics = {{{'x', 2, 16}, {'u', 4, 16}, {'U', 8, 16}}};
    for (const auto& n : numerics) {
        long v = c == n.letter ? digits_value(text, pos + 2, n.digits, n.base) : -1;
        if (v > 0) {
            if (n.letter == 'x')
                out += static_cast<char>(v);
            else
                append_utf8(out, static_cast<unsigned long>(v));
            return 2 + n.digits;
        }
    }
    if (long v = digits_value(text, pos + 1, 3, 8); v > 0 && v < 256) {
        out += static_cast<char>(v);
        return 4;
    }
    if (c != ' ' && c != '\t') out += '\\';  // an escaped blank is one; else kept as written
    out += c;
    return 2;
}

struct time_unit {
    std::string_view name;
    std::int64_t usec;
};
constexpr std::int64_t second = 1'000'000;
constexpr std::array<time_unit, 27> time_units = {{
    {"usec", 1},
    {"us", 1},
    {"\xC2\xB5s", 1},
    {"msec", 1000},
    {"ms", 1000},
    {"seconds", second},
    {"second", second},
    {"sec", second},
    {"s", second},
    {"minutes", 60 * second},
    {"minute", 60 * second},
    {"min", 60 * second},
    {"m", 60 * second},
    {"hours", 3600 * second},
    {"hour", 3600 * second},
    {"hr", 3600 * second},
    {"h", 3600 * second},
    {"days", 86400 * second},
    {"day", 86400 * second},
    {"d", 86400 * second},
    {"weeks", 604800 * second},
    {"week", 604800 * second},
    {"w", 604800 * second},
    {"months", 2629800 * second},
    {"M", 2629800 * second},
    {"years", 31557600 * second},
    {"y", 31557600 * second},
}};

std::optional<std::int64_t> unit_usec(std::string_view name) {
    if (name == "month") return 2629800 * second;
    if (name == "year") return 31557600 * second;
    for (const auto& u : time_units)
        if (u.name == name) return u.usec;
    return std::nullopt;
}

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
           c == '_' || c == '.' || c == '\\' || c == '-';
}

}  // namespace

void parse_unit(std::string_view file, std::string_view text, std::vector<assignment>& out,
                diagnostics& problems) {
    std::string section, pending;
    unsigned line = 0, first_line = 0;
    bool continuing = false;
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view l = strip(text.substr(0, nl));
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        ++line;
        if (!continuing) {
            if (l.empty() || is_comment(l)) continue;
            pending.clear();
            first_line = line;
        } else if (is_comment(l)) {
            continue;
        }
        pending += l;
        continuing = !pending.empty() && pending.back() == '\\';
        if (continuing) {
            pending.back() = ' ';
            continue;
        }
        take_line(pending, file, first_line, section, out, problems);
    }
    if (continuing && !strip(pending).empty())
        take_line(pending, file, first_line, section, out, problems);
}

std::optional<bool> parse_boolean(std::string_view text) {
    std::string lower;
    for (char c : text) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    for (std::string_view yes : {"1", "yes", "y", "true", "t", "on"})
        if (lower == yes) return true;
    for (std::string_view no : {"0", "no", "n", "false", "f", "off"})
        if (lower == no) return false;
    return std::nullopt;
}

std::optional<std::chrono::microseconds> parse_timespan(std::string_view text,
                                                        std::chrono::microseconds unit) {
    text = strip(text);
    if (text == "infinity") return std::chrono::microseconds::max();
    if (text.empty()) return std::nullopt;
    double total = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t start = pos;
        while (pos < text.size() && ((text[pos] >= '0' && text[pos] <= '9') || text[pos] == '.'))
            ++pos;
        auto number = text.substr(start, pos - start);
        if (number.empty() || number == "." || number.find('.') != number.rfind('.'))
            return std::nullopt;
        double value = 0;
        std::from_chars(number.data(), number.data() + number.size(), value);
        while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
        start = pos;
        while (pos < text.size() && text[pos] != ' ' && text[pos] != '\t' &&
               !(text[pos] >= '0' && text[pos] <= '9') && text[pos] != '.')
            ++pos;
        auto name = text.substr(start, pos - start);
        auto usec = name.empty() ? std::optional<std::int64_t>(unit.count()) : unit_usec(name);
        if (!usec) return std::nullopt;
        total += value * static_cast<double>(*usec);
        while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
    }
    if (total > 1e17) return std::nullopt;
    return std::chrono::microseconds(static_cast<std::int64_t>(std::llround(total)));
}

std::expected<std::vector<std::string>, std::string> split_words(std::string_view text) {
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    char quote = 0;
    for (std::size_t i = 0; i < text.size();) {
        char c = text[i];
        if (!quote && blanks.find(c) != std::string_view::npos) {
            if (in_word) words.push_back(std::move(word));
            word.clear();
            in_word = false;
            ++i;
            continue;
        }
        in_word = true;
        if (quote ? c == quote : (c == '\'' || c == '"')) {
            quote = quote ? 0 : c;
            ++i;
        } else if (c == '\\') {
            i += decode_escape(text, i, word);
        } else {
            word += c;
            ++i;
        }
    }
    if (quote) return std::unexpected(fmt::format("no closing {} quote", quote));
    if (in_word) words.push_back(std::move(word));
    return words;
}

std::string unit_name::full() const {
    return templated ? prefix + "@" + instance + "." + suffix : prefix + "." + suffix;
}

std::optional<unit_name> parse_unit_name(std::string_view text) {
    auto dot = text.rfind('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == text.size()) return std::nullopt;
    unit_name n;
    n.suffix = text.substr(dot + 1);
    auto stem = text.substr(0, dot);
    auto at = stem.find('@');
    n.templated = at != std::string_view::npos;
    n.prefix = stem.substr(0, at);
    if (n.templated) n.instance = stem.substr(at + 1);
    if (n.prefix.empty() || n.instance.find('@') != std::string::npos) return std::nullopt;
    for (char c : n.prefix + n.instance)
        if (!is_name_char(c)) return std::nullopt;
    return n;
}

std::string unescape_name(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        long v = text[i] == '\\' && i + 1 < text.size() && text[i + 1] == 'x'
                     ? digits_value(text, i + 2, 2, 16)
                     : -1;
        if (v > 0) {
            out += static_cast<char>(v);
            i += 3;
        } else {
            out += text[i];
        }
    }
    return out;
}

std::string unescape_path(std::string_view text) {
    if (text == "-" || text.empty()) return "/";
    std::string slashed(text);
    for (char& c : slashed)
        if (c == '-') c = '/';
    return "/" + unescape_name(slashed);
}

}  // namespace hw::ctl::systemd
