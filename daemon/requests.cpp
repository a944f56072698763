#include "requests.hpp"

#include <signal.h>

namespace hw::sysmgr {

namespace {

constexpr std::array<std::string_view, target_count> target_names = {
    "init", "sysinit", "normal", "rescue", "halt", "poweroff", "reboot", "kexec", "emergency"};

// The regular channel's order of service; emergency has its own channel.
constexpr std::array regular_priority = {target::init,     target::sysinit, target::normal,
                                         target::rescue,   target::halt,    target::poweroff,
                                         target::reboot,   target::kexec};

std::size_t index(target t) { return static_cast<std::size_t>(t); }
std::size_t index(channel c) { return static_cast<std::size_t>(c); }

bool is_boot_target(target t) {
    return t == target::init || t == target::sysinit || t == target::normal ||
           t == target::rescue;
}

}  // namespace

std::string_view target_name(target t) noexcept { return target_names[index(t)]; }

bool is_shutdown_target(target t) noexcept {
    return t == target::halt || t == target::poweroff || t == target::reboot ||
           t == target::kexec;
}

std::string_view final_action_name(final_action a) noexcept {
    switch (a) {
        case final_action::halt: return "halt";
        case final_action::poweroff: return "poweroff";
        case final_action::reboot: return "reboot";
        case final_action::kexec: return "kexec";
    }
    return "?";
}

signal_meaning classify_signal(int signo, bool in_container) noexcept {
    using k = signal_meaning::kind;
    auto start = [](target t) { return signal_meaning{k::start_target, t, {}}; };
    auto final = [](final_action a) { return signal_meaning{k::final, {}, a}; };
    if (signo == SIGCHLD) return {k::reap, {}, {}};
    if (signo == SIGINT) return start(target::reboot);  // Ctrl-Alt-Del
    if (signo == SIGPWR) return start(target::poweroff);
    if (signo == SIGTERM) return in_container ? start(target::poweroff) : signal_meaning{k::reexec};
    if (signo < SIGRTMIN) return {};
    switch (signo - SIGRTMIN) {
        case 0: return start(target::normal);
        case 1: return start(target::rescue);
        case 2: return start(target::emergency);
        case 3: return start(target::halt);
        case 4: return start(target::poweroff);
        case 5: return start(target::reboot);
        case 6: return start(target::kexec);
        case 10: return start(target::sysinit);
        case 13: return final(final_action::halt);
        case 14: return final(final_action::poweroff);
        case 15: return final(final_action::reboot);
        case 16: return final(final_action::kexec);
        case 25: return {k::reexec, {}, {}};
        default: return {};
    }
}

std::optional<final_action> final_action_of(target t) noexcept {
    switch (t) {
        case target::halt: return final_action::halt;
        case target::poweroff: return final_action::poweroff;
        case target::reboot: return final_action::reboot;
        case target::kexec: return final_action::kexec;
        default: return std::nullopt;
    }
}

std::optional<int> requested_exit_status(int signo, int si_code, int value) noexcept {
    bool poweroff = signo == SIGRTMIN + 4 || signo == SIGRTMIN + 14;
    if (!poweroff || si_code != SI_QUEUE || value < 0 || value > 255) return std::nullopt;
    return value;
}

int container_exit_status(final_action a, std::optional<int> requested) noexcept {
    if (requested) return *requested;
    bool restart = a == final_action::reboot || a == final_action::kexec;
    return restart ? 128 + SIGHUP : 0;
}

bool job_board::request(target t) noexcept {
    pending_[index(t)] = true;
    if (!is_shutdown_target(t)) return false;
    for (target boot : {target::init, target::sysinit, target::normal, target::rescue}) {
        pending_[index(boot)] = false;
    }
    auto current = running_[index(channel::regular)];
    return current && is_boot_target(*current);
}

std::optional<target> job_board::take_next(channel c) noexcept {
    auto& slot = running_[index(c)];
    if (slot) return std::nullopt;
    if (c == channel::emergency) {
        if (!pending_[index(target::emergency)]) return std::nullopt;
        pending_[index(target::emergency)] = false;
        slot = target::emergency;
        return slot;
    }
    for (target t : regular_priority) {
        if (!pending_[index(t)]) continue;
        pending_[index(t)] = false;
        slot = t;
        return slot;
    }
    return std::nullopt;
}

void job_board::finished(channel c) noexcept { running_[index(c)].reset(); }

std::optional<target> job_board::running(channel c) const noexcept { return running_[index(c)]; }

bool job_board::is_pending(target t) const noexcept { return pending_[index(t)]; }

bool job_board::idle() const noexcept {
    return !running_[0] && !running_[1];
}

std::vector<target> job_board::pending() const {
    std::vector<target> out;
    for (std::size_t i = 0; i < target_count; ++i) {
        if (pending_[i]) out.push_back(static_cast<target>(i));
    }
    return out;
}

void job_board::resume_running(channel c, target t) noexcept { running_[index(c)] = t; }

}  // namespace hw::sysmgr
