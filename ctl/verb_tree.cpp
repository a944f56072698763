// Offline verbs over the bundle tree: find, cat, check, list-dependencies, is-enabled.
#include <dirent.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include "common/text_file.hpp"
#include <set>

#include "cli.hpp"
#include "install.hpp"
#include "plan.hpp"

namespace hw::ctl {

namespace {

bool want_names(const context& ctx, std::string_view verb) {
    if (!ctx.cl.args.empty()) return true;
    report_error(ctx, fmt::format("{}: no bundle named (try --help)", verb));
    return false;
}

std::optional<std::string> resolve_or_report(const context& ctx, const bundle_path& search,
                                             const std::string& name) {
    auto path = search.resolve(name);
    if (!path) report_error(ctx, fmt::format("unable to find bundle {}: no such bundle", name));
    return path;
}

std::string link_text(const std::string& path) {
    char buf[PATH_MAX];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
    return n < 0 ? std::string("(directory)") : std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace

int verb_find(context& ctx) {
    if (!want_names(ctx, "find")) return exit_code::usage;
    auto search = ctx.search_path();
    int status = exit_code::ok;
    for (const auto& name : ctx.cl.args) {
        if (auto path = resolve_or_report(ctx, search, name))
            fmt::print("{}\n", *path);
        else
            status = exit_code::no;
    }
    return status;
}

int verb_cat(context& ctx) {
    if (!want_names(ctx, "cat")) return exit_code::usage;
    auto search = ctx.search_path();
    int status = exit_code::ok;
    bool first = true;
    for (const auto& name : ctx.cl.args) {
        auto path = resolve_or_report(ctx, search, name);
        if (!path) {
            status = exit_code::no;
            continue;
        }
        struct stat st;
        std::string svc = *path + "/service";
        if (::stat(svc.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) svc = *path;
        for (const char* prog : {"start", "run", "stop", "restart", "service"}) {
            auto text = read_text_file((svc + "/" + prog).c_str(), 1024 * 1024);
            if (!text) continue;
            std::string body = std::move(*text);
            if (!body.empty() && body.back() != '\n') body += '\n';
            fmt::print("{}# {}/{}\n{}", first ? "" : "\n", svc, prog, body);
            first = false;
        }
        std::vector<std::string> flags;
        for (const char* flag : {"down", "remain", "ready_after_run", "use_hangup",
                                 "no_kill_signal", "timeout-start", "timeout-stop"})
            if (::lstat((svc + "/" + flag).c_str(), &st) == 0) flags.emplace_back(flag);
        fmt::print("{}# {}: relationships\n", first ? "" : "\n", *path);
        first = false;
        if (!flags.empty()) {
            std::string joined;
            for (const auto& f : flags) joined += (joined.empty() ? "" : " ") + f;
            fmt::print("# flags: {}\n", joined);
        }
        for (const auto& e : sorted_entries(svc + "/cgroup")) {
            auto value = read_text_file((svc + "/cgroup/" + e).c_str(), 256);
            auto lines = value ? split_lines(*value) : std::vector<std::string_view>{};
            fmt::print("# cgroup/{}: {}\n", e, lines.empty() ? "" : lines.front());
        }
        for (edge_kind k : all_edge_kinds) {
            std::string kind(edge_kind_name(k));
            if (k == edge_kind::log) {
                if (::lstat((*path + "/log").c_str(), &st) == 0)
                    fmt::print("log -> {}\n", link_text(*path + "/log"));
                continue;
            }
            for (const auto& e : sorted_entries(*path + "/" + kind))
                fmt::print("{}/{} -> {}\n", kind, e, link_text(*path + "/" + kind + "/" + e));
        }
    }
    return status;
}

int verb_is_enabled(context& ctx) {
    if (!want_names(ctx, "is-enabled")) return exit_code::usage;
    auto search = ctx.search_path();
    int status = exit_code::ok;
    for (const auto& name : ctx.cl.args) {
        auto path = resolve_or_report(ctx, search, name);
        if (!path) {
            status = exit_code::no;
            continue;
        }
        bool on = is_enabled(*path);
        if (!ctx.quiet) fmt::print("{}\n", on ? "enabled" : "disabled");
        if (!on) status = exit_code::no;
    }
    return status;
}

int verb_check(context& ctx) {
    auto l = load_named(ctx, ctx.cl.args,
                        ctx.cl.args.empty() ? reading::whole_tree : reading::reachable, true);
    std::size_t problems = 0;
    for (const auto& d : l.tree.problems) {
        fmt::print("{}{}\n", is_problem(d) ? "" : "note: ", to_string(d));
        problems += is_problem(d);
    }
    // Plan a start of every target (and of every bundle named): conflicts and ordering cycles
    // are properties of jobs, so they are found by planning the jobs a system will run.
    std::vector<node_id> roots = l.ids;
    if (ctx.cl.args.empty()) {
        for (node_id id = 0; id < l.tree.bundles.size(); ++id) {
            std::string_view path = l.tree.at(id).path;
            auto parent = path.substr(0, path.rfind('/'));
            if (parent.ends_with("/targets")) roots.push_back(id);
        }
    }
    std::set<std::string> seen;
    for (node_id root : roots) {
        auto p = make_plan(l.tree.relations, job_request{{root}, {}});
        std::string what = fmt::format("start {}", l.tree.at(root).name);
        if (!p) {
            std::string line = fmt::format("{}: {}", l.tree.at(root).path, p.error().message);
            if (seen.insert(line).second) fmt::print("{}\n", line), ++problems;
            continue;
        }
        for (const auto& c : p->cycles) {
            std::string line =
                fmt::format("ordering cycle: {}", describe_cycle(l.tree.relations, c));
            if (seen.insert(line).second) {
                fmt::print("{} (in {}; -> means waits for)\n", line, what);
                ++problems;
            }
        }
    }
    if (problems) {
        if (!ctx.quiet)
            fmt::print(stderr, "{}: {} problem{} in {} bundles\n", ctx.program, problems,
                       problems == 1 ? "" : "s", l.tree.bundles.size());
        return exit_code::no;
    }
    if (!ctx.quiet)
        fmt::print(stderr, "{}: no problems in {} bundles\n", ctx.program, l.tree.bundles.size());
    return exit_code::ok;
}

namespace {

struct dependency_printer {
    const bundle_tree& tree;
    bool reverse;
    std::set<node_id> expanded;
    std::vector<node_id> path;

    // The (label, node) children of `id`, in a fixed order.
    std::vector<std::pair<std::string_view, node_id>> children(node_id id) const {
        const graph& g = tree.relations;
        std::vector<std::pair<std::string_view, node_id>> out;
        auto add = [&](std::string_view label, std::span<const node_id> ids) {
            for (node_id c : ids) out.emplace_back(label, c);
        };
        if (!reverse) {
            add("wants", g.out(id, edge_kind::wants));
            add("requires", g.out(id, edge_kind::requires_));
            add("log", g.out(id, edge_kind::log));
            add("conflicts", g.out(id, edge_kind::conflicts));
        } else {
            add("wanted by", g.in(id, edge_kind::wants));
            add("required by", g.in(id, edge_kind::requires_));
            add("required by", g.out(id, edge_kind::required_by));
            add("log of", g.in(id, edge_kind::log));
            add("conflicted by", g.in(id, edge_kind::conflicts));
        }
        return out;
    }

    void print(node_id id, std::string_view label, std::size_t depth) {
        std::string indent(depth * 2, ' ');
        std::string head = label.empty() ? std::string(tree.at(id).name)
                                         : fmt::format("{} {}", label, tree.at(id).name);
        bool leaf = label == "conflicts" || label == "conflicted by";
        if (std::find(path.begin(), path.end(), id) != path.end()) {
            fmt::print("{}{} (cycle)\n", indent, head);
            return;
        }
        if (!leaf && expanded.contains(id) && !children(id).empty()) {
            fmt::print("{}{} (see above)\n", indent, head);
            return;
        }
        fmt::print("{}{}{}\n", indent, head, tree.at(id).missing ? " (no such bundle)" : "");
        if (leaf) return;
        expanded.insert(id);
        path.push_back(id);
        for (auto [l, c] : children(id)) print(c, l, depth + 1);
        path.pop_back();
    }
};

}  // namespace

int verb_list_dependencies(context& ctx) {
    if (ctx.cl.args.size() != 1) {
        report_error(ctx, "list-dependencies: name exactly one bundle");
        return exit_code::usage;
    }
    bool reverse = ctx.cl.has("reverse");
    auto l = load_named(ctx, ctx.cl.args, reverse ? reading::whole_tree : reading::reachable);
    if (!l.all_found) {
        report_problems(ctx, l.tree.problems);
        return exit_code::no;
    }
    if (ctx.verbose) report_problems(ctx, l.tree.problems);
    dependency_printer printer{l.tree, reverse, {}, {}};
    printer.print(l.ids.front(), "", 0);
    return exit_code::ok;
}

}  // namespace hw::ctl
