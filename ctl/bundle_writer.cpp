#include "bundle_writer.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "common/unique_fd.hpp"

namespace hw::ctl::systemd {

namespace {

std::string errno_text() {
    return std::system_category().message(errno);
}

bool exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

// Creates `path` with `content` (it must not exist); an error message, or "".
std::string write_file(const std::string& path, std::string_view content, bool executable) {
    unique_fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
                        executable ? 0755 : 0644));
    if (!fd) return fmt::format("unable to create {}: {}", path, errno_text());
    while (!content.empty()) {
        ssize_t n = ::write(fd.get(), content.data(), content.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fmt::format("unable to write {}: {}", path, errno_text());
        content.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

// The new bundle's files and links, in the directory `dir`; an error message, or "".
std::string fill(const std::string& dir, const bundle_spec& spec, const std::string& root,
                 const bundle_finder& find, std::string_view prefix) {
    std::error_code ec;
    for (const auto& f : spec.files) {
        std::string path = dir + "/" + f.path;
        std::filesystem::create_directories(path.substr(0, path.rfind('/')), ec);
        if (ec) return fmt::format("unable to create the directory of {}: {}", path, ec.message());
        if (auto e = write_file(path, f.content, f.executable); !e.empty()) return e;
    }
    for (const auto& l : spec.links) {
        std::string link_dir = dir + "/" + l.dir;
        if (::mkdir(link_dir.c_str(), 0755) != 0 && errno != EEXIST)
            return fmt::format("unable to create {}: {}", link_dir, errno_text());
        std::string path = link_dir + "/" + l.to.name;
        std::string text = link_text(spec.self, l.to, find, root, prefix);
        if (::symlink(text.c_str(), path.c_str()) != 0)
            return fmt::format("unable to link {}: {}", path, errno_text());
    }
    return {};
}

// The `down` file of the bundle at `old`, given again to the new one at `dir`.
std::string keep_down(const std::string& old, const std::string& dir) {
    bool had = exists(old + "/service/down") || exists(old + "/down");
    if (!had) return {};
    bool service_dir = exists(dir + "/service");
    return write_file(dir + (service_dir ? "/service/down" : "/down"), "", false);
}

// Puts `tmp` in the place of `final`: swapped with an existing directory, which is removed.
std::string put_in_place(const std::string& tmp, const std::string& final) {
    struct stat st;
    if (::lstat(final.c_str(), &st) != 0) {
        if (::rename(tmp.c_str(), final.c_str()) != 0)
            return fmt::format("unable to rename {} to {}: {}", tmp, final, errno_text());
        return {};
    }
    if (!S_ISDIR(st.st_mode)) return fmt::format("{} exists and is not a directory", final);
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, final.c_str(), RENAME_EXCHANGE) != 0)
        return fmt::format("unable to replace {}: {}", final, errno_text());
    std::error_code ec;
    std::filesystem::remove_all(tmp, ec);  // the old bundle now
    return {};
}

}  // namespace

std::string bundle_path_in(std::string_view root, const bundle_ref& b) {
    return fmt::format("{}/{}/{}", root, b.target ? "targets" : "services", b.name);
}

std::string link_text(const bundle_ref& from, const bundle_ref& to, const bundle_finder& find,
                      std::string_view root, std::string_view prefix) {
    auto found = find(to);
    std::string inside = std::string(root) + "/";
    if (found && !found->starts_with(inside)) {
        bool prefixed = !prefix.empty() && found->starts_with(std::string(prefix) + "/");
        return prefixed ? found->substr(prefix.size()) : *found;
    }
    if (from.target == to.target) return "../../" + to.name;
    return fmt::format("../../../{}/{}", to.target ? "targets" : "services", to.name);
}

diagnostics write_bundle(const std::string& root, const bundle_spec& spec,
                         const bundle_finder& find, std::string_view prefix) {
    std::string final = bundle_path_in(root, spec.self);
    std::string parent = final.substr(0, final.rfind('/'));
    auto failed = [&](std::string message) {
        return diagnostics{{diagnostic::level::error, final, 0, std::move(message)}};
    };
    if (::mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST)
        return failed(fmt::format("unable to create {}: {}", parent, errno_text()));
    std::string tmp = fmt::format("{}/.{}.XXXXXX", parent, spec.self.name);
    if (!::mkdtemp(tmp.data()))
        return failed(fmt::format("unable to create a directory in {}: {}", parent, errno_text()));
    std::string problem = ::chmod(tmp.c_str(), 0755) == 0 ? std::string() : errno_text();
    if (problem.empty()) problem = fill(tmp, spec, root, find, prefix);
    if (problem.empty()) problem = keep_down(final, tmp);
    if (problem.empty()) problem = put_in_place(tmp, final);
    if (problem.empty()) return {};
    std::error_code ec;
    std::filesystem::remove_all(tmp, ec);
    return failed(std::move(problem));
}

std::string describe_bundle(const std::string& root, const bundle_spec& spec,
                            const bundle_finder& find, std::string_view prefix) {
    std::string out = fmt::format("== {}\n", bundle_path_in(root, spec.self));
    for (const auto& f : spec.files) {
        out += fmt::format("-- {}{}\n", f.path, f.executable ? " (executable)" : "");
        out += f.content;
    }
    for (const auto& l : spec.links)
        out += fmt::format("-- {}/{} -> {}\n", l.dir, l.to.name,
                           link_text(spec.self, l.to, find, root, prefix));
    return out;
}

}  // namespace hw::ctl::systemd
