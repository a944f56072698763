#include "bundle.hpp"

#include <sys/stat.h>

#include <charconv>
#include <cstdlib>

#include "protocol.hpp"

namespace hw {

std::optional<std::chrono::milliseconds> parse_seconds(std::string_view text) noexcept {
    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (!text.empty() && blank(text.front())) text.remove_prefix(1);
    while (!text.empty() && blank(text.back())) text.remove_suffix(1);
    auto dot = text.find('.');
    std::string_view whole = text.substr(0, dot);
    std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
    if (whole.empty() || (dot != std::string_view::npos && frac.empty())) return std::nullopt;
    std::uint64_t secs = 0;
    auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), secs);
    if (ec != std::errc() || p != whole.data() + whole.size() ||
        secs > static_cast<std::uint64_t>(max_seconds.count()))
        return std::nullopt;
    std::uint64_t ms = secs * 1000, scale = 100;
    for (char c : frac) {
        if (c < '0' || c > '9') return std::nullopt;
        ms += static_cast<std::uint64_t>(c - '0') * scale;
        scale /= 10;
    }
    if (std::chrono::milliseconds(ms) > max_seconds) return std::nullopt;
    return std::chrono::milliseconds(ms);
}

bool valid_bundle_name(std::string_view name) noexcept {
    return proto::valid_service_name(name);
}

bool valid_cgroup_setting(std::string_view name) noexcept {
    auto dot = name.find('.');
    if (dot == 0 || dot == std::string_view::npos || dot + 1 == name.size()) return false;
    if (name.substr(0, dot) == "cgroup" || name.size() > 64) return false;
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
        if (!ok) return false;
    }
    return true;
}

std::vector<std::string> bundle_path::default_roots() {
    return {"/run/service-bundles", "/etc/service-bundles", "/usr/share/service-bundles"};
}

bundle_path bundle_path::from_environment(std::string_view prefix) {
    std::vector<std::string> roots;
    const char* env = std::getenv("HEARTWOOD_BUNDLE_PATH");
    if (env && *env) {
        std::string_view rest(env);
        while (!rest.empty()) {
            auto colon = rest.find(':');
            auto part = rest.substr(0, colon);
            if (!part.empty()) roots.emplace_back(part);
            if (colon == std::string_view::npos) break;
            rest.remove_prefix(colon + 1);
        }
    } else {
        roots = default_roots();
    }
    if (!prefix.empty()) {
        std::string p(prefix);
        while (p.size() > 1 && p.back() == '/') p.pop_back();
        for (auto& r : roots) r = p + r;
    }
    return bundle_path(std::move(roots));
}

std::vector<std::string> bundle_path::candidates(std::string_view name) const {
    if (name.find('/') != std::string_view::npos) return {std::string(name)};
    bool targets = true, services = true;
    std::string_view exact;  // "X.timer" and "X.socket": a bundle of that very name first
    auto strip = [&name](std::string_view suffix) {
        if (name.size() > suffix.size() && name.ends_with(suffix)) {
            name.remove_suffix(suffix.size());
            return true;
        }
        return false;
    };
    if (strip(".target")) {
        services = false;
    } else if (strip(".service")) {
        targets = false;
    } else if (std::string_view full = name; strip(".socket") || strip(".timer")) {
        targets = false;
        exact = full;
    }
    std::vector<std::string> out;
    if (!exact.empty())
        for (const auto& root : roots_) out.push_back(root + "/services/" + std::string(exact));
    if (targets)
        for (const auto& root : roots_) out.push_back(root + "/targets/" + std::string(name));
    if (services)
        for (const auto& root : roots_) out.push_back(root + "/services/" + std::string(name));
    return out;
}

std::optional<std::string> bundle_path::resolve(std::string_view name) const {
    for (auto& candidate : candidates(name)) {
        struct stat st;
        if (::stat(candidate.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return candidate;
    }
    return std::nullopt;
}

}  // namespace hw
