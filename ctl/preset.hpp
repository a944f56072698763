// preset: the policy files that `system-control preset` consults (systemd's syntax, nosh.md
// §3.5). Pure apart from reading the files.
//
// A preset file holds lines `enable PATTERN` or `disable PATTERN` (blank lines and lines
// starting with '#' or ';' are skipped). PATTERN is a wildmat (* ? [set] [!set] \x); a trailing
// .service, .target, .socket or .timer is stripped from it. Files named *.preset are taken from
// the preset directories; a file name in an earlier directory hides the same name in later ones;
// the files are then read in lexical order of their names and the first matching line decides.
// When no line matches, the answer is enable (systemd's rule; ship a 99-default.preset with
// `disable *` to invert it). Lines that cannot be understood are diagnostics with file and line.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/diagnostic.hpp"

namespace hw::ctl {

bool wildmat(std::string_view pattern, std::string_view text) noexcept;

struct preset_rule {
    bool enable;
    std::string pattern;
    std::string file;
    unsigned line;
};

class preset_policy {
  public:
    // The default directories, each prefixed with `root`, or $HEARTWOOD_PRESET_PATH (':').
    static std::vector<std::string> directories(std::string_view root);
    // Reads the *.preset files of `dirs`, in the order described above.
    static preset_policy load(const std::vector<std::string>& dirs, diagnostics& problems);
    // Parses one file's text (for tests and for load).
    void add_file(std::string_view file, std::string_view text, diagnostics& problems);

    // The first matching rule, or nullopt (which means enable).
    const preset_rule* match(std::string_view bundle_name) const noexcept;
    bool enabled(std::string_view bundle_name) const noexcept {
        const preset_rule* r = match(bundle_name);
        return !r || r->enable;
    }

  private:
    std::vector<preset_rule> rules_;
};

}  // namespace hw::ctl
