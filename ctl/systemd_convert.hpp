// systemd_convert: a systemd service or target unit, parsed (systemd_unit.hpp), becomes the
// description of the bundle that does the same under heartwood: its files (programs, flag and
// number files) and its relationship links. ctl/README.md has the table of what each setting
// becomes and what is not supported. Pure: what exists on the bundle path is asked through
// `bundle_exists`; bundle_writer.hpp writes the result.
//
// Every problem names file:line: an error (a bad value, a setting that cannot work, an unknown
// specifier) means no bundle; a warning ("unused: Key=", a relationship dropped) does not.
#pragma once

#include <chrono>
#include <compare>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/diagnostic.hpp"
#include "systemd_unit.hpp"

namespace hw::ctl::systemd {

// A bundle, by name and kind (in targets/ or services/).
struct bundle_ref {
    std::string name;
    bool target = false;
    auto operator<=>(const bundle_ref&) const = default;
};

struct bundle_file {
    std::string path;  // relative to the bundle directory: "service/run"
    std::string content;
    bool executable = false;
};

struct bundle_link {
    std::string dir;  // "wants", "after", "wanted-by", ...
    bundle_ref to;
    auto operator<=>(const bundle_link&) const = default;
};

struct bundle_spec {
    bundle_ref self;
    std::vector<bundle_file> files;
    std::vector<bundle_link> links;  // sorted, no duplicates
};

struct unit_source {
    std::string name;  // the unit's name: "getty@tty1.service"
    std::string path;  // the file it was read from ("/lib/systemd/system/getty@.service")
    std::vector<assignment> assignments;  // the file's, then its drop-ins'
    // For a service: its socket units (the one of the same name, "getty@tty1.socket", and those
    // whose Service= names it). Their sockets are made by socket-listen before the service's
    // main command (ctl/README.md).
    std::vector<unit_source> sockets;
};

// Whether a bundle is there already (on the bundle path, or being converted alongside).
using bundle_exists = std::function<bool(const bundle_ref&)>;

struct conversion {
    // nullopt when there was an error, or when the unit is one that heartwood has its own of
    // (one of systemd's standard targets, or systemd-udevd.service and the like), which is
    // a warning: the unit is skipped.
    std::optional<bundle_spec> bundle;
    diagnostics problems;
};

conversion convert_unit(const unit_source& unit, const bundle_exists& exists);

// The bundle that stands for a systemd unit name in a relationship: X.service and X.socket are
// X (a socket is made by its service's bundle); the standard
// targets are heartwood's (default.target is normal, graphical.target workstation, ...; see
// ctl/README.md), other targets keep their name; X.mount is mount@X as fstab-bundles names it
// ("-.mount" is remount-root). An error message for other kinds of unit and for names that
// cannot be bundle names.
std::expected<bundle_ref, std::string> bundle_for_unit(std::string_view unit_name);

// "90", "0.5", "0.001": a duration as a bundle's number files hold it (seconds, to the
// millisecond, rounded up); "0" (no limit) for none and for infinity.
std::string seconds_text(std::chrono::microseconds d);

}  // namespace hw::ctl::systemd
