// Condition...= and Assert...= of a converted unit (see systemd_converter.hpp) as sh tests, and
// the lines of a program that check them: run checks the conditions (a condition that does not
// hold ends it with exit 0, so the service is stopped, not failed), the restart program checks
// them again (and refuses), start checks the assertions (and fails).
#include <fmt/core.h>

#include <array>

#include "systemd_converter.hpp"

namespace hw::ctl::systemd {

namespace {

// The test that succeeds when `test` fails.
std::string negated(std::string_view test) {
    if (test.starts_with("! ")) return std::string(test.substr(2));
    bool compound =
        test.find(" && ") != std::string_view::npos || test.find(" || ") != std::string_view::npos;
    return compound ? fmt::format("! {{ {}; }}", test) : fmt::format("! {}", test);
}

// The word as a pattern for sh to expand: glob characters bare, everything else quoted.
std::string glob_text(const shell_word& w) {
    std::string out;
    for (const auto& p : w.pieces) {
        if (p.what != shell_word::kind::text) {
            out += render(shell_word{{p}});
            continue;
        }
        for (char c : p.value) {
            if (std::string_view("*?[]").find(c) != std::string_view::npos)
                out += c;
            else
                out += sh_quote(std::string(1, c));
        }
    }
    return out;
}

}  // namespace

std::vector<condition_check> converter::checks(std::string_view kind) {
    std::vector<condition_check> out;
    for (const assignment* a : set_.with_prefix("Unit", kind)) {
        if (a->value.empty()) {  // resets every check before it
            out.clear();
            continue;
        }
        std::string_view v = a->value;
        bool trigger = v.starts_with('|');
        if (trigger) v.remove_prefix(1);
        bool negate = v.starts_with('!');
        if (negate) v.remove_prefix(1);
        auto test = condition_test(*a, std::string_view(a->key).substr(kind.size()), v);
        if (test)
            out.push_back({negate ? negated(*test) : *test, a->key + "=" + a->value, trigger});
    }
    return out;
}

std::optional<std::string> converter::condition_test(const assignment& at, std::string_view check,
                                                     std::string_view arg) {
    if (check == "Virtualization") {
        if (arg == "container") return "[ -e /run/system-manager/container ]";
        unused(at, "only container and !container are converted");
        return std::nullopt;
    }
    if (check == "KernelCommandLine") {
        std::string word(arg), pattern = "*" + sh_quote(" " + word + " ") + "*";
        if (word.find('=') == std::string::npos)
            pattern += " | *" + sh_quote(" " + word + "=") + "*";
        return fmt::format("case \" $(cat /proc/cmdline) \" in {}) true ;; *) false ;; esac",
                           pattern);
    }
    struct path_check {
        std::string_view name, test;  // {0}: the path
    };
    static constexpr std::array<path_check, 9> path_checks = {{
        {"PathExists", "[ -e {0} ]"},
        {"PathExistsGlob", "(set +f; for p in {0}; do [ -e \"$p\" ] && exit 0; done; exit 1)"},
        {"PathIsDirectory", "[ -d {0} ]"},
        {"PathIsSymbolicLink", "[ -L {0} ]"},
        {"PathIsMountPoint", "mountpoint -q {0}"},
        {"PathIsReadWrite", "findmnt -rno OPTIONS --target {0} | grep -q '^rw'"},
        {"DirectoryNotEmpty", "[ -d {0} ] && [ -n \"$(ls -A {0})\" ]"},
        {"FileNotEmpty", "[ -f {0} ] && [ -s {0} ]"},
        {"FileIsExecutable", "[ -f {0} ] && [ -x {0} ]"},
    }};
    for (const auto& c : path_checks) {
        if (c.name != check) continue;
        auto path = word(at, arg);
        if (!path) return std::nullopt;
        if (path->pieces.empty() || !path->pieces[0].value.starts_with('/')) {
            error(at, fmt::format("{}={}: not an absolute path", at.key, at.value));
            return std::nullopt;
        }
        std::string text = check == "PathExistsGlob" ? glob_text(*path) : render(*path);
        return fmt::format(fmt::runtime(c.test), text);
    }
    unused(at, "not checked: ctl/README.md lists the conditions that are");
    return std::nullopt;
}

std::vector<std::string> converter::check_lines(const std::vector<condition_check>& checks,
                                                std::string_view outcome,
                                                std::string_view why) const {
    std::vector<std::string> lines;
    std::string tests, texts;
    for (const auto& c : checks) {
        if (c.trigger) {
            tests += (tests.empty() ? "" : " || ") + c.test;
            texts += (texts.empty() ? "" : ", ") + c.text;
            continue;
        }
        std::string message = fmt::format("{}: {} does not hold: {}", out_.self.name, c.text, why);
        lines.push_back(fmt::format("if {}; then echo {}; {}; fi", negated(c.test),
                                    sh_quote(message), outcome));
    }
    if (!tests.empty()) {
        std::string message = fmt::format("{}: none of {} holds: {}", out_.self.name, texts, why);
        lines.push_back(
            fmt::format("if ! {{ {}; }}; then echo {}; {}; fi", tests, sh_quote(message), outcome));
    }
    return lines;
}

}  // namespace hw::ctl::systemd
