// sd_notify datagrams: any process of any service may send service-manager any text on
// $NOTIFY_SOCKET (daemon/service_manager/sd_notify). The parsed message goes on as machine
// events, so they are delivered here to a service waiting for readiness and to a ready one with
// a watchdog, as the manager would: what the text says must not upset the machine either.
#include <chrono>

#include "daemon/service_manager/sd_notify.hpp"
#include "fuzz.hpp"

namespace {

using namespace hw::svc;
using namespace std::chrono_literals;

// A service started (and, with `ready`, ready) at `now`, ten days into the clock's life.
service_machine started(bool ready, mono_time now) {
    service_config cfg;
    cfg.ready_by = readiness::sd_notify;
    cfg.watchdog_timeout = 10s;
    service_machine m(cfg);
    m.handle(letter_event::up, now);
    if (ready) m.handle(became_ready{}, now);
    return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto m = parse_notify(hw::fuzz::text(data, size));
    if (m.main_pid) FUZZ_CHECK(*m.main_pid > 0 && *m.main_pid < (1 << 22));
    if (m.status) FUZZ_CHECK(m.status->find('\n') == std::string::npos);
    FUZZ_CHECK(!(m.watchdog && m.watchdog_trigger));

    const mono_time start = 240h;
    for (bool ready : {false, true}) {
        auto machine = started(ready, start);
        for (const auto& ev : notify_events(m, readiness::sd_notify))
            machine.handle(ev, start + 1s);
        // The deadline the events left, if any, is where the clock goes next.
        if (auto d = machine.deadline()) {
            FUZZ_CHECK(*d >= start);
            machine.handle(timer_fired{}, *d);
        }
    }
    return 0;
}
