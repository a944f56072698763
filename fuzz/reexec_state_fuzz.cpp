// PID 1's re-execution record (daemon/system_manager/reexec_state): the new image reads what
// the old one wrote into a memfd, and a record it cannot read in full must be refused whole.
// What decodes must encode to a record that decodes to the same encoding; every descriptor it
// names is taken over by exactly one owner, each job channel resumes at most one job, and every
// uptime is subtracted from the clock.
#include <algorithm>
#include <string>

#include "daemon/system_manager/reexec_state.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace hw::sysmgr;
    std::string error;
    auto state = decode(hw::fuzz::text(data, size), error);
    if (!state) {
        FUZZ_CHECK(!error.empty());
        return 0;
    }
    std::string text = encode(*state);
    auto back = decode(text, error);
    FUZZ_CHECK(back.has_value());
    FUZZ_CHECK(encode(*back) == text);

    auto fds = state->descriptors();
    std::sort(fds.begin(), fds.end());
    FUZZ_CHECK(std::adjacent_find(fds.begin(), fds.end()) == fds.end());
    // A channel runs one job at a time (daemon/requests.hpp), and adopt() resumes each.
    for (std::size_t i = 0; i < state->jobs.size(); ++i)
        for (std::size_t j = i + 1; j < state->jobs.size(); ++j)
            FUZZ_CHECK(state->jobs[i].on != state->jobs[j].on);
    // system_manager::adopt() subtracts each uptime from a steady_clock time point.
    for (const auto& c : {state->logger, state->manager})
        FUZZ_CHECK(hw::fuzz::fits_clock(c.uptime));
    return 0;
}
