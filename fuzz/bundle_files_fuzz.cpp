// The number and duration files of a bundle (units/README.md section 4), which anyone who may
// write a bundle writes. Both readers of timeout-start and timeout-stop must take the same text
// the same way: system-control (common/bundle_tree, via parse_seconds) plans with it and checks
// bundles, service-manager (daemon/service_manager/bundle) runs the service by it.
#include <fmt/core.h>

#include "common/bundle.hpp"
#include "daemon/service_manager/bundle.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto text = hw::fuzz::text(data, size);
    if (auto n = hw::svc::parse_number(text)) {
        FUZZ_CHECK(hw::svc::parse_number(fmt::format("{}\n", *n)) == n);
    }

    // Each reader as it reads the file: service-manager the first 256 bytes, system-control
    // the first line of the first 64 (longer is an error).
    auto daemon = hw::svc::parse_duration(text.substr(0, 256));
    auto ctl = size < 64 ? hw::parse_seconds(text.substr(0, text.find('\n'))) : std::nullopt;
    if (size < 64) FUZZ_CHECK(daemon == ctl);
    if (daemon) {
        auto ms = daemon->count();
        auto again = hw::svc::parse_duration(fmt::format("{}.{:03}", ms / 1000, ms % 1000));
        FUZZ_CHECK(again == daemon);
    }
    return 0;
}
