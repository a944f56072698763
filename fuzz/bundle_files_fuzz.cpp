// The number and duration files of a bundle (units/README.md section 4), which whoever may write
// a bundle writes. service-manager reads number files with svc::parse_number; both it and
// system-control read duration files with parse_seconds (common/bundle), which once were two
// parsers that disagreed. What parses must print and parse back the same, and a duration must
// stay within max_seconds, which every program can add to its clock.
#include <fmt/core.h>

#include "common/bundle.hpp"
#include "daemon/service_manager/bundle.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto text = hw::fuzz::text(data, size);
    if (auto n = hw::svc::parse_number(text)) {
        FUZZ_CHECK(hw::svc::parse_number(fmt::format("{}\n", *n)) == n);
    }
    if (auto d = hw::parse_seconds(text)) {
        FUZZ_CHECK(*d >= std::chrono::milliseconds(0) && *d <= hw::max_seconds);
        FUZZ_CHECK(hw::fuzz::fits_clock(*d));
        auto ms = d->count();
        FUZZ_CHECK(hw::parse_seconds(fmt::format("{}.{:03}", ms / 1000, ms % 1000)) == d);
    }
    return 0;
}
