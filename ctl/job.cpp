#include "job.hpp"

#include "common/process.hpp"

#include <fmt/core.h>
#include <sys/wait.h>

#include <algorithm>
#include <deque>
#include <set>
#include <unordered_map>

namespace hw::ctl {

std::string_view outcome_name(outcome o) noexcept {
    switch (o) {
        case outcome::pending:
            return "pending";
        case outcome::done:
            return "done";
        case outcome::already:
            return "already";
        case outcome::failed:
            return "failed";
        case outcome::timed_out:
            return "timed out";
        case outcome::dependency:
            return "dependency failed";
    }
    return "?";
}

std::string_view job_event_name(job_event_kind k) noexcept {
    switch (k) {
        case job_event_kind::load:
            return "load";
        case job_event_kind::plumb:
            return "plumb";
        case job_event_kind::unblocked:
            return "unblocked";
        case job_event_kind::start:
            return "start";
        case job_event_kind::stop:
            return "stop";
        case job_event_kind::kill:
            return "kill";
        case job_event_kind::finished:
            return "finished";
    }
    return "?";
}

std::optional<service_state> state_from_name(std::string_view name) noexcept {
    for (auto s : {service_state::stopped, service_state::starting, service_state::running,
                   service_state::ready, service_state::stopping, service_state::failed})
        if (state_name(s) == name) return s;
    return std::nullopt;
}

namespace {

class runner {
  public:
    runner(const bundle_tree& tree, const plan& p, service_control& control,
           const job_options& opts, job_observer* observer)
        : tree_(tree), plan_(p), control_(control), opts_(opts), observer_(observer) {
        const std::size_t n = p.members.size();
        result_.members.resize(n);
        state_.resize(n);
        for (std::uint32_t m = 0; m < n; ++m) {
            state_[m].waits = static_cast<std::uint32_t>(p.waits_for.of(m).size());
            by_name_.emplace(bundle_of(m).name, m);
        }
    }

    job_result run() {
        if (auto r = control_.subscribe(); !r) {
            lose(r.error());
            return std::move(result_);
        }
        load_all();
        for (std::uint32_t m = 0; m < plan_.members.size(); ++m)
            if (state_[m].waits == 0 && !finished(m)) runnable_.push_back(m);
        drain();
        next_tick_ = control_.now() + opts_.tick;
        while (finished_count_ < plan_.members.size() && result_.exit_status != 111) {
            auto ev = control_.next_event(next_deadline());
            if (!ev) {
                lose(ev.error());
                break;
            }
            if (*ev) on_service_event(**ev);
            check_deadlines();
            drain();
        }
        finish_exit_status();
        return std::move(result_);
    }

  private:
    enum class phase : std::uint8_t { waiting, acting, finished };
    struct member_state {
        phase at = phase::waiting;
        std::uint32_t waits = 0;
        bool begun = false;   // a start: the service was seen starting or running since we asked
        bool killed = false;  // a stop: SIGKILL sent after the stop timeout
        clock::time_point acted{};
        clock::time_point deadline = clock::time_point::max();
    };

    const bundle& bundle_of(std::uint32_t m) const { return tree_.at(plan_.members[m]); }
    bool finished(std::uint32_t m) const { return state_[m].at == phase::finished; }
    std::string_view name(std::uint32_t m) const { return bundle_of(m).name; }

    void emit(job_event_kind kind, std::uint32_t m, std::string_view detail = {}) {
        if (observer_) observer_->on_event({kind, m, detail});
    }

    void lose(const control_error& e) {
        result_.exit_status = 111;
        result_.system_error = e.message;
        for (std::uint32_t m = 0; m < plan_.members.size(); ++m)
            if (!finished(m)) finish(m, outcome::failed, "lost the service-manager: " + e.message);
    }

    void load_all() {
        std::vector<std::uint32_t> loading;
        std::vector<std::pair<std::string_view, std::string_view>> items;
        for (std::uint32_t m = 0; m < plan_.members.size(); ++m) {
            if (plan_.actions[m] != action::start) continue;
            if (bundle_of(m).missing) {
                finish(m, outcome::failed, "no such bundle: " + bundle_of(m).path);
                continue;
            }
            emit(job_event_kind::load, m);
            loading.push_back(m);
            items.emplace_back(name(m), bundle_of(m).path);
        }
        auto loaded = control_.load_many(items);
        for (std::size_t i = 0; i < loading.size(); ++i) {
            if (auto& r = loaded[i]; !r) {
                if (r.error().connection_lost) return lose(r.error());
                finish(loading[i], outcome::failed, "unable to load: " + r.error().message);
            }
        }
        for (std::uint32_t m = 0; m < plan_.members.size(); ++m) {
            if (plan_.actions[m] != action::start || finished(m)) continue;
            for (node_id logger : tree_.relations.out(plan_.members[m], edge_kind::log)) {
                std::uint32_t l = plan_.member_of(logger);
                if (l == plan::not_member || plan_.actions[l] != action::start || finished(l))
                    continue;
                emit(job_event_kind::plumb, m, name(l));
                if (auto r = control_.plumb(name(m), name(l)); !r) {
                    if (r.error().connection_lost) return lose(r.error());
                    emit(job_event_kind::plumb, m, "unable to plumb: " + r.error().message);
                }
            }
        }
    }

    // Acts on every member whose waits have finished; finishing may release more. Members
    // released together are acted on together: one pipelined batch of status requests, then
    // one of start/stop requests.
    void drain() {
        while (!runnable_.empty() && result_.exit_status != 111) {
            std::vector<std::uint32_t> batch;
            while (!runnable_.empty()) {
                std::uint32_t m = runnable_.front();
                runnable_.pop_front();
                if (state_[m].at == phase::waiting) batch.push_back(m);
            }
            act(batch);
        }
    }

    void act(const std::vector<std::uint32_t>& batch) {
        std::vector<std::string_view> names;
        for (std::uint32_t m : batch) {
            emit(job_event_kind::unblocked, m);
            names.push_back(name(m));
        }
        auto statuses = control_.status_many(names);
        std::vector<std::uint32_t> acting;
        std::vector<std::pair<std::string_view, bool>> requests;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (result_.exit_status == 111) return;
            std::uint32_t m = batch[i];
            if (state_[m].at != phase::waiting) continue;  // failed by a requirement meanwhile
            auto& st = statuses[i];
            if (!st) {
                fail_call(m, st.error());
                continue;
            }
            const bool starting = plan_.actions[m] == action::start;
            const auto& current = *st;
            if (starting && current && current->state == service_state::ready) {
                finish(m, outcome::already);
                continue;
            }
            if (!starting && (!current || current->state == service_state::stopped ||
                              current->state == service_state::failed)) {
                finish(m, outcome::already);
                continue;
            }
            acting.push_back(m);
            requests.emplace_back(name(m), starting);
        }
        auto replies = control_.start_stop_many(requests);
        // Every request of the batch has gone out: mark them all acting before a failed one
        // can fail its requirers (which, being acted on, are then left alone).
        clock::time_point now = control_.now();
        for (std::size_t i = 0; i < acting.size(); ++i) {
            if (!replies[i]) continue;
            std::uint32_t m = acting[i];
            auto& s = state_[m];
            const bool starting = plan_.actions[m] == action::start;
            emit(starting ? job_event_kind::start : job_event_kind::stop, m);
            s.at = phase::acting;
            s.acted = now;
            auto limit = starting ? bundle_of(m).start_timeout.value_or(opts_.start_timeout)
                                  : bundle_of(m).stop_timeout.value_or(opts_.stop_timeout);
            set_deadline(m, limit.count() ? s.acted + limit : clock::time_point::max());
        }
        for (std::size_t i = 0; i < acting.size() && result_.exit_status != 111; ++i) {
            if (!replies[i]) fail_call(acting[i], replies[i].error());
        }
    }

    void set_deadline(std::uint32_t m, clock::time_point d) {
        auto& s = state_[m];
        deadlines_.erase({s.deadline, m});
        s.deadline = d;
        if (d != clock::time_point::max()) deadlines_.insert({d, m});
    }

    void fail_call(std::uint32_t m, const control_error& e) {
        if (e.connection_lost) return lose(e);
        finish(m, outcome::failed, e.message);
    }

    void on_service_event(const service_event& ev) {
        auto it = by_name_.find(ev.name);
        if (it == by_name_.end()) return;
        std::uint32_t m = it->second;
        auto& s = state_[m];
        if (s.at != phase::acting) return;
        if (plan_.actions[m] == action::start) {
            switch (ev.state) {
                case service_state::ready:
                    return finish(m, outcome::done);
                case service_state::failed:
                    return finish(m, outcome::failed, exit_text(ev, ""));
                case service_state::starting:
                case service_state::running:
                    s.begun = true;
                    return;
                case service_state::stopped:
                case service_state::stopping:
                    if (s.begun)
                        finish(m, outcome::failed, exit_text(ev, "stopped while starting"));
                    return;
            }
        } else if (ev.state == service_state::stopped || ev.state == service_state::failed) {
            finish(m, outcome::done);
        }
    }

    // "stopped while starting (exited 3)"; without `what`, just "exited 3" (or nothing).
    static std::string exit_text(const service_event& ev, std::string_view what) {
        std::string how = ev.wait_status ? describe_wait_status(*ev.wait_status) : "";
        if (what.empty()) return how;
        return how.empty() ? std::string(what) : fmt::format("{} ({})", what, how);
    }

    clock::time_point next_deadline() const {
        clock::time_point d =
            deadlines_.empty() ? clock::time_point::max() : deadlines_.begin()->first;
        if (opts_.tick.count() && observer_) d = std::min(d, next_tick_);
        return d;
    }

    void check_deadlines() {
        clock::time_point now = control_.now();
        while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
            std::uint32_t m = deadlines_.begin()->second;
            auto& s = state_[m];
            if (plan_.actions[m] == action::start) {
                finish(m, outcome::timed_out,
                       fmt::format("not ready after {:.1f}s", seconds(now - s.acted)));
            } else if (!s.killed && !bundle_of(m).flags.no_kill_signal &&
                       opts_.kill_grace.count()) {
                s.killed = true;
                set_deadline(m, now + opts_.kill_grace);
                emit(job_event_kind::kill, m);
                if (auto r = control_.signal(name(m), 'k'); !r) fail_call(m, r.error());
            } else {
                finish(m, outcome::timed_out,
                       fmt::format("still running after {:.1f}s", seconds(now - s.acted)));
            }
            if (result_.exit_status == 111) return;
        }
        if (observer_ && opts_.tick.count() && next_tick_ <= now) {
            std::vector<in_progress> waiting;
            for (std::uint32_t m = 0; m < state_.size(); ++m)
                if (state_[m].at == phase::acting) waiting.push_back({m, state_[m].acted});
            observer_->on_tick(now, waiting, finished_count_, plan_.members.size());
            while (next_tick_ <= now) next_tick_ += opts_.tick;
        }
    }

    static double seconds(clock::duration d) { return std::chrono::duration<double>(d).count(); }

    // Records the outcome, propagates a start failure to requirers that have not begun, and
    // releases the members waiting for m.
    void finish(std::uint32_t m, outcome o, std::string detail = {}) {
        std::deque<std::uint32_t> todo{m};
        std::deque<std::pair<outcome, std::string>> why{{o, std::move(detail)}};
        while (!todo.empty()) {
            std::uint32_t f = todo.front();
            todo.pop_front();
            auto [res, text] = std::move(why.front());
            why.pop_front();
            if (finished(f)) continue;
            auto& s = state_[f];
            bool was_acting = s.at == phase::acting;
            set_deadline(f, clock::time_point::max());
            s.at = phase::finished;
            ++finished_count_;
            result_.members[f] = {res, std::move(text),
                                  was_acting ? control_.now() - s.acted : clock::duration{}};
            emit(job_event_kind::finished, f, outcome_name(res));
            if (plan_.actions[f] == action::start && !succeeded(res)) {
                for (std::uint32_t r : plan_.requirers.of(f)) {
                    if (state_[r].at != phase::waiting) continue;
                    todo.push_back(r);
                    why.emplace_back(outcome::dependency, fmt::format("requires {}", name(f)));
                }
            }
            for (std::uint32_t w : plan_.released.of(f))
                if (--state_[w].waits == 0 && state_[w].at == phase::waiting)
                    runnable_.push_back(w);
        }
    }

    void finish_exit_status() {
        if (result_.exit_status == 111) return;
        for (std::uint32_t m = 0; m < plan_.members.size(); ++m) {
            bool ok = succeeded(result_.members[m].result);
            if (!ok && (plan_.primary(m) || plan_.actions[m] == action::stop))
                result_.exit_status = 1;
        }
    }

    const bundle_tree& tree_;
    const plan& plan_;
    service_control& control_;
    const job_options& opts_;
    job_observer* observer_;
    job_result result_;
    std::vector<member_state> state_;
    std::unordered_map<std::string_view, std::uint32_t> by_name_;
    std::deque<std::uint32_t> runnable_;
    std::set<std::pair<clock::time_point, std::uint32_t>> deadlines_;  // of acting members
    std::size_t finished_count_ = 0;
    clock::time_point next_tick_{};
};

}  // namespace

job_result run_job(const bundle_tree& tree, const plan& p, service_control& control,
                   const job_options& opts, job_observer* observer) {
    return runner(tree, p, control, opts, observer).run();
}

}  // namespace hw::ctl
