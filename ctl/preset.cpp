#include "preset.hpp"

#include <dirent.h>
#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>
#include "common/text_file.hpp"
#include <map>

namespace hw::ctl {

namespace {

// Matches the one pattern element at p[pi] against c; on success moves pi past the element.
bool match_one(std::string_view p, std::size_t& pi, char c) noexcept {
    char first = p[pi];
    if (first == '?') return ++pi, true;
    if (first == '\\' && pi + 1 < p.size()) return p[pi + 1] == c ? (pi += 2, true) : false;
    if (first == '[') {
        std::size_t j = pi + 1;
        bool negate = j < p.size() && (p[j] == '!' || p[j] == '^');
        if (negate) ++j;
        bool matched = false;
        for (bool at_start = true; j < p.size() && (at_start || p[j] != ']'); at_start = false) {
            char lo = p[j] == '\\' && j + 1 < p.size() ? p[++j] : p[j];
            char hi = lo;
            if (j + 2 < p.size() && p[j + 1] == '-' && p[j + 2] != ']') {
                hi = p[j + 2];
                j += 2;
            }
            matched = matched || (c >= lo && c <= hi);
            ++j;
        }
        if (j < p.size()) {  // a complete class
            if (matched == negate) return false;
            pi = j + 1;
            return true;
        }
        // no closing bracket: a literal '['
    }
    return first == c ? (++pi, true) : false;
}

}  // namespace

bool wildmat(std::string_view p, std::string_view t) noexcept {
    std::size_t pi = 0, ti = 0;
    std::size_t star_p = std::string_view::npos, star_t = 0;
    while (ti < t.size()) {
        if (pi < p.size() && p[pi] == '*') {
            star_p = ++pi;
            star_t = ti;
            continue;
        }
        if (pi < p.size() && match_one(p, pi, t[ti])) {
            ++ti;
            continue;
        }
        if (star_p == std::string_view::npos) return false;
        pi = star_p;
        ti = ++star_t;
    }
    while (pi < p.size() && p[pi] == '*') ++pi;
    return pi == p.size();
}

std::vector<std::string> preset_policy::directories(std::string_view root) {
    std::vector<std::string> dirs;
    if (const char* env = std::getenv("HEARTWOOD_PRESET_PATH"); env && *env) {
        std::string_view rest(env);
        while (!rest.empty()) {
            auto colon = rest.find(':');
            if (auto part = rest.substr(0, colon); !part.empty()) dirs.emplace_back(part);
            if (colon == std::string_view::npos) break;
            rest.remove_prefix(colon + 1);
        }
    } else {
        dirs = {"/etc/system-control/presets",          "/usr/local/etc/system-control/presets",
                "/etc/systemd/system-preset",           "/usr/local/share/system-control/presets",
                "/usr/local/lib/systemd/system-preset", "/usr/share/system-control/presets",
                "/usr/lib/systemd/system-preset",       "/lib/systemd/system-preset"};
    }
    std::string prefix(root);
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    for (auto& d : dirs) d = prefix + d;
    return dirs;
}

preset_policy preset_policy::load(const std::vector<std::string>& dirs, diagnostics& problems) {
    std::map<std::string, std::string> files;  // file name -> path; the first directory wins
    for (const auto& dir : dirs) {
        DIR* d = ::opendir(dir.c_str());
        if (!d) continue;
        while (dirent* e = ::readdir(d)) {
            std::string_view n(e->d_name);
            if (n.size() > 7 && n.ends_with(".preset") && n[0] != '.')
                files.emplace(std::string(n), dir + "/" + std::string(n));
        }
        ::closedir(d);
    }
    preset_policy policy;
    for (const auto& [name, path] : files) {
        auto text = read_text_file(path.c_str(), 1024 * 1024);
        if (!text) {
            problems.push_back({diagnostic::level::error, path, 0,
                                "unable to read: " + text.error().message()});
            continue;
        }
        policy.add_file(path, *text, problems);
    }
    return policy;
}

void preset_policy::add_file(std::string_view file, std::string_view text, diagnostics& problems) {
    unsigned line_no = 0;
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        ++line_no;
        auto trim = [](std::string_view s) {
            while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
            while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
                s.remove_suffix(1);
            return s;
        };
        line = trim(line);
        if (line.empty() || line[0] == '#' || line[0] == ';') continue;
        auto space = line.find_first_of(" \t");
        std::string_view verb = line.substr(0, space);
        std::string_view pattern =
            space == std::string_view::npos ? std::string_view() : trim(line.substr(space));
        if ((verb != "enable" && verb != "disable") || pattern.empty() ||
            pattern.find_first_of(" \t") != std::string_view::npos) {
            problems.push_back(
                {diagnostic::level::warning, std::string(file), line_no,
                 fmt::format("not 'enable PATTERN' or 'disable PATTERN': {}", line)});
            continue;
        }
        for (std::string_view suffix : {".service", ".target", ".socket", ".timer"}) {
            if (pattern.size() > suffix.size() && pattern.ends_with(suffix)) {
                pattern.remove_suffix(suffix.size());
                break;
            }
        }
        rules_.push_back({verb == "enable", std::string(pattern), std::string(file), line_no});
    }
}

const preset_rule* preset_policy::match(std::string_view bundle_name) const noexcept {
    for (const auto& r : rules_)
        if (wildmat(r.pattern, bundle_name)) return &r;
    return nullptr;
}

}  // namespace hw::ctl
