#include "systemd_exec.hpp"

#include <fmt/core.h>

#include <array>
#include <optional>
#include <span>

namespace hw::ctl::systemd {

namespace {

using kind = shell_word::kind;

bool matches(const assignment& a, std::string_view section, std::string_view key) {
    return a.section == section && a.key == key;
}

// "foo-bar-baz" -> "baz" (%j: the last dash-separated part of the prefix).
std::string last_part(std::string_view prefix) {
    auto dash = prefix.rfind('-');
    return std::string(dash == std::string_view::npos ? prefix : prefix.substr(dash + 1));
}

struct specifier_text {
    char letter;
    std::string_view text;
};
// The directories of a system manager and its user, root: %h %s %u %U %g %G do not depend on
// User= (systemd.unit(5)).
constexpr std::array<specifier_text, 14> fixed_specifiers = {{{'t', "/run"},
                                                              {'S', "/var/lib"},
                                                              {'C', "/var/cache"},
                                                              {'L', "/var/log"},
                                                              {'E', "/etc"},
                                                              {'T', "/tmp"},
                                                              {'V', "/var/tmp"},
                                                              {'h', "/root"},
                                                              {'s', "/bin/sh"},
                                                              {'u', "root"},
                                                              {'g', "root"},
                                                              {'U', "0"},
                                                              {'G', "0"},
                                                              {'%', "%"}}};
// What depends on the machine the service starts on: sh commands that print it.
constexpr std::array<specifier_text, 11> machine_specifiers = {
    {{'H', "uname -n"},
     {'l', "uname -n | cut -d. -f1"},
     {'m', "cat /etc/machine-id"},
     {'b', "tr -d - </proc/sys/kernel/random/boot_id"},
     {'v', "uname -r"},
     {'o', ". /etc/os-release && echo \"$ID\""},
     {'w', ". /etc/os-release && echo \"$VERSION_ID\""},
     {'B', ". /etc/os-release && echo \"$BUILD_ID\""},
     {'W', ". /etc/os-release && echo \"$VARIANT_ID\""},
     {'A', ". /etc/os-release && echo \"$IMAGE_VERSION\""},
     {'M', ". /etc/os-release && echo \"$IMAGE_ID\""}}};

std::optional<std::string_view> find_specifier(std::span<const specifier_text> table, char c) {
    for (const auto& s : table)
        if (s.letter == c) return s.text;
    return std::nullopt;
}

// The word "$NAME" alone: the value split at blanks. Otherwise "$$" and "${NAME}" pieces.
shell_word expand_variables(const shell_word& in) {
    if (in.pieces.size() == 1 && in.pieces[0].what == kind::text &&
        in.pieces[0].value.starts_with('$') && valid_variable_name(in.pieces[0].value.substr(1))) {
        shell_word w;
        w.add(kind::variable, in.pieces[0].value.substr(1));
        w.split = true;
        return w;
    }
    shell_word out;
    for (const auto& p : in.pieces) {
        if (p.what != kind::text) {
            out.add(p.what, p.value);
            continue;
        }
        std::string_view t = p.value;
        for (std::size_t i = 0; i < t.size(); ++i) {
            auto close = t.substr(i).starts_with("${") ? t.find('}', i) : std::string_view::npos;
            if (t.substr(i).starts_with("$$")) {
                out.add(kind::text, "$");
                ++i;
            } else if (close != std::string_view::npos &&
                       valid_variable_name(t.substr(i + 2, close - i - 2))) {
                out.add(kind::variable, t.substr(i + 2, close - i - 2));
                i = close;
            } else {
                out.add(kind::text, t.substr(i, 1));
            }
        }
    }
    return out;
}

struct prefixes {
    bool ignore_failure = false, argv0 = false, no_variables = false, full_privileges = false;
};

// Takes the prefixes (- @ : + ! !!) off the front of `program`.
prefixes take_prefixes(std::string& program) {
    prefixes p;
    std::size_t n = 0;
    for (; n < program.size(); ++n) {
        char c = program[n];
        if (c == '-')
            p.ignore_failure = true;
        else if (c == '@')
            p.argv0 = true;
        else if (c == ':')
            p.no_variables = true;
        else if (c == '+')
            p.full_privileges = true;
        else if (c != '!')  // ambient capabilities: nothing drops them here anyway
            break;
    }
    program.erase(0, n);
    return p;
}

std::expected<command, std::string> one_command(std::vector<std::string> words,
                                                const specifiers& spec,
                                                std::vector<std::string>& warnings) {
    if (words.empty()) return std::unexpected("an empty command (two ';' in a row?)");
    prefixes p = take_prefixes(words[0]);
    if (words[0].empty()) return std::unexpected("no program after the prefixes");
    if (p.argv0) {
        if (words.size() < 2) return std::unexpected("'@' without the argv[0] word after it");
        warnings.push_back(
            fmt::format("'@': {} runs under its own name, not as '{}' (sh cannot "
                        "set argv[0])",
                        words[0], words[1]));
        words.erase(words.begin() + 1);
    }
    command c;
    c.ignore_failure = p.ignore_failure;
    c.full_privileges = p.full_privileges;
    for (std::size_t i = 0; i < words.size(); ++i) {
        shell_word w;
        if (auto r = spec.expand(words[i], w); !r) return std::unexpected(r.error());
        c.words.push_back(i == 0 || p.no_variables ? std::move(w) : expand_variables(w));
    }
    return c;
}

}  // namespace

std::vector<const assignment*> settings::list(std::string_view section, std::string_view key) {
    std::vector<const assignment*> out;
    for (std::size_t i = 0; i < all_.size(); ++i) {
        if (!matches(all_[i], section, key)) continue;
        used_[i] = true;
        if (all_[i].value.empty())
            out.clear();
        else
            out.push_back(&all_[i]);
    }
    return out;
}

const assignment* settings::last(std::string_view section, std::string_view key) {
    const assignment* found = nullptr;
    for (std::size_t i = 0; i < all_.size(); ++i) {
        if (!matches(all_[i], section, key)) continue;
        used_[i] = true;
        found = all_[i].value.empty() ? nullptr : &all_[i];
    }
    return found;
}

std::vector<const assignment*> settings::with_prefix(std::string_view section,
                                                     std::string_view prefix) {
    std::vector<const assignment*> out;
    for (std::size_t i = 0; i < all_.size(); ++i) {
        if (all_[i].section != section || !all_[i].key.starts_with(prefix)) continue;
        used_[i] = true;
        out.push_back(&all_[i]);
    }
    return out;
}

std::vector<const assignment*> settings::unused() const {
    std::vector<const assignment*> out;
    for (std::size_t i = 0; i < all_.size(); ++i)
        if (!used_[i]) out.push_back(&all_[i]);
    return out;
}

specifiers::specifiers(unit_name name, std::string source_path)
    : name_(std::move(name)), source_path_(std::move(source_path)) {}

std::optional<std::string> specifiers::value_of(char c) const {
    if (auto text = find_specifier(fixed_specifiers, c)) return std::string(*text);
    const std::string& prefix = name_.prefix;
    const std::string& instance = name_.instance;
    switch (c) {
        case 'n':
            return name_.full();
        case 'N':
            return name_.templated ? prefix + "@" + instance : prefix;
        case 'p':
            return prefix;
        case 'P':
            return unescape_name(prefix);
        case 'i':
            return instance;
        case 'I':
            return unescape_name(instance);
        case 'j':
            return last_part(prefix);
        case 'J':
            return unescape_name(last_part(prefix));
        case 'f':
            return unescape_path(instance.empty() ? prefix : instance);
        case 'y':
            return source_path_;
        case 'Y':
            return source_path_.substr(0, source_path_.rfind('/'));
        default:
            return std::nullopt;
    }
}

std::expected<void, std::string> specifiers::expand(std::string_view text, shell_word& word) const {
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            word.add(kind::text, text.substr(i, 1));
            continue;
        }
        if (++i == text.size()) return std::unexpected("a lone '%' at the end (%% is a '%')");
        if (auto value = value_of(text[i]))
            word.add(kind::text, *value);
        else if (auto cmd = find_specifier(machine_specifiers, text[i]))
            word.add(kind::command, *cmd);
        else
            return std::unexpected(fmt::format("unknown specifier %{}", text[i]));
    }
    return {};
}

std::expected<std::string, std::string> specifiers::expand_text(std::string_view text) const {
    shell_word w;
    if (auto r = expand(text, w); !r) return std::unexpected(r.error());
    if (!w.is_literal())
        return std::unexpected(
            fmt::format("'{}': a specifier known only when the service "
                        "starts cannot be used here",
                        text));
    return w.literal_text();
}

std::expected<parsed_commands, std::string> parse_command_line(std::string_view value,
                                                               const specifiers& spec) {
    auto words = split_words(value);
    if (!words) return std::unexpected(words.error());
    parsed_commands out;
    std::vector<std::string> current;
    auto flush = [&]() -> std::expected<void, std::string> {
        auto c = one_command(std::move(current), spec, out.warnings);
        current.clear();
        if (!c) return std::unexpected(c.error());
        out.commands.push_back(std::move(*c));
        return {};
    };
    for (auto& w : *words) {
        if (w == ";") {
            if (auto r = flush(); !r) return std::unexpected(r.error());
        } else {
            current.push_back(w == "\\;" ? std::string(";") : std::move(w));
        }
    }
    if (auto r = flush(); !r) return std::unexpected(r.error());
    return out;
}

std::expected<std::vector<environment_variable>, std::string> parse_environment(
    std::string_view value, const specifiers& spec) {
    auto words = split_words(value);
    if (!words) return std::unexpected(words.error());
    std::vector<environment_variable> out;
    for (const auto& w : *words) {
        auto eq = w.find('=');
        if (eq == std::string::npos || !valid_variable_name(w.substr(0, eq)))
            return std::unexpected(fmt::format("'{}' is not an assignment NAME=VALUE", w));
        environment_variable v{w.substr(0, eq), {}};
        if (auto r = spec.expand(std::string_view(w).substr(eq + 1), v.value); !r)
            return std::unexpected(r.error());
        out.push_back(std::move(v));
    }
    return out;
}

bool valid_variable_name(std::string_view name) {
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
    for (char c : name)
        if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9')))
            return false;
    return true;
}

}  // namespace hw::ctl::systemd
