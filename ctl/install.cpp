#include "install.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <system_error>

#include "common/unique_fd.hpp"

namespace hw::ctl {

namespace {

std::string errno_text(int err) {
    return std::system_category().message(err);
}

std::string real_path(const std::string& path) {
    char* r = ::realpath(path.c_str(), nullptr);
    if (!r) return path;
    std::string out(r);
    std::free(r);
    return out;
}

bool is_dir(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string service_dir_of(const std::string& bundle_dir) {
    return is_dir(bundle_dir + "/service") ? bundle_dir + "/service" : bundle_dir;
}

bool same_file(const std::string& a, const std::string& b) {
    struct stat sa, sb;
    return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

bool make_dirs(const std::string& path) {
    if (is_dir(path)) return true;
    auto slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0 && !make_dirs(path.substr(0, slash))) return false;
    return ::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST;
}

}  // namespace

install_plan plan_install(const bundle_path& search, const std::string& bundle_dir, bool enable,
                          std::string_view root) {
    install_plan plan;
    plan.bundle_dir = bundle_dir;
    std::string physical = real_path(bundle_dir);
    plan.name = physical.substr(physical.rfind('/') + 1);
    std::string link_text = bundle_dir;
    if (!root.empty() && link_text.starts_with(root)) link_text = link_text.substr(root.size());
    if (!link_text.empty() && link_text[0] != '/') link_text = real_path(bundle_dir);

    struct relation {
        const char* from;
        std::vector<const char*> into;
    };
    const relation relations[] = {{"wanted-by", {"wants"}},
                                  {"stopped-by", {"conflicts", "after"}},
                                  {"requires", {"required-by"}}};
    for (const auto& rel : relations) {
        std::string dir = bundle_dir + "/" + rel.from;
        for (const auto& entry : sorted_entries(dir)) {
            std::string other = dir + "/" + entry;
            if (!is_dir(other)) {
                auto found = search.resolve(entry);
                if (!found) {
                    plan.problems.push_back({diagnostic::level::error, other, 0,
                                             fmt::format("no bundle {} to link into", entry)});
                    continue;
                }
                other = *found;
            }
            other = real_path(other);
            for (const char* into : rel.into) {
                std::string path = other + "/" + into + "/" + plan.name;
                if (enable)
                    plan.actions.push_back({install_action::kind::link, path, link_text});
                else
                    plan.actions.push_back({install_action::kind::unlink, path, link_text});
            }
        }
    }
    std::string down = service_dir_of(bundle_dir) + "/down";
    plan.actions.push_back(
        {enable ? install_action::kind::remove_file : install_action::kind::create_file, down, {}});
    return plan;
}

diagnostics apply_install(const install_plan& plan) {
    diagnostics problems;
    auto fail = [&](const std::string& path, std::string msg) {
        problems.push_back({diagnostic::level::error, path, 0, std::move(msg)});
    };
    for (const auto& a : plan.actions) {
        switch (a.what) {
            case install_action::kind::link: {
                char buf[PATH_MAX];
                ssize_t n = ::readlink(a.path.c_str(), buf, sizeof buf);
                if (n >= 0) {
                    if (std::string_view(buf, n) == a.target || same_file(a.path, plan.bundle_dir))
                        break;
                    fail(a.path, fmt::format("unable to link: it exists and points to {}",
                                             std::string_view(buf, n)));
                    break;
                }
                if (!make_dirs(a.path.substr(0, a.path.rfind('/')))) {
                    fail(a.path,
                         fmt::format("unable to create its directory: {}", errno_text(errno)));
                    break;
                }
                if (::symlink(a.target.c_str(), a.path.c_str()) != 0)
                    fail(a.path, fmt::format("unable to link: {}", errno_text(errno)));
                break;
            }
            case install_action::kind::unlink: {
                struct stat st;
                if (::lstat(a.path.c_str(), &st) != 0) break;  // not there: nothing to undo
                if (!S_ISLNK(st.st_mode) || !same_file(a.path, plan.bundle_dir)) {
                    char buf[PATH_MAX];
                    ssize_t n = ::readlink(a.path.c_str(), buf, sizeof buf);
                    if (n < 0 || std::string_view(buf, n) != a.target) {
                        fail(a.path, "left alone: it does not lead to this bundle");
                        break;
                    }
                }
                if (::unlink(a.path.c_str()) != 0)
                    fail(a.path, fmt::format("unable to remove: {}", errno_text(errno)));
                break;
            }
            case install_action::kind::create_file: {
                unique_fd fd(
                    ::open(a.path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0400));
                if (!fd) fail(a.path, fmt::format("unable to create: {}", errno_text(errno)));
                break;
            }
            case install_action::kind::remove_file:
                if (::unlink(a.path.c_str()) != 0 && errno != ENOENT)
                    fail(a.path, fmt::format("unable to remove: {}", errno_text(errno)));
                break;
        }
    }
    return problems;
}

std::string describe(const install_action& a) {
    switch (a.what) {
        case install_action::kind::link:
            return fmt::format("link {} -> {}", a.path, a.target);
        case install_action::kind::unlink:
            return fmt::format("unlink {}", a.path);
        case install_action::kind::create_file:
            return fmt::format("create {}", a.path);
        case install_action::kind::remove_file:
            return fmt::format("remove {}", a.path);
    }
    return {};
}

bool is_enabled(const std::string& bundle_dir) {
    struct stat st;
    return ::lstat((service_dir_of(bundle_dir) + "/down").c_str(), &st) != 0;
}

std::vector<std::string> sorted_entries(const std::string& dir) {
    std::vector<std::string> out;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (dirent* e = ::readdir(d))
            if (e->d_name[0] != '.') out.emplace_back(e->d_name);
        ::closedir(d);
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace hw::ctl
