#include "boot_args.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <utility>

namespace hw::ctl {

namespace {

struct word {
    std::string_view text;
    boot_mode mode;
};

constexpr std::array words = {
    word{"-s", boot_mode::rescue},
    word{"--single", boot_mode::rescue},
    word{"1", boot_mode::rescue},
    word{"s", boot_mode::rescue},
    word{"S", boot_mode::rescue},
    word{"single", boot_mode::rescue},
    word{"rescue", boot_mode::rescue},
    word{"-b", boot_mode::emergency},
    word{"--emergency", boot_mode::emergency},
    word{"b", boot_mode::emergency},
    word{"B", boot_mode::emergency},
    word{"emergency", boot_mode::emergency},
    word{"2", boot_mode::normal},
    word{"3", boot_mode::normal},
    word{"4", boot_mode::normal},
    word{"5", boot_mode::normal},
    word{"m", boot_mode::normal},
    word{"auto", boot_mode::normal},
    word{"default", boot_mode::normal},
    word{"normal", boot_mode::normal},
    word{"multi", boot_mode::normal},
    word{"0", boot_mode::poweroff},
    word{"6", boot_mode::reboot},
    word{"h", boot_mode::halt},
    word{"H", boot_mode::halt},
    word{"c", boot_mode::powercycle},
    word{"C", boot_mode::powercycle},
    word{"-o", boot_mode::update},
    word{"--update", boot_mode::update},
    word{"update", boot_mode::update},
};

}  // namespace

std::string_view boot_mode_name(boot_mode m) noexcept {
    switch (m) {
        case boot_mode::normal:
            return "normal";
        case boot_mode::halt:
            return "halt";
        case boot_mode::reboot:
            return "reboot";
        case boot_mode::powercycle:
            return "powercycle";
        case boot_mode::poweroff:
            return "poweroff";
        case boot_mode::update:
            return "update";
        case boot_mode::rescue:
            return "rescue";
        case boot_mode::emergency:
            return "emergency";
    }
    return "?";
}

boot_decision parse_boot_args(std::span<const std::string> args) {
    boot_decision d;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "-a" || a == "-f") continue;
        if (a == "-z") {
            ++i;  // -z X: ignored with its value
            continue;
        }
        auto w =
            std::find_if(words.begin(), words.end(), [&](const word& x) { return x.text == a; });
        if (w == words.end()) {
            d.ignored.push_back(a);
            continue;
        }
        // boot_mode is declared in increasing precedence.
        d.mode = std::max(d.mode, w->mode);
    }
    boot_mode effective = d.mode;
    if (effective == boot_mode::powercycle) {
        d.notes.push_back("powercycle is a reboot on Linux");
        effective = boot_mode::reboot;
    } else if (effective == boot_mode::update) {
        d.notes.push_back("there is no update mode: booting normally");
        effective = boot_mode::normal;
    }
    d.signals = boot_signals(effective);
    return d;
}

std::vector<int> boot_signals(boot_mode m) {
    switch (m) {
        case boot_mode::normal:
        case boot_mode::update:
            return {10, 0};
        case boot_mode::rescue:
            return {10, 1};
        case boot_mode::emergency:
            return {2};
        case boot_mode::halt:
            return {3};
        case boot_mode::poweroff:
            return {4};
        case boot_mode::reboot:
        case boot_mode::powercycle:
            return {5};
    }
    return {};
}

std::string describe_init_signal(int offset) {
    std::string_view what;
    switch (offset) {
        case 0:
            what = "normal";
            break;
        case 1:
            what = "rescue";
            break;
        case 2:
            what = "emergency";
            break;
        case 3:
            what = "halt";
            break;
        case 4:
            what = "poweroff";
            break;
        case 5:
            what = "reboot";
            break;
        case 6:
            what = "kexec";
            break;
        case 10:
            what = "sysinit";
            break;
        case 13:
            what = "forced halt";
            break;
        case 14:
            what = "forced poweroff";
            break;
        case 15:
            what = "forced reboot";
            break;
        case 16:
            what = "forced kexec";
            break;
        case 25:
            what = "re-execute";
            break;
        default:
            return fmt::format("SIGRTMIN+{}", offset);
    }
    return fmt::format("SIGRTMIN+{} ({})", offset, what);
}

}  // namespace hw::ctl
