// fake_control: a scripted, single-threaded stand-in for the service-manager with a virtual
// clock. Each service follows a script (how long start and stop take, whether they fail or hang);
// next_event() jumps the clock to the next scripted state change, or to the deadline. Every call
// is recorded with the virtual time, so tests can check order and overlap.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "ctl/service_control.hpp"

namespace hw::ctl::testing {

using namespace std::chrono_literals;

struct service_script {
    std::chrono::milliseconds start_takes{10};
    enum class start_end { ready, fails, hangs } on_start = start_end::ready;
    std::chrono::milliseconds stop_takes{10};
    bool ignores_stop = false;  // only SIGKILL ('k') stops it
    bool load_fails = false;
};

class fake_control final : public service_control {
  public:
    struct call {
        std::string what;  // "load", "start", "stop", "signal k", "plumb", ...
        std::string name;
        std::chrono::milliseconds at;  // virtual time since the fake was made
    };

    std::map<std::string, service_script> scripts;
    std::map<std::string, service_state> states;  // loaded services and their state
    std::vector<call> calls;
    bool lose_connection_on_next_event = false;

    void set_running(const std::string& name) { states[name] = service_state::ready; }

    // Time of the first `what` call for `name`, or -1ms.
    std::chrono::milliseconds when(std::string_view what, std::string_view name) const {
        for (const auto& c : calls)
            if (c.what == what && c.name == name) return c.at;
        return -1ms;
    }
    bool called(std::string_view what, std::string_view name) const {
        return when(what, name) >= 0ms;
    }
    std::chrono::milliseconds elapsed() const {
        return std::chrono::duration_cast<std::chrono::milliseconds>(now_ - epoch_);
    }

    control_result<void> load(std::string_view name, std::string_view) override {
        record("load", name);
        if (scripts[std::string(name)].load_fails) return fail("no such service directory");
        states.try_emplace(std::string(name), service_state::stopped);
        return {};
    }
    control_result<void> unload(std::string_view name) override {
        record("unload", name);
        states.erase(std::string(name));
        return {};
    }
    control_result<void> start(std::string_view name) override {
        record("start", name);
        auto n = std::string(name);
        if (!states.contains(n)) return fail("not loaded");
        const auto& s = scripts[n];
        schedule(0ms, n, service_state::starting);
        if (s.on_start == service_script::start_end::ready)
            schedule(s.start_takes, n, service_state::ready);
        else if (s.on_start == service_script::start_end::fails)
            schedule(s.start_takes, n, service_state::failed, 1 << 8);
        return {};
    }
    control_result<void> stop(std::string_view name) override {
        record("stop", name);
        auto n = std::string(name);
        if (!states.contains(n)) return fail("not loaded");
        schedule(0ms, n, service_state::stopping);
        if (!scripts[n].ignores_stop) schedule(scripts[n].stop_takes, n, service_state::stopped);
        return {};
    }
    control_result<void> signal(std::string_view name, char letter) override {
        record(std::string("signal ") + letter, name);
        if (letter == 'k') schedule(1ms, std::string(name), service_state::stopped, 9);
        return {};
    }
    control_result<std::optional<service_status>> status(std::string_view name) override {
        record("status", name);
        auto it = states.find(std::string(name));
        if (it == states.end()) return std::optional<service_status>();
        service_status st;
        st.name = it->first;
        st.state = it->second;
        return std::optional<service_status>(st);
    }
    control_result<std::vector<service_status>> list() override {
        std::vector<service_status> out;
        for (auto& [n, s] : states) {
            service_status st;
            st.name = n;
            st.state = s;
            out.push_back(st);
        }
        return out;
    }
    control_result<void> plumb(std::string_view producer, std::string_view consumer) override {
        record("plumb", std::string(producer) + ">" + std::string(consumer));
        return {};
    }
    control_result<void> subscribe() override {
        record("subscribe", "");
        return {};
    }
    control_result<std::optional<service_event>> next_event(clock::time_point deadline) override {
        if (lose_connection_on_next_event)
            return std::unexpected(control_error{"connection reset by peer", true});
        if (!pending_.empty() && pending_.begin()->first.first <= deadline) {
            auto it = pending_.begin();
            now_ = std::max(now_, it->first.first);
            service_event ev = it->second;
            pending_.erase(it);
            states[ev.name] = ev.state;
            return std::optional<service_event>(ev);
        }
        if (deadline == clock::time_point::max())
            return std::unexpected(control_error{"fake: would wait for ever", true});
        now_ = std::max(now_, deadline);
        return std::optional<service_event>();
    }
    clock::time_point now() override { return now_; }

  private:
    static std::unexpected<control_error> fail(std::string m) {
        return std::unexpected(control_error{std::move(m), false});
    }
    void record(std::string what, std::string_view name) {
        calls.push_back({std::move(what), std::string(name), elapsed()});
    }
    void schedule(std::chrono::milliseconds after, const std::string& name, service_state s,
                  std::optional<int> wait_status = {}) {
        pending_.emplace(std::pair{now_ + after, seq_++}, service_event{name, s, 0, wait_status});
    }

    clock::time_point epoch_ = clock::time_point{} + 1000h;
    clock::time_point now_ = epoch_;
    std::uint64_t seq_ = 0;
    std::map<std::pair<clock::time_point, std::uint64_t>, service_event> pending_;
};

}  // namespace hw::ctl::testing
