// Preset files (ctl/preset): `system-control preset` reads them from /etc and /usr and they may
// come from packages. The first line of the input is a bundle name, the rest a preset file.
// Every rule kept is a valid verb and pattern, the policy's answer is that of its first
// matching rule, and wildmat() keeps the laws of glob patterns: a pattern that matches still
// matches with '*' added at either end (at the end only when it does not end in a lone '\',
// which would escape it), and every text matches itself escaped.
#include <string>

#include "ctl/preset.hpp"
#include "fuzz.hpp"

namespace {

std::string escaped(std::string_view text) {
    std::string out;
    for (char c : text) {
        out += '\\';
        out += c;
    }
    return out;
}

bool ends_in_escape(std::string_view p) {
    std::size_t n = 0;
    while (n < p.size() && p[p.size() - 1 - n] == '\\') ++n;
    return n % 2 == 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace hw::ctl;
    auto in = hw::fuzz::text(data, size);
    std::string_view name = hw::fuzz::take_until(in, '\n');

    hw::diagnostics problems;
    preset_policy policy;
    policy.add_file("fuzz.preset", in, problems);
    for (const auto& p : problems) FUZZ_CHECK(p.file == "fuzz.preset" && p.line > 0);

    FUZZ_CHECK(wildmat(escaped(name), name));
    FUZZ_CHECK(wildmat("*", name));
    if (const preset_rule* r = policy.match(name)) {
        FUZZ_CHECK(!r->pattern.empty() && r->line > 0);
        FUZZ_CHECK(r->pattern.find_first_of(" \t") == std::string::npos);
        FUZZ_CHECK(wildmat(r->pattern, name));
        if (!ends_in_escape(r->pattern)) FUZZ_CHECK(wildmat(r->pattern + "*", name));
        FUZZ_CHECK(wildmat("*" + r->pattern, name));
        FUZZ_CHECK(policy.enabled(name) == r->enable);
    } else {
        FUZZ_CHECK(policy.enabled(name));
    }
    return 0;
}
