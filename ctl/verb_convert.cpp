// convert-systemd-units: systemd unit files into bundles. This file finds each unit's file and
// drop-ins, and reports; systemd_unit.hpp parses, systemd_convert.hpp converts, bundle_writer.hpp
// writes.
#include <fmt/core.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <set>

#include "bundle_writer.hpp"
#include "cli.hpp"
#include "common/text_file.hpp"
#include "install.hpp"
#include "systemd_convert.hpp"

namespace hw::ctl {

namespace {

using namespace systemd;

struct unit_files {
    std::string unit;                  // the file read: the unit's own, or its template's
    std::vector<std::string> dropins;  // in the order they apply
};

std::string dir_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_of(const std::string& path) {
    return path.substr(path.rfind('/') + 1);
}

bool exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

std::string real_path(const std::string& path) {
    char* r = ::realpath(path.c_str(), nullptr);
    if (!r) return path;
    std::string out(r);
    ::free(r);
    return out;
}

// The file of the unit at `path` (for an instance without a file of its own, its template's,
// beside it) and its drop-ins: *.conf in X.d/ and, for an instance, in the template's X@.d/ (a
// file of the instance's directory hides the template's of that name), by file name.
std::expected<unit_files, std::string> find_unit_files(const std::string& given) {
    std::string path = std::filesystem::absolute(given).lexically_normal().string();
    std::string dir = dir_of(path), base = base_of(path);
    auto name = parse_unit_name(base);
    std::string template_base;
    if (name && name->templated && !name->instance.empty())
        template_base = name->prefix + "@." + name->suffix;
    unit_files f;
    if (exists(path))
        f.unit = path;
    else if (!template_base.empty() && exists(dir + "/" + template_base))
        f.unit = dir + "/" + template_base;
    else
        return std::unexpected(template_base.empty()
                                   ? std::string("no such file")
                                   : fmt::format("no such file, nor a template {}", template_base));
    std::map<std::string, std::string> conf;
    std::vector<std::string> dirs = {dir + "/" + base + ".d"};
    if (!template_base.empty()) dirs.insert(dirs.begin(), dir + "/" + template_base + ".d");
    for (const auto& d : dirs)
        for (const auto& e : sorted_entries(d))
            if (e.ends_with(".conf")) conf[e] = d + "/" + e;
    for (auto& [file, p] : conf) f.dropins.push_back(p);
    return f;
}

// Why the unit at `path` is not one to convert: masked (an empty file, a link to /dev/null),
// or an alias (a link to another unit file); "" if it is.
std::string skipped(const std::string& path) {
    struct stat st;
    std::string target = real_path(path);
    if (target == "/dev/null" || (::stat(path.c_str(), &st) == 0 && st.st_size == 0))
        return "masked (empty, or a link to /dev/null): not converted";
    if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode) && base_of(target) != base_of(path))
        return fmt::format("an alias of {}: not converted (convert that one)", base_of(target));
    return {};
}

// [Socket] Service= of the socket unit at `path` (its file and drop-ins), read quietly: "" when
// unset or unreadable. Its problems are reported when it is converted, not here.
std::string socket_service(const std::string& path) {
    auto files = find_unit_files(path);
    if (!files) return {};
    std::vector<std::string> all = files->dropins;
    all.insert(all.begin(), files->unit);
    std::vector<assignment> assignments;
    diagnostics ignored;
    for (const auto& file : all)
        if (auto text = read_text_file(file.c_str(), 1 << 20))
            parse_unit(file, *text, assignments, ignored);
    std::string service;
    for (const auto& a : assignments)
        if (a.section == "Socket" && a.key == "Service") service = a.value;
    return service;
}

// The service that a socket unit given on the command line is converted with: its Service=, or
// X.service (or, for an instance, its template X@.service), beside X.socket; an error if there
// is none.
std::expected<std::string, std::string> service_of_socket(const std::string& path) {
    std::string dir = dir_of(path), base = base_of(path);
    auto name = parse_unit_name(base);
    if (!name) return std::unexpected(fmt::format("'{}' is not a unit name", base));
    if (std::string named = socket_service(path); !named.empty()) {
        if (find_unit_files(dir + "/" + named)) return dir + "/" + named;
        return std::unexpected(fmt::format("Service={}: no such unit beside it", named));
    }
    std::string stem = name->templated ? name->prefix + "@" + name->instance : name->prefix;
    std::string service = dir + "/" + stem + ".service";
    if (find_unit_files(service)) return service;
    if (!name->templated && exists(dir + "/" + name->prefix + "@.service"))
        return std::unexpected(fmt::format(
            "not supported: Accept=yes ({}@.service, a service instance per connection)",
            name->prefix));
    return std::unexpected(fmt::format("no {}.service beside it to convert it with", stem));
}

struct tally {
    unsigned clean = 0, warned = 0, skipped = 0, failed = 0;
};

class unit_converter {
  public:
    unit_converter(const context& ctx, std::string root, std::set<bundle_ref> converting)
        : ctx_(ctx),
          search_(ctx.search_path()),
          root_(std::move(root)),
          prefix_(ctx.root().empty() ? std::string() : real_path(ctx.root())),
          converting_(std::move(converting)) {}

    int convert(const std::string& path, tally& count);

  private:
    std::optional<int> read(const unit_files& files, unit_source& into, tally& count, bool& warned);
    std::optional<int> add_sockets(unit_source& service, const std::string& path, tally& count,
                                   bool& warned);
    std::optional<int> add_socket(unit_source& service, const std::string& socket_path,
                                  tally& count, bool& warned);
    const std::vector<std::pair<std::string, std::string>>& socket_services(const std::string& dir);
    std::optional<std::string> find(const bundle_ref& b) const {
        std::string in_root = bundle_path_in(root_, b);
        if (converting_.contains(b) || exists(in_root)) return in_root;
        auto p = search_.resolve(b.name + (b.target ? ".target" : ".service"));
        return p ? std::optional(real_path(*p)) : std::nullopt;
    }
    int write(const bundle_spec& spec);
    bool report(const diagnostics& problems);  // true if there is an error

    const context& ctx_;
    bundle_path search_;
    std::string root_, prefix_;
    std::set<bundle_ref> converting_;
    std::map<std::string, std::vector<std::pair<std::string, std::string>>> socket_services_;
};

int unit_converter::convert(const std::string& path, tally& count) {
    auto files = find_unit_files(path);
    if (!files) {
        report_error(ctx_, fmt::format("{}: {}", path, files.error()));
        return ++count.failed, exit_code::no;
    }
    if (auto why = skipped(files->unit); !why.empty()) {
        report_warning(ctx_, fmt::format("{}: {}", files->unit, why));
        return ++count.skipped, exit_code::ok;
    }
    unit_source source{base_of(path), files->unit, {}, {}};
    bool warned = false;
    if (auto failed = read(*files, source, count, warned)) return *failed;
    if (auto failed = add_sockets(source, path, count, warned)) return *failed;
    auto c = convert_unit(source, [this](const bundle_ref& b) { return find(b).has_value(); });
    if (report(c.problems)) return ++count.failed, exit_code::no;
    if (!c.bundle) return ++count.skipped, exit_code::ok;  // heartwood has its own
    ++(!warned && c.problems.empty() ? count.clean : count.warned);
    return write(*c.bundle);
}

// Reads the unit's file and drop-ins into `into`, reporting what parsing found: the exit code
// of a failure (counted), or nullopt; `warned` is set when there was a warning.
std::optional<int> unit_converter::read(const unit_files& files, unit_source& into, tally& count,
                                        bool& warned) {
    diagnostics problems;
    std::vector<std::string> all = files.dropins;
    all.insert(all.begin(), files.unit);
    for (const auto& file : all) {
        auto text = read_text_file(file.c_str(), 1 << 20);
        if (!text) {
            report_error(ctx_, fmt::format("unable to read {}: {}", file, text.error().message()));
            return ++count.failed, exit_code::failure;
        }
        parse_unit(file, *text, into.assignments, problems);
    }
    if (report(problems)) return ++count.failed, exit_code::no;
    warned = warned || !problems.empty();
    return std::nullopt;
}

// A service's socket units, read into it, as systemd passes their sockets to it: X.socket
// beside X.service (or its template's), then the others beside it whose Service= names it.
std::optional<int> unit_converter::add_sockets(unit_source& service, const std::string& path,
                                               tally& count, bool& warned) {
    auto name = parse_unit_name(base_of(path));
    if (!name || name->suffix != "service") return std::nullopt;
    std::string stem = name->templated ? name->prefix + "@" + name->instance : name->prefix;
    std::string dir = dir_of(std::filesystem::absolute(path).lexically_normal().string());
    if (auto failed = add_socket(service, dir + "/" + stem + ".socket", count, warned))
        return failed;
    for (const auto& [entry, named] : socket_services(dir))
        if (entry != stem + ".socket" && named == base_of(path))
            if (auto failed = add_socket(service, dir + "/" + entry, count, warned)) return failed;
    return std::nullopt;
}

// The socket units in `dir` with their Service= (or ""), read once per directory however many
// of its services are converted.
const std::vector<std::pair<std::string, std::string>>& unit_converter::socket_services(
    const std::string& dir) {
    auto [it, added] = socket_services_.try_emplace(dir);
    if (added)
        for (const auto& entry : sorted_entries(dir))
            if (entry.ends_with(".socket"))
                it->second.emplace_back(entry, socket_service(dir + "/" + entry));
    return it->second;
}

// The socket unit at `socket_path` read into `service`; nothing if it is not there or masked.
std::optional<int> unit_converter::add_socket(unit_source& service, const std::string& socket_path,
                                              tally& count, bool& warned) {
    auto files = find_unit_files(socket_path);
    if (!files || !skipped(files->unit).empty()) return std::nullopt;
    unit_source socket{base_of(socket_path), files->unit, {}, {}};
    if (auto failed = read(*files, socket, count, warned)) return failed;
    service.sockets.push_back(std::move(socket));
    return std::nullopt;
}

int unit_converter::write(const bundle_spec& spec) {
    auto finder = [this](const bundle_ref& b) { return find(b); };
    if (ctx_.dry_run) {
        fmt::print("{}", describe_bundle(root_, spec, finder, prefix_));
        return exit_code::ok;
    }
    auto failures = write_bundle(root_, spec, finder, prefix_);
    for (const auto& d : failures) report_error(ctx_, to_string(d));
    if (!failures.empty()) return exit_code::failure;
    if (ctx_.verbose) fmt::print("{}\n", bundle_path_in(root_, spec.self));
    return exit_code::ok;
}

bool unit_converter::report(const diagnostics& problems) {
    bool errors = false;
    for (const auto& d : problems) {
        if (d.severity == diagnostic::level::error) {
            report_error(ctx_, to_string(d));
            errors = true;
        } else {
            report_warning(ctx_, to_string(d));
        }
    }
    return errors;
}

}  // namespace

int verb_convert_systemd_units(context& ctx) {
    if (ctx.cl.args.empty()) {
        report_error(ctx, "convert-systemd-units: no unit file named (try --help)");
        return exit_code::usage;
    }
    std::string root = ctx.cl.value("bundle-root").value_or(".");
    std::error_code ec;
    if (!ctx.dry_run) std::filesystem::create_directories(root, ec);
    if (ec) {
        report_error(ctx, fmt::format("unable to create {}: {}", root, ec.message()));
        return exit_code::failure;
    }
    root = exists(root) ? real_path(root) : std::filesystem::absolute(root).string();
    std::set<bundle_ref> converting;  // what the units link to among themselves
    for (const auto& path : ctx.cl.args)
        if (auto b = bundle_for_unit(base_of(path))) converting.insert(*b);
    unit_converter converter(ctx, root, std::move(converting));
    tally count;
    int status = exit_code::ok;
    // A socket unit is converted with its service, once however both are named.
    std::vector<std::string> units;
    for (const auto& path : ctx.cl.args) {
        auto name = parse_unit_name(base_of(path));
        if (!name || name->suffix != "socket") {
            units.push_back(path);
            continue;
        }
        auto service = service_of_socket(path);
        if (!service) {
            report_error(ctx, fmt::format("{}: {}", path, service.error()));
            ++count.failed;
            status = std::max(status, exit_code::no);
            continue;
        }
        units.push_back(*service);
    }
    std::set<std::string> seen;
    for (const auto& path : units) {
        std::string absolute = std::filesystem::absolute(path).lexically_normal().string();
        if (seen.insert(absolute).second) status = std::max(status, converter.convert(path, count));
    }
    unsigned total = count.clean + count.warned + count.skipped + count.failed;
    if (total > 1 && !ctx.quiet)
        fmt::print(stderr,
                   "{}: {} units: {} converted cleanly, {} with warnings, {} skipped, {} failed\n",
                   ctx.program, total, count.clean, count.warned, count.skipped, count.failed);
    return status;
}

}  // namespace hw::ctl
