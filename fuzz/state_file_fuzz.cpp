// Service state files: a service-manager started after its predecessor died (kill -9, a crash)
// reads <run_dir>/services/* (daemon/service_manager/state_file) and carries on each service's
// machine from the state read. A file may be cut short or corrupt, so whatever parses must
// serialize and parse back equal, its times must fit the successor's clocks, and a machine
// restored from it must take every event.
#include <chrono>

#include "daemon/service_manager/state_file.hpp"
#include "fuzz.hpp"

namespace {

using namespace hw::svc;
using namespace std::chrono_literals;

const event events[] = {
    timer_fired{},      tree_empty{},       became_ready{},           letter_event::up,
    letter_event::down, letter_event::once, letter_event::down_quiet, watchdog_ping{true},
    extend_timeout{1s}, reloading{},        stopping_notice{},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto saved = parse_saved(hw::fuzz::text(data, size));
    if (!saved) return 0;
    auto back = parse_saved(serialize(*saved));
    FUZZ_CHECK(back.has_value());
    FUZZ_CHECK(*back == *saved);

    // The successor's clock (CLOCK_MONOTONIC, ten days up), then ten years later for any timer.
    const mono_time now = 240h, later = now + 87600h;
    // manager::wall_of(): the wall time of the last state change is wall - (now - since), on
    // the successor's clocks (here 2^61 ns of wall time, the year 2043).
    std::int64_t ago = 0, wall = 0;
    FUZZ_CHECK(!__builtin_sub_overflow(now.count(), saved->machine.since.count(), &ago));
    FUZZ_CHECK(!__builtin_sub_overflow(std::int64_t{1} << 61, ago, &wall));

    // A bundle with every program and one with `run` alone (restarts by the built-in policy).
    service_config full, bare;
    full.has_start = full.has_stop = full.has_restart = true;
    for (const auto& cfg : {full, bare}) {
        for (const auto& ev : events) {
            service_machine m(cfg, saved->machine);
            m.handle(ev, now);
            if (const auto& cur = saved->machine.current) m.handle(exited{*cur, 0, true}, now);
            m.handle(timer_fired{}, later);
        }
    }
    return 0;
}
