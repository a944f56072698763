#include "graph.hpp"

#include <algorithm>

namespace hw {

namespace {

constexpr std::array<std::string_view, edge_kind_count> kind_names = {
    "wants",  "requires",  "conflicts",  "required-by", "after",
    "before", "wanted-by", "stopped-by", "log"};

}  // namespace

std::string_view edge_kind_name(edge_kind k) noexcept {
    return kind_names[static_cast<std::size_t>(k)];
}

std::optional<edge_kind> edge_kind_from_name(std::string_view name) noexcept {
    for (std::size_t i = 0; i < kind_names.size(); ++i)
        if (kind_names[i] == name) return static_cast<edge_kind>(i);
    return std::nullopt;
}

std::span<const node_id> graph::adjacency::of(node_id id) const noexcept {
    if (id + 1 >= offsets.size()) return {};
    return {targets.data() + offsets[id], targets.data() + offsets[id + 1]};
}

std::string_view graph::name(node_id id) const noexcept {
    if (id >= size()) return {};
    return std::string_view(names_).substr(name_offsets_[id],
                                           name_offsets_[id + 1] - name_offsets_[id]);
}

std::optional<node_id> graph::find(std::string_view wanted) const noexcept {
    auto it = std::lower_bound(by_name_.begin(), by_name_.end(), wanted,
                               [this](node_id id, std::string_view n) { return name(id) < n; });
    if (it == by_name_.end() || name(*it) != wanted) return std::nullopt;
    return *it;
}

std::span<const node_id> graph::out(node_id id, edge_kind k) const noexcept {
    return forward_[static_cast<std::size_t>(k)].of(id);
}

std::span<const node_id> graph::in(node_id id, edge_kind k) const noexcept {
    return reverse_[static_cast<std::size_t>(k)].of(id);
}

std::size_t graph::edge_count() const noexcept {
    std::size_t n = 0;
    for (const auto& a : forward_) n += a.targets.size();
    return n;
}

node_id graph_builder::add_node(std::string_view name) {
    names_.append(name);
    name_offsets_.push_back(static_cast<std::uint32_t>(names_.size()));
    return static_cast<node_id>(name_offsets_.size() - 2);
}

void graph_builder::add_edge(node_id from, edge_kind k, node_id to) {
    edges_.push_back({from, to, k});
}

graph graph_builder::build() && {
    graph g;
    const std::size_t n = size();
    g.names_ = std::move(names_);
    g.name_offsets_ = std::move(name_offsets_);
    g.by_name_.resize(n);
    for (node_id i = 0; i < n; ++i) g.by_name_[i] = i;
    std::sort(g.by_name_.begin(), g.by_name_.end(), [&g](node_id a, node_id b) {
        auto na = g.name(a), nb = g.name(b);
        return na != nb ? na < nb : a < b;
    });

    // Sort by (kind, from, to) and drop duplicates; each kind is then one contiguous run.
    std::sort(edges_.begin(), edges_.end(), [](const edge& a, const edge& b) {
        if (a.kind != b.kind) return a.kind < b.kind;
        return a.from != b.from ? a.from < b.from : a.to < b.to;
    });
    edges_.erase(std::unique(edges_.begin(), edges_.end(),
                             [](const edge& a, const edge& b) {
                                 return a.kind == b.kind && a.from == b.from && a.to == b.to;
                             }),
                 edges_.end());

    auto fill = [n](graph::adjacency& adj, std::span<const edge> run, bool reverse) {
        adj.offsets.assign(n + 1, 0);
        for (const edge& e : run) ++adj.offsets[(reverse ? e.to : e.from) + 1];
        for (std::size_t i = 0; i < n; ++i) adj.offsets[i + 1] += adj.offsets[i];
        adj.targets.resize(run.size());
        std::vector<std::uint32_t> cursor(adj.offsets.begin(), adj.offsets.end() - 1);
        // `run` is sorted by (from, to), so forward lists come out sorted; reverse lists are
        // filled in increasing `from` order, so they are sorted too.
        for (const edge& e : run) {
            node_id key = reverse ? e.to : e.from;
            adj.targets[cursor[key]++] = reverse ? e.from : e.to;
        }
    };
    auto begin = edges_.begin();
    for (std::size_t k = 0; k < edge_kind_count; ++k) {
        auto end = std::find_if(begin, edges_.end(), [k](const edge& e) {
            return static_cast<std::size_t>(e.kind) != k;
        });
        std::span<const edge> run(begin, end);
        fill(g.forward_[k], run, false);
        fill(g.reverse_[k], run, true);
        begin = end;
    }
    edges_.clear();
    return g;
}

}  // namespace hw
