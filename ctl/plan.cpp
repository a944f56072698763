#include "plan.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <deque>

namespace hw::ctl {

namespace {

constexpr std::uint8_t want_start = 1;
constexpr std::uint8_t want_stop = 2;

// The closure's working state: what each graph node is wanted for, and why.
struct closure {
    std::vector<std::uint8_t> wants;
    std::vector<reason> start_reason;
    std::vector<reason> stop_reason;
    std::vector<node_id> order;  // nodes in order of first discovery
};

// "start normal -> wants web -> requires db", following reasons from `id` back to the request.
std::string describe_chain(const graph& g, const closure& c, node_id id, action act) {
    std::vector<std::string> steps;
    for (std::size_t guard = 0; guard <= g.size(); ++guard) {
        const reason& r = act == action::start ? c.start_reason[id] : c.stop_reason[id];
        if (r.from == no_node) {
            steps.push_back(fmt::format("{} {}", action_name(act), g.name(id)));
            break;
        }
        steps.push_back(fmt::format("{} {}", edge_kind_name(r.kind), g.name(id)));
        id = r.from;
        act = r.from_action;
    }
    std::string out;
    for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
        if (!out.empty()) out += " -> ";
        out += *it;
    }
    return out;
}

std::expected<closure, plan_error> compute_closure(const graph& g, const job_request& req) {
    closure c;
    c.wants.assign(g.size(), 0);
    c.start_reason.assign(g.size(), reason{});
    c.stop_reason.assign(g.size(), reason{});
    std::deque<std::pair<node_id, action>> queue;
    std::optional<node_id> conflict;

    auto add = [&](node_id id, action act, reason why) {
        bool disabled = id < req.disabled.size() && req.disabled[id];
        if (act == action::start && why.kind == edge_kind::wants && why.from != no_node &&
            disabled) {
            return;
        }
        std::uint8_t bit = act == action::start ? want_start : want_stop;
        if (c.wants[id] & bit) return;
        if (!c.wants[id]) c.order.push_back(id);
        c.wants[id] |= bit;
        (act == action::start ? c.start_reason : c.stop_reason)[id] = why;
        if (c.wants[id] == (want_start | want_stop) && !conflict) conflict = id;
        queue.emplace_back(id, act);
    };
    for (node_id id : req.start) add(id, action::start, reason{});
    for (node_id id : req.stop) add(id, action::stop, reason{});

    while (!queue.empty() && !conflict) {
        auto [id, act] = queue.front();
        queue.pop_front();
        auto pull = [&](std::span<const node_id> targets, action what, edge_kind kind) {
            for (node_id t : targets) add(t, what, reason{id, act, kind});
        };
        if (act == action::start) {
            pull(g.out(id, edge_kind::wants), action::start, edge_kind::wants);
            pull(g.out(id, edge_kind::requires_), action::start, edge_kind::requires_);
            pull(g.out(id, edge_kind::log), action::start, edge_kind::log);
            pull(g.out(id, edge_kind::conflicts), action::stop, edge_kind::conflicts);
        } else {
            pull(g.out(id, edge_kind::required_by), action::stop, edge_kind::required_by);
            pull(g.in(id, edge_kind::requires_), action::stop, edge_kind::required_by);
        }
    }
    if (conflict) {
        return std::unexpected(plan_error{
            fmt::format("unable to plan the job: {} would be both started ({}) and stopped ({})",
                        g.name(*conflict), describe_chain(g, c, *conflict, action::start),
                        describe_chain(g, c, *conflict, action::stop))});
    }
    return c;
}

member_lists make_lists(std::size_t members,
                        std::vector<std::pair<std::uint32_t, std::uint32_t>>& pairs) {
    std::sort(pairs.begin(), pairs.end());
    pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
    member_lists l;
    l.offsets.assign(members + 1, 0);
    for (auto [from, to] : pairs) ++l.offsets[from + 1];
    for (std::size_t i = 0; i < members; ++i) l.offsets[i + 1] += l.offsets[i];
    l.items.reserve(pairs.size());
    for (auto [from, to] : pairs) l.items.push_back(to);
    return l;
}

// The ordering constraints between members, as (waiter, waited-for) pairs.
std::vector<std::pair<std::uint32_t, std::uint32_t>> ordering_pairs(const graph& g, const plan& p) {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> waits;
    for (std::uint32_t a = 0; a < p.members.size(); ++a) {
        bool a_stops = p.actions[a] == action::stop;
        for (node_id other : g.out(p.members[a], edge_kind::after)) {
            std::uint32_t b = p.member_of(other);
            if (b == plan::not_member) continue;
            bool both_stop = a_stops && p.actions[b] == action::stop;
            waits.push_back(both_stop ? std::pair{b, a} : std::pair{a, b});
        }
        for (node_id other : g.out(p.members[a], edge_kind::before)) {
            std::uint32_t b = p.member_of(other);
            if (b == plan::not_member) continue;
            bool both_stop = a_stops && p.actions[b] == action::stop;
            waits.push_back(both_stop ? std::pair{a, b} : std::pair{b, a});
        }
    }
    return waits;
}

// Breaks ordering cycles by the rule in plan.hpp; removes the ignored waits from `waits` and
// returns the cycles. `waits` is sorted and unique on entry.
std::vector<ordering_cycle> break_cycles(
    const graph& g, const plan& p, std::vector<std::pair<std::uint32_t, std::uint32_t>>& waits) {
    const std::uint32_t n = static_cast<std::uint32_t>(p.members.size());
    std::vector<std::uint32_t> by_name(n);
    for (std::uint32_t i = 0; i < n; ++i) by_name[i] = i;
    std::sort(by_name.begin(), by_name.end(), [&](std::uint32_t a, std::uint32_t b) {
        auto na = g.name(p.members[a]), nb = g.name(p.members[b]);
        return na != nb ? na < nb : p.members[a] < p.members[b];
    });
    std::vector<std::uint32_t> rank(n);
    for (std::uint32_t i = 0; i < n; ++i) rank[by_name[i]] = i;

    member_lists adj = make_lists(n, waits);
    for (std::uint32_t m = 0; m < n; ++m) {
        auto begin = adj.items.begin() + adj.offsets[m],
             end = adj.items.begin() + adj.offsets[m + 1];
        std::sort(begin, end, [&](std::uint32_t a, std::uint32_t b) { return rank[a] < rank[b]; });
    }

    enum : std::uint8_t { unseen, on_path, finished };
    std::vector<std::uint8_t> colour(n, unseen);
    std::vector<std::uint32_t> path_pos(n, 0);
    std::vector<std::pair<std::uint32_t, std::uint32_t>> stack;  // (member, next edge offset)
    std::vector<std::pair<std::uint32_t, std::uint32_t>> ignored;
    std::vector<ordering_cycle> cycles;
    for (std::uint32_t root : by_name) {
        if (colour[root] != unseen) continue;
        colour[root] = on_path;
        path_pos[root] = 0;
        stack.push_back({root, adj.offsets[root]});
        while (!stack.empty()) {
            auto& [u, next] = stack.back();
            if (next == adj.offsets[u + 1]) {
                colour[u] = finished;
                stack.pop_back();
                continue;
            }
            std::uint32_t v = adj.items[next++];
            if (colour[v] == on_path) {
                ordering_cycle c;
                for (std::size_t i = path_pos[v]; i < stack.size(); ++i)
                    c.path.push_back(p.members[stack[i].first]);
                c.path.push_back(p.members[v]);
                cycles.push_back(std::move(c));
                ignored.push_back({u, v});
            } else if (colour[v] == unseen) {
                colour[v] = on_path;
                path_pos[v] = static_cast<std::uint32_t>(stack.size());
                stack.push_back({v, adj.offsets[v]});
            }
        }
    }
    if (!ignored.empty()) {
        std::sort(ignored.begin(), ignored.end());
        std::erase_if(waits, [&](const auto& w) {
            return std::binary_search(ignored.begin(), ignored.end(), w);
        });
    }
    return cycles;
}

// Longest chain of waits below each member (Kahn's algorithm over the acyclic waits).
std::vector<std::uint32_t> depths(const plan& p) {
    const std::size_t n = p.members.size();
    std::vector<std::uint32_t> depth(n, 0), pending(n);
    std::vector<std::uint32_t> ready;
    for (std::uint32_t m = 0; m < n; ++m) {
        pending[m] = static_cast<std::uint32_t>(p.waits_for.of(m).size());
        if (!pending[m]) ready.push_back(m);
    }
    while (!ready.empty()) {
        std::uint32_t m = ready.back();
        ready.pop_back();
        for (std::uint32_t w : p.released.of(m)) {
            depth[w] = std::max(depth[w], depth[m] + 1);
            if (--pending[w] == 0) ready.push_back(w);
        }
    }
    return depth;
}

}  // namespace

std::string_view action_name(action a) noexcept {
    switch (a) {
        case action::start:
            return "start";
        case action::stop:
            return "stop";
        case action::none:
            break;
    }
    return "none";
}

std::expected<plan, plan_error> make_plan(const graph& g, const job_request& request) {
    auto c = compute_closure(g, request);
    if (!c) return std::unexpected(c.error());

    plan p;
    const std::size_t n = c->order.size();
    p.members = std::move(c->order);
    p.index.assign(g.size(), plan::not_member);
    p.actions.resize(n);
    p.reasons.resize(n);
    for (std::uint32_t m = 0; m < n; ++m) {
        node_id id = p.members[m];
        p.index[id] = m;
        bool starts = c->wants[id] & want_start;
        p.actions[m] = starts ? action::start : action::stop;
        p.reasons[m] = starts ? c->start_reason[id] : c->stop_reason[id];
    }

    auto waits = ordering_pairs(g, p);
    std::sort(waits.begin(), waits.end());
    waits.erase(std::unique(waits.begin(), waits.end()), waits.end());
    p.cycles = break_cycles(g, p, waits);
    p.waits_for = make_lists(n, waits);
    for (auto& w : waits) std::swap(w.first, w.second);
    p.released = make_lists(n, waits);
    p.depth = depths(p);

    std::vector<std::pair<std::uint32_t, std::uint32_t>> requires_pairs;
    for (std::uint32_t m = 0; m < n; ++m) {
        if (p.actions[m] != action::start) continue;
        auto note = [&](node_id other) {
            std::uint32_t r = p.member_of(other);
            if (r != plan::not_member && p.actions[r] == action::start && r != m)
                requires_pairs.push_back({m, r});
        };
        for (node_id other : g.in(p.members[m], edge_kind::requires_)) note(other);
        for (node_id other : g.out(p.members[m], edge_kind::required_by)) note(other);
    }
    p.requirers = make_lists(n, requires_pairs);
    return p;
}

std::string describe_reason(const graph& g, const plan& p, std::uint32_t m) {
    std::vector<std::string> steps;
    for (std::size_t guard = 0; guard <= p.members.size(); ++guard) {
        const reason& r = p.reasons[m];
        if (r.from == no_node) {
            steps.push_back(fmt::format("{} {}", action_name(p.actions[m]), g.name(p.members[m])));
            break;
        }
        steps.push_back(fmt::format("{} {}", edge_kind_name(r.kind), g.name(p.members[m])));
        m = p.member_of(r.from);
    }
    std::string out;
    for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
        if (!out.empty()) out += " -> ";
        out += *it;
    }
    return out;
}

std::string describe_cycle(const graph& g, const ordering_cycle& c) {
    std::string out;
    for (node_id id : c.path) {
        if (!out.empty()) out += " -> ";
        out += g.name(id);
    }
    return out;
}

}  // namespace hw::ctl
