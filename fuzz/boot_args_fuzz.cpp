// The kernel command line's words, as PID 1 passes them to `system-control init` (ctl/boot_args):
// one argument per line of the input. The words decide the boot mode by precedence, so their
// order must not matter (unless `-z X` swallows a word); the signals are those of the mode.
#include <algorithm>
#include <string>
#include <vector>

#include "ctl/boot_args.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace hw::ctl;
    auto in = hw::fuzz::text(data, size);
    std::vector<std::string> args;
    while (!in.empty()) args.emplace_back(hw::fuzz::take_until(in, '\n'));

    auto d = parse_boot_args(args);
    FUZZ_CHECK(d.ignored.size() <= args.size());
    for (const auto& word : d.ignored)
        FUZZ_CHECK(std::find(args.begin(), args.end(), word) != args.end());
    boot_mode effective = d.mode == boot_mode::powercycle ? boot_mode::reboot
                          : d.mode == boot_mode::update   ? boot_mode::normal
                                                          : d.mode;
    FUZZ_CHECK(d.signals == boot_signals(effective));
    FUZZ_CHECK(!d.signals.empty());
    for (int s : d.signals) FUZZ_CHECK(!describe_init_signal(s).empty());

    if (std::find(args.begin(), args.end(), "-z") == args.end()) {
        std::reverse(args.begin(), args.end());
        FUZZ_CHECK(parse_boot_args(args).mode == d.mode);
    }
    return 0;
}
