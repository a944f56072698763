// install: what enable and disable change on disk (nosh.md §3.5), computed first and then
// carried out, so --dry-run can print the same actions.
//
// For bundle B found at P (its name N):
//   each wanted-by/T   ->  T/wants/N        -> P
//   each stopped-by/T  ->  T/conflicts/N    -> P   and   T/after/N -> P
//   each requires/X    ->  X/required-by/N  -> P
// and enable removes the service directory's `down` file, disable creates it (mode 0400) and
// removes those links (only links that lead to B). An entry of wanted-by/ etc. that is a
// dangling link is looked up by its name on the search path instead. Link texts are P as
// found, without the --root prefix, so an image prepared with --root works once booted.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/bundle.hpp"
#include "common/diagnostic.hpp"

namespace hw::ctl {

struct install_action {
    enum class kind { link, unlink, create_file, remove_file } what;
    std::string path;
    std::string target;  // the link text, for link
};

struct install_plan {
    std::string bundle_dir;  // P
    std::string name;        // N
    std::vector<install_action> actions;
    diagnostics problems;
};

// requires: bundle_dir is the path P where the bundle was found (it may carry the root prefix).
install_plan plan_install(const bundle_path& search, const std::string& bundle_dir, bool enable,
                          std::string_view root);

// Carries the actions out, skipping those already true; returns what went wrong.
diagnostics apply_install(const install_plan& plan);

// "link /etc/.../wants/web -> /usr/.../web", for --dry-run and --verbose.
std::string describe(const install_action& a);

// The entries of `dir` not starting with '.', sorted; empty when it cannot be read.
std::vector<std::string> sorted_entries(const std::string& dir);

// Whether the bundle's service directory has no `down` file.
bool is_enabled(const std::string& bundle_dir);

}  // namespace hw::ctl
