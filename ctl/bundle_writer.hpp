// bundle_writer: puts a converted bundle (systemd_convert.hpp) into a bundle root, whole or not
// at all.
//
// A bundle goes to ROOT/services/NAME, a target to ROOT/targets/NAME. It is written into a
// temporary directory beside it (named ".NAME.XXXXXX": readers skip names starting with '.')
// and then renamed into place; an existing bundle of that name is swapped out in one step
// (renameat2 RENAME_EXCHANGE) and then removed. Its `down` file (the administrator's "disabled")
// is kept.
//
// Relationship links follow units/README.md, part 2: to a bundle in ROOT a relative link
// (../../X between bundles of one kind, ../../../targets/X across), to one found in another
// bundle root an absolute link (without the --root prefix, so that an image works once booted),
// to one found nowhere a relative link into ROOT (it leads nowhere until that unit is converted
// too, which a wants/ or after/ link may: see units/README.md).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/diagnostic.hpp"
#include "systemd_convert.hpp"

namespace hw::ctl::systemd {

// Where a bundle is: its physical path, or nullopt.
using bundle_finder = std::function<std::optional<std::string>(const bundle_ref&)>;

// The text of the link from `from` (in the physical bundle root `root`) to `to`, which `find`
// knows about; `prefix` is taken off absolute links (the --root option).
std::string link_text(const bundle_ref& from, const bundle_ref& to, const bundle_finder& find,
                      std::string_view root, std::string_view prefix);

// ROOT/services/NAME or ROOT/targets/NAME.
std::string bundle_path_in(std::string_view root, const bundle_ref& b);

// Writes `spec` into `root` (which exists); an empty result means it is there.
diagnostics write_bundle(const std::string& root, const bundle_spec& spec,
                         const bundle_finder& find, std::string_view prefix);

// What write_bundle() would write, as text (for --dry-run): each file with its contents, each
// link with its text.
std::string describe_bundle(const std::string& root, const bundle_spec& spec,
                            const bundle_finder& find, std::string_view prefix);

}  // namespace hw::ctl::systemd
