// plan: the pure part of the job engine. From a graph and the bundles asked to start or stop it
// computes who takes part in the job, what each one does, and who waits for whom. No I/O.
//
// Closure (fixed point):
//   start X  ->  start everything in X/wants/ (but those disabled by service/down),
//                X/requires/ and X's `log`; stop everything in X/conflicts/
//   stop X   ->  stop everything in X/required-by/ and every Y with X in Y/requires/ (so a stop
//                needs a graph of the whole tree; a start needs only what it reaches)
//   after/, before/, wanted-by/, stopped-by/ never pull anything in.
// A bundle that ends up both started and stopped makes the plan fail, naming how it was reached
// each way ("start normal -> wants web -> requires db" / "start rescue -> conflicts db").
//
// Ordering, only between members of the job: A/after/B means A waits for B, and A/before/B
// means B waits for A, whatever each one does, except that when both stop the wait is reversed.
//
// Ordering cycles are found here, before anything runs, and broken by this deterministic rule:
// members are walked depth first along their waits, starting from the members in name order and
// following waits in name order of the bundle waited for; a wait that leads back to a member on
// the current path closes a cycle. That one wait is ignored, and the cycle is reported as the
// path "a -> b -> c -> a" (each arrow reads "waits for"; the last arrow is the ignored wait).
// Ignoring every wait found so leaves no cycle, and the result does not depend on the order of
// directory entries or of names on the command line.
//
// Failure propagation data: for each starting member, the starting members that require it
// (X/requires/Y or Y/required-by/X); a failed Y fails those of them that have not begun.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <vector>

#include "common/graph.hpp"

namespace hw::ctl {

enum class action : std::uint8_t { none, start, stop };
std::string_view action_name(action a) noexcept;

struct job_request {
    std::vector<node_id> start;
    std::vector<node_id> stop;
    // Per graph node (empty: none): disabled by a service/down file. A disabled bundle is not
    // started through wants/ (that is what disabling means); named in the request, required,
    // or a logger, it still starts.
    std::vector<bool> disabled;
};

// Why a bundle is in the job: the member and relationship that pulled it in; `from` is
// no_node for bundles named in the request.
struct reason {
    node_id from = no_node;
    action from_action = action::none;
    edge_kind kind = edge_kind::wants;
};

struct ordering_cycle {
    std::vector<node_id> path;  // first == last; path[i] waits for path[i+1]
};

// Offsets into a flat array, one run per member (CSR). Indices in it are member indices.
struct member_lists {
    std::vector<std::uint32_t> offsets;
    std::vector<std::uint32_t> items;
    std::span<const std::uint32_t> of(std::uint32_t m) const noexcept {
        return {items.data() + offsets[m], items.data() + offsets[m + 1]};
    }
};

struct plan {
    static constexpr std::uint32_t not_member = UINT32_MAX;

    std::vector<node_id> members;        // in order of discovery
    std::vector<action> actions;         // per member
    std::vector<reason> reasons;         // per member
    std::vector<std::uint32_t> index;    // per graph node: member index or not_member
    member_lists waits_for;              // per member: members that must finish before it acts
    member_lists released;               // per member: members waiting for it (the reverse)
    member_lists requirers;              // per starting member: starting members that require it
    std::vector<std::uint32_t> depth;    // per member: longest chain of waits below it (0 = free)
    std::vector<ordering_cycle> cycles;  // found and broken

    std::uint32_t member_of(node_id id) const noexcept {
        return id < index.size() ? index[id] : not_member;
    }
    bool primary(std::uint32_t m) const noexcept { return reasons[m].from == no_node; }
};

struct plan_error {
    std::string message;
};

std::expected<plan, plan_error> make_plan(const graph& g, const job_request& request);

// "start normal -> wants web -> requires db": how member m came into the plan.
std::string describe_reason(const graph& g, const plan& p, std::uint32_t m);
// "a -> b -> c -> a"
std::string describe_cycle(const graph& g, const ordering_cycle& c);

}  // namespace hw::ctl
