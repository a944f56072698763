// plan_bench: how long reading a bundle tree and planning a job over it take.
//
//   plan_bench ROOT [--stop] NAME...   (ROOT is a bundle root as made by tools/gen-bundle-tree)
//
// Prints the wall time of each phase (best of 5 runs): reading the bundles as system-control
// does for that job (a start reads what it reaches; a stop reads the whole root), planning the
// start (or stop) of NAME... over the graph read, and the same read answered from a current
// bundle cache (common/bundle_cache.hpp: checking every fact, then loading the stored copy) in a
// fresh temporary directory. The cache keeps nothing changed under a second ago: on a younger
// tree that phase is "n/a".
#include <fmt/core.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "common/bundle_cache.hpp"
#include "common/bundle_tree.hpp"
#include "ctl/plan.hpp"

int main(int argc, char** argv) {
    if (argc < 3) {
        fmt::print(stderr, "usage: plan_bench ROOT [--stop] NAME...\n");
        return 100;
    }
    using clock = std::chrono::steady_clock;
    auto ms = [](clock::duration d) {
        return std::chrono::duration<double, std::milli>(d).count();
    };
    bool stop = false;
    std::vector<std::string> names;
    for (int i = 2; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--stop"))
            stop = true;
        else
            names.emplace_back(argv[i]);
    }
    double best_load = 1e9, best_plan = 1e9;
    std::size_t members = 0, edges = 0, bundles = 0, waits = 0;
    for (int round = 0; round < 5; ++round) {
        auto t0 = clock::now();
        hw::bundle_loader::options opts;
        opts.follow_all = stop;
        opts.install_links = false;
        hw::bundle_loader loader(hw::bundle_path({argv[1]}), opts);
        if (stop) loader.load_all();
        hw::ctl::job_request req;
        for (auto& n : names) {
            auto id = loader.load(n);
            if (!id) return fmt::print(stderr, "plan_bench: no bundle {}\n", n), 1;
            (stop ? req.stop : req.start).push_back(*id);
        }
        auto tree = std::move(loader).finish();
        auto t1 = clock::now();
        auto plan = hw::ctl::make_plan(tree.relations, req);
        auto t2 = clock::now();
        if (!plan) return fmt::print(stderr, "plan_bench: {}\n", plan.error().message), 1;
        best_load = std::min(best_load, ms(t1 - t0));
        best_plan = std::min(best_plan, ms(t2 - t1));
        members = plan->members.size();
        waits = plan->waits_for.items.size();
        edges = tree.relations.edge_count();
        bundles = tree.bundles.size();
    }
    fmt::print(
        "bundles {} edges {} | job members {} waits {} | read tree {:.1f} ms | plan {:.2f} ms | ",
        bundles, edges, members, waits, best_load, best_plan);

    char cache[] = "/tmp/plan_bench.XXXXXX";
    if (!::mkdtemp(cache)) return fmt::print(stderr, "plan_bench: no temporary directory\n"), 1;
    hw::bundle_loader::options opts;
    opts.follow_all = stop;
    opts.install_links = false;
    hw::bundle_path search({argv[1]});
    hw::load_bundles_cached(cache, search, names, opts, stop);  // stores it
    double best_cached = 1e9;
    bool hit = true;
    for (int round = 0; round < 5 && hit; ++round) {
        auto t0 = clock::now();
        hit = hw::load_bundles_cached(cache, search, names, opts, stop).from_cache;
        best_cached = std::min(best_cached, ms(clock::now() - t0));
    }
    std::error_code ec;
    std::filesystem::remove_all(cache, ec);
    if (hit)
        fmt::print("cached read {:.1f} ms\n", best_cached);
    else
        fmt::print("cached read n/a\n");
    return 0;
}
