// Job verbs: start, stop, restart, try-restart, reload, isolate. Each reads the bundles it
// needs, plans (plan.hpp), and either prints the plan (--dry-run) or runs it (job.hpp) through
// the service-manager, reporting progress on a terminal and the event log with --verbose.
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "cli.hpp"
#include "plan.hpp"

namespace hw::ctl {

namespace {

constexpr std::string_view green = "\x1b[32m", red = "\x1b[31m", yellow = "\x1b[33m",
                           cyan = "\x1b[36m", reset = "\x1b[0m";

// --verbose: one line per event on stdout. On a terminal (stderr), a progress line that says
// what is still being waited for and for how long, redrawn every second.
class console_observer final : public job_observer {
  public:
    console_observer(const context& ctx, const bundle_tree& tree, const plan& p)
        : ctx_(ctx), tree_(tree), plan_(p), progress_(!ctx.quiet && ::isatty(2)) {}
    ~console_observer() override { clear(); }

    bool wants_ticks() const { return progress_; }

    void on_event(const job_event& e) override {
        if (!ctx_.verbose) return;
        clear();
        std::string_view name = tree_.at(plan_.members[e.member]).name;
        std::string_view colour = e.kind == job_event_kind::start || e.kind == job_event_kind::stop
                                      ? yellow
                                  : e.kind == job_event_kind::kill      ? red
                                  : e.kind == job_event_kind::unblocked ? cyan
                                                                        : std::string_view();
        if (e.kind == job_event_kind::finished)
            colour = e.detail == "done" || e.detail == "already" ? green : red;
        fmt::print("{}{}{} {}{}{}\n", ctx_.paint(colour), job_event_name(e.kind),
                   ctx_.paint(colour.empty() ? "" : reset), name, e.detail.empty() ? "" : ": ",
                   e.detail);
        std::fflush(stdout);
    }

    void on_tick(clock::time_point now, std::span<const in_progress> waiting, std::size_t done,
                 std::size_t total) override {
        if (!progress_ || waiting.empty()) return;
        std::vector<in_progress> w(waiting.begin(), waiting.end());
        std::sort(w.begin(), w.end(), [](auto& a, auto& b) { return a.since < b.since; });
        std::string line = fmt::format("[{}/{}] waiting for", done, total);
        for (std::size_t i = 0; i < w.size() && i < 4; ++i) {
            auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - w[i].since).count();
            line += fmt::format("{} {} ({}s)", i ? "," : "",
                                tree_.at(plan_.members[w[i].member]).name, secs);
        }
        if (w.size() > 4) line += fmt::format(" and {} more", w.size() - 4);
        if (line.size() > 200) line.resize(200);
        fmt::print(stderr, "\r\x1b[K{}", line);
        shown_ = true;
    }

    void clear() {
        if (shown_) fmt::print(stderr, "\r\x1b[K");
        shown_ = false;
    }

  private:
    const context& ctx_;
    const bundle_tree& tree_;
    const plan& plan_;
    bool progress_;
    bool shown_ = false;
};

void print_plan(const context& ctx, const bundle_tree& tree, const plan& p, std::string_view what) {
    std::vector<std::uint32_t> order(p.members.size());
    for (std::uint32_t m = 0; m < order.size(); ++m) order[m] = m;
    std::sort(order.begin(), order.end(), [&](auto a, auto b) {
        if (p.depth[a] != p.depth[b]) return p.depth[a] < p.depth[b];
        return tree.at(p.members[a]).name < tree.at(p.members[b]).name;
    });
    std::uint32_t waves = 0;
    for (auto d : p.depth) waves = std::max(waves, d + 1);
    fmt::print("{}: {} bundle{} in {} wave{}\n", what, p.members.size(),
               p.members.size() == 1 ? "" : "s", waves, waves == 1 ? "" : "s");
    for (std::uint32_t m : order) {
        std::vector<std::string_view> after;
        for (auto w : p.waits_for.of(m)) after.push_back(tree.at(p.members[w]).name);
        std::sort(after.begin(), after.end());
        std::string line = fmt::format("{:>4} {:<5} {}", p.depth[m], action_name(p.actions[m]),
                                       tree.at(p.members[m]).name);
        if (!after.empty()) {
            line += "  after";
            for (auto a : after) line += fmt::format(" {}", a);
        }
        if (tree.at(p.members[m]).missing && p.actions[m] == action::start)
            line += "  (no such bundle: fails, and so does what requires it)";
        if (ctx.verbose)
            line += fmt::format("  [{}] {}", describe_reason(tree.relations, p, m),
                                tree.at(p.members[m]).path);
        fmt::print("{}\n", line);
    }
}

struct planned_job {
    loaded bundles;
    std::optional<plan> p;
};

// Reads what a job over these names needs and plans it; reports problems. Returns nullopt
// (after reporting) when a name is unknown or the plan is impossible.
std::optional<planned_job> prepare(const context& ctx, const std::vector<std::string>& start,
                                   const std::vector<std::string>& stop,
                                   std::vector<std::string> extra_stop_names = {}) {
    bool stops = !stop.empty() || !extra_stop_names.empty();
    for (int pass = 0; pass < 2; ++pass) {
        std::vector<std::string> names = start;
        names.insert(names.end(), stop.begin(), stop.end());
        planned_job j{load_named(ctx, names, stops ? reading::whole_tree : reading::start_closure),
                      std::nullopt};
        if (!j.bundles.all_found) {
            for (const auto& d : j.bundles.tree.problems)
                if (d.message.starts_with("no such bundle"))
                    report_error(ctx,
                                 fmt::format("unable to find bundle {}: {}", d.file, d.message));
            return std::nullopt;
        }
        job_request req;
        req.start.assign(j.bundles.ids.begin(), j.bundles.ids.begin() + start.size());
        req.stop.assign(j.bundles.ids.begin() + start.size(), j.bundles.ids.end());
        for (const auto& n : extra_stop_names)
            if (auto id = j.bundles.tree.relations.find(n)) req.stop.push_back(*id);
        req.disabled.resize(j.bundles.tree.bundles.size());
        for (std::size_t i = 0; i < j.bundles.tree.bundles.size(); ++i)
            req.disabled[i] = j.bundles.tree.bundles[i].flags.down;
        auto p = make_plan(j.bundles.tree.relations, req);
        if (!p) {
            report_error(ctx, p.error().message);
            return std::nullopt;
        }
        bool has_stop =
            std::find(p->actions.begin(), p->actions.end(), action::stop) != p->actions.end();
        if (has_stop && !stops) {  // a conflict: stops need the whole tree; read it and replan
            stops = true;
            continue;
        }
        report_problems(ctx, j.bundles.tree.problems);
        for (const auto& c : p->cycles) {
            auto path = describe_cycle(j.bundles.tree.relations, c);
            report_warning(ctx, fmt::format("ordering cycle {} (-> means waits for): ignoring "
                                            "the wait {} -> {}",
                                            path, j.bundles.tree.at(c.path[c.path.size() - 2]).name,
                                            j.bundles.tree.at(c.path.back()).name));
        }
        j.p = std::move(*p);
        return j;
    }
    return std::nullopt;
}

// Runs a prepared job through `control`; reports what failed.
int run(const context& ctx, planned_job& j, service_control& control) {
    auto opts = ctx.job_opts();
    if (!opts) {
        report_error(ctx, opts.error());
        return exit_code::usage;
    }
    const auto& tree = j.bundles.tree;
    console_observer observer(ctx, tree, *j.p);
    if (observer.wants_ticks()) opts->tick = std::chrono::seconds(1);
    auto result = run_job(tree, *j.p, control, *opts, &observer);
    observer.clear();
    if (result.exit_status == exit_code::failure) {
        report_error(ctx,
                     fmt::format("unable to talk to the service-manager: {}", result.system_error));
        return exit_code::failure;
    }
    for (std::uint32_t m = 0; m < j.p->members.size(); ++m) {
        const auto& r = result.members[m];
        if (succeeded(r.result)) continue;
        std::string text = fmt::format("unable to {} {}: {}{}{}", action_name(j.p->actions[m]),
                                       tree.at(j.p->members[m]).name, outcome_name(r.result),
                                       r.detail.empty() ? "" : ": ", r.detail);
        if (j.p->primary(m) || j.p->actions[m] == action::stop)
            report_error(ctx, text);
        else
            report_warning(ctx, text);
    }
    return result.exit_status;
}

int plan_and_run(context& ctx, std::string_view verb, const std::vector<std::string>& start,
                 const std::vector<std::string>& stop) {
    if (start.empty() && stop.empty()) {
        report_error(ctx, fmt::format("{}: no bundle named (try --help)", verb));
        return exit_code::usage;
    }
    auto j = prepare(ctx, start, stop);
    if (!j) return exit_code::no;
    if (ctx.dry_run) {
        std::string what(verb);
        for (const auto& n : start.empty() ? stop : start) what += " " + n;
        print_plan(ctx, j->bundles.tree, *j->p, what);
        return exit_code::ok;
    }
    auto control = connect_or_report(ctx);
    if (!control) return exit_code::failure;
    return run(ctx, *j, *control);
}

bool running(service_control& control, std::string_view name) {
    auto st = control.status(name);
    return st && *st && (*st)->state != service_state::stopped &&
           (*st)->state != service_state::failed;
}

// Stops `names` (and their dependents), then starts `names` again together with every
// dependent that was running before.
int restart(context& ctx, std::string_view verb, const std::vector<std::string>& names) {
    auto stop_job = prepare(ctx, {}, names);
    if (!stop_job) return exit_code::no;
    const auto& tree = stop_job->bundles.tree;
    if (ctx.dry_run) {
        print_plan(ctx, tree, *stop_job->p, fmt::format("{}: stop", verb));
        std::vector<std::string> again;
        for (auto id : stop_job->p->members) again.push_back(tree.at(id).path);
        if (auto start_job = prepare(ctx, again, {}))
            print_plan(ctx, start_job->bundles.tree, *start_job->p,
                       fmt::format("{}: start (of those running)", verb));
        return exit_code::ok;
    }
    auto control = connect_or_report(ctx);
    if (!control) return exit_code::failure;
    std::vector<std::string> again;
    for (std::uint32_t m = 0; m < stop_job->p->members.size(); ++m) {
        const bundle& b = tree.at(stop_job->p->members[m]);
        if (stop_job->p->primary(m) || running(*control, b.name)) again.push_back(b.path);
    }
    int stopped = run(ctx, *stop_job, *control);
    if (stopped == exit_code::failure) return stopped;
    auto start_job = prepare(ctx, again, {});
    if (!start_job) return exit_code::no;
    return std::max(stopped, run(ctx, *start_job, *control));
}

}  // namespace

int verb_start(context& ctx) {
    return plan_and_run(ctx, "start", ctx.cl.args, {});
}
int verb_stop(context& ctx) {
    return plan_and_run(ctx, "stop", {}, ctx.cl.args);
}

int verb_restart(context& ctx) {
    if (ctx.cl.args.empty()) {
        report_error(ctx, "restart: no bundle named (try --help)");
        return exit_code::usage;
    }
    return restart(ctx, "restart", ctx.cl.args);
}

int verb_try_restart(context& ctx) {
    if (ctx.cl.args.empty()) {
        report_error(ctx, "try-restart: no bundle named (try --help)");
        return exit_code::usage;
    }
    auto control = connect_or_report(ctx);
    if (!control) return exit_code::failure;
    auto search = ctx.search_path();
    std::vector<std::string> up;
    for (const auto& n : ctx.cl.args) {
        auto l = load_named(ctx, {n}, reading::start_closure);
        std::string name = l.all_found ? l.tree.at(l.ids.front()).name : n;
        if (running(*control, name))
            up.push_back(n);
        else if (ctx.verbose)
            fmt::print("{} is not running: left alone\n", name);
    }
    if (up.empty()) return exit_code::ok;
    return restart(ctx, "try-restart", up);
}

int verb_reload(context& ctx) {
    if (ctx.cl.args.empty()) {
        report_error(ctx, "reload: no bundle named (try --help)");
        return exit_code::usage;
    }
    auto control = connect_or_report(ctx);
    if (!control) return exit_code::failure;
    int status = exit_code::ok;
    for (const auto& n : ctx.cl.args) {
        auto l = load_named(ctx, {n}, reading::start_closure);
        std::string name = l.all_found ? l.tree.at(l.ids.front()).name : n;
        if (auto r = control->signal(name, 'h'); !r) {
            report_error(ctx, fmt::format("unable to reload {}: {}", name, r.error().message));
            status =
                r.error().connection_lost ? exit_code::failure : std::max(status, exit_code::no);
        }
    }
    return status;
}

int verb_isolate(context& ctx) {
    if (ctx.cl.args.size() != 1) {
        report_error(ctx, "isolate: name exactly one target");
        return exit_code::usage;
    }
    auto control = connect_manager(ctx);
    if (!control) {
        if (!ctx.dry_run) {
            report_error(ctx, control.error().message);
            return exit_code::failure;
        }
        report_warning(ctx, "planning without the service-manager: nothing else is stopped");
        return plan_and_run(ctx, "isolate", ctx.cl.args, {});
    }
    // What runs now and is not reached by the target's start closure is stopped.
    auto reach = prepare(ctx, ctx.cl.args, {});
    if (!reach) return exit_code::no;
    std::set<std::string_view> kept;
    for (auto id : reach->p->members) kept.insert(reach->bundles.tree.at(id).name);
    auto services = (*control)->list();
    if (!services) {
        report_error(ctx, fmt::format("unable to list services: {}", services.error().message));
        return exit_code::failure;
    }
    std::vector<std::string> stop;
    for (const auto& s : *services)
        if (!kept.contains(s.name) && s.state != service_state::stopped &&
            s.state != service_state::failed)
            stop.push_back(s.name);
    auto j = prepare(ctx, ctx.cl.args, {}, stop);
    if (!j) return exit_code::no;
    for (const auto& n : stop)
        if (!j->bundles.tree.relations.find(n))
            report_warning(ctx, fmt::format("not stopping {}: no bundle of that name", n));
    if (ctx.dry_run) {
        print_plan(ctx, j->bundles.tree, *j->p, fmt::format("isolate {}", ctx.cl.args.front()));
        return exit_code::ok;
    }
    return run(ctx, *j, **control);
}

}  // namespace hw::ctl
