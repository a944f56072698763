// enable, disable, preset: the install-time links (see install.hpp) and the preset policy.
#include <fmt/core.h>

#include "cli.hpp"
#include "install.hpp"
#include "preset.hpp"

namespace hw::ctl {

namespace {

// Plans and (unless --dry-run) applies enable or disable for one named bundle.
int install_one(const context& ctx, const bundle_path& search, const std::string& name,
                bool enable) {
    auto path = search.resolve(name);
    if (!path) {
        report_error(ctx, fmt::format("unable to {} {}: no such bundle",
                                      enable ? "enable" : "disable", name));
        return exit_code::no;
    }
    auto plan = plan_install(search, *path, enable, ctx.root());
    int status = exit_code::ok;
    for (const auto& d : plan.problems) {
        report_error(ctx, fmt::format("unable to {} {}: {}", enable ? "enable" : "disable", name,
                                      to_string(d)));
        status = exit_code::no;
    }
    for (const auto& a : plan.actions)
        if (ctx.dry_run || ctx.verbose) fmt::print("{}\n", describe(a));
    if (ctx.dry_run) return status;
    for (const auto& d : apply_install(plan)) {
        report_error(ctx, fmt::format("unable to {} {}: {}", enable ? "enable" : "disable", name,
                                      to_string(d)));
        status = exit_code::failure;
    }
    return status;
}

int install_all(context& ctx, std::string_view verb, bool enable) {
    if (ctx.cl.args.empty()) {
        report_error(ctx, fmt::format("{}: no bundle named (try --help)", verb));
        return exit_code::usage;
    }
    auto search = ctx.search_path();
    int status = exit_code::ok;
    for (const auto& name : ctx.cl.args)
        status = std::max(status, install_one(ctx, search, name, enable));
    return status;
}

}  // namespace

int verb_enable(context& ctx) {
    return install_all(ctx, "enable", true);
}
int verb_disable(context& ctx) {
    return install_all(ctx, "disable", false);
}

int verb_preset(context& ctx) {
    if (ctx.cl.args.empty()) {
        report_error(ctx, "preset: no bundle named (try --help)");
        return exit_code::usage;
    }
    diagnostics problems;
    auto policy = preset_policy::load(preset_policy::directories(ctx.root()), problems);
    report_problems(ctx, problems);
    auto search = ctx.search_path();
    int status = exit_code::ok;
    for (const auto& name : ctx.cl.args) {
        auto path = search.resolve(name);
        if (!path) {
            report_error(ctx, fmt::format("unable to preset {}: no such bundle", name));
            status = std::max(status, exit_code::no);
            continue;
        }
        std::string_view base = std::string_view(*path).substr(path->rfind('/') + 1);
        const preset_rule* rule = policy.match(base);
        bool enable = !rule || rule->enable;
        if (ctx.verbose || ctx.dry_run) {
            if (rule)
                fmt::print("{}: {} ({}:{}: {} {})\n", base, enable ? "enable" : "disable",
                           rule->file, rule->line, enable ? "enable" : "disable", rule->pattern);
            else
                fmt::print("{}: enable (no preset line matches)\n", base);
        }
        status = std::max(status, install_one(ctx, search, name, enable));
    }
    return status;
}

}  // namespace hw::ctl
