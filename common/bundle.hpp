// bundle: what one bundle directory declares, and where bundles are looked up by name.
//
// A bundle is a directory (nosh's format, specified in units/README.md):
//   service/            the service directory (run, start, stop, restart, flag files); when it
//                       is missing the bundle directory itself is the service directory
//   wants/ requires/ conflicts/ required-by/ after/ before/    run-time relationships
//   wanted-by/ stopped-by/                                     install-time relationships
//   log                 link to the bundle of this service's logger
// Each entry of a relationship directory is a symlink to (or a subdirectory that is) another
// bundle; entries whose names start with '.' are ignored. Identity is the (device, inode) of the
// bundle directory, so several paths and links to one bundle are one bundle.
//
// bundle_path resolves names over the search roots; bundle_tree.hpp reads the bundles.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hw {

struct bundle_flags {
    bool down = false;             // service/down: not enabled
    bool remain = false;           // service/remain: up while run has exited (targets)
    bool ready_after_run = false;  // service/ready_after_run: a oneshot
    bool use_hangup = false;       // service/use_hangup: SIGHUP along with SIGTERM on stop
    bool no_kill_signal = false;   // service/no_kill_signal: never escalate to SIGKILL
};

struct bundle {
    std::string name;         // the name given to the service-manager (the directory's name; a log/
                              // subdirectory is "<main>.log"); unique in a tree
    std::string path;         // physical (symlink-free) path of the bundle directory
    std::string service_dir;  // path + "/service", or path
    dev_t dev = 0;
    ino_t ino = 0;
    bundle_flags flags;
    // service/timeout-start, service/timeout-stop: seconds (fractions allowed); 0 = for ever.
    std::optional<std::chrono::milliseconds> start_timeout;
    std::optional<std::chrono::milliseconds> stop_timeout;
    bool has_run = false;        // service/run exists
    bool contents_read = false;  // false: only named (see bundle_loader::options::follow_all)
    bool missing = false;  // no such directory: only a dangling requires/ link leads here, and
                           // it can never start (its path is where that link points)
};

// The longest duration a bundle may give (2^31 s, 68 years): any program can add it, in
// nanoseconds, to a reading of CLOCK_MONOTONIC.
inline constexpr std::chrono::seconds max_seconds{std::int64_t{1} << 31};

// The text of a duration file (timeout-start, timeout-stop, restart-delay, ...; units/README.md
// section 4): seconds with an optional decimal fraction ("90", "0.25", not ".5" or "5."), to the
// millisecond (further digits are dropped), with optional surrounding whitespace; at most
// max_seconds. system-control and service-manager both read duration files with it, so that
// what `system-control check` accepts is what service-manager runs.
std::optional<std::chrono::milliseconds> parse_seconds(std::string_view text) noexcept;

// A name the service-manager accepts (proto::valid_service_name: 1..proto::max_name bytes of
// [A-Za-z0-9@._:+-], not starting with '.' or '-').
bool valid_bundle_name(std::string_view name) noexcept;

// A file of service/cgroup/ (a cgroup v2 interface file the bundle sets): "<controller>.
// <setting>" in [a-z0-9_.], such as memory.max or cpu.weight; never cgroup.* (the core files:
// membership, kill, freeze), which are the service-manager's own.
bool valid_cgroup_setting(std::string_view name) noexcept;

// The roots searched for bundles, each holding targets/ and services/.
class bundle_path {
  public:
    explicit bundle_path(std::vector<std::string> roots) : roots_(std::move(roots)) {}

    // /run/service-bundles, /etc/service-bundles, /usr/share/service-bundles.
    static std::vector<std::string> default_roots();
    // $HEARTWOOD_BUNDLE_PATH (roots separated by ':') if set and non-empty, else the defaults;
    // every root is prefixed with `prefix` (the --root option; empty for none).
    static bundle_path from_environment(std::string_view prefix = {});

    const std::vector<std::string>& roots() const noexcept { return roots_; }

    // Where `name` is: a name containing '/' is a path (relative to the current directory);
    // "X.target" is looked up in the targets/ directories only; "X.service" in services/ only;
    // "X.timer" and "X.socket" in services/, as a bundle of that name (a converted timer unit)
    // first, then as X; a bare name in every root's targets/ first, then in every root's
    // services/. The first existing directory wins.
    std::optional<std::string> resolve(std::string_view name) const;

    // Every place that was searched for `name`, in order (for "not found" messages).
    std::vector<std::string> candidates(std::string_view name) const;

  private:
    std::vector<std::string> roots_;
};

}  // namespace hw
