// boot_args: the boot-argument parser of `system-control init` and the signals each mode sends
// to process 1 (nosh.md §1.7). Pure: no I/O.
//
// Arguments (Linux): -s --single 1 s S single rescue -> rescue; -b --emergency b B emergency ->
// emergency; 2 3 4 5 m auto default normal multi -> normal; 0 -> poweroff; 6 -> reboot; h H ->
// halt; c C -> powercycle; -o --update update -> update. -a, -f and `-z X` are ignored, and so
// is anything else (the kernel passes init every word it does not know).
// Precedence: emergency > rescue > update > poweroff > powercycle > reboot > halt > normal.
//
// Signals (offsets from glibc's SIGRTMIN, 34): normal +10 then +0; rescue +10 then +1;
// emergency +2 only; poweroff +4; reboot +5; halt +3. Powercycle becomes reboot (Linux has no
// power cycle; nosh also reboots) and update becomes normal, each with a note: neither has a
// target of its own.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hw::ctl {

enum class boot_mode { normal, halt, reboot, powercycle, poweroff, update, rescue, emergency };
std::string_view boot_mode_name(boot_mode m) noexcept;

struct boot_decision {
    boot_mode mode = boot_mode::normal;
    std::vector<std::string> ignored;  // arguments that meant nothing to us
    std::vector<std::string> notes;    // substitutions made (powercycle, update)
    std::vector<int> signals;          // offsets from SIGRTMIN, in sending order
};

boot_decision parse_boot_args(std::span<const std::string> args);

// The signals for a mode, as offsets from SIGRTMIN.
std::vector<int> boot_signals(boot_mode m);

// "SIGRTMIN+10 (sysinit)" for the signals process 1 understands (CONVENTIONS.md).
std::string describe_init_signal(int offset);

}  // namespace hw::ctl
