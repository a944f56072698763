// graph: the immutable relationship graph of a set of bundles.
//
// Nodes are dense ids 0..size()-1 with a name each (several nodes may share a name: a target and
// a service called alike; find() returns the lowest id). Edges are stored per edge kind in both
// directions as flat offset/target arrays (CSR), so "who does X want" and "who wants X" are both
// one span. Targets in a span are sorted by id and free of duplicates. A graph is built once
// with graph_builder and never changes afterwards; copies are cheap enough to avoid, so pass it
// by reference. Neither class does I/O; bundle_tree.hpp builds graphs from directories.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hw {

using node_id = std::uint32_t;
inline constexpr node_id no_node = UINT32_MAX;

// The relationship directories of a bundle (and its `log` link), in on-disk spelling order.
// `requires_` carries an underscore only because `requires` is a C++ keyword.
enum class edge_kind : std::uint8_t {
    wants,
    requires_,
    conflicts,
    required_by,
    after,
    before,
    wanted_by,
    stopped_by,
    log,
};
inline constexpr std::size_t edge_kind_count = 9;
inline constexpr std::array<edge_kind, edge_kind_count> all_edge_kinds = {
    edge_kind::wants,       edge_kind::requires_,  edge_kind::conflicts,
    edge_kind::required_by, edge_kind::after,      edge_kind::before,
    edge_kind::wanted_by,   edge_kind::stopped_by, edge_kind::log};

// "wants", "requires", ..., "required-by", "log": the directory (or link) name on disk.
std::string_view edge_kind_name(edge_kind k) noexcept;
std::optional<edge_kind> edge_kind_from_name(std::string_view name) noexcept;

class graph {
  public:
    graph() = default;

    std::size_t size() const noexcept {
        return name_offsets_.empty() ? 0 : name_offsets_.size() - 1;
    }
    std::string_view name(node_id id) const noexcept;
    // The lowest id carrying this name, if any. O(log n).
    std::optional<node_id> find(std::string_view name) const noexcept;

    // Nodes that `id` points at through edges of kind k (id/k/*), sorted by id.
    std::span<const node_id> out(node_id id, edge_kind k) const noexcept;
    // Nodes that point at `id` through edges of kind k (*/k/id), sorted by id.
    std::span<const node_id> in(node_id id, edge_kind k) const noexcept;

    std::size_t edge_count() const noexcept;

  private:
    friend class graph_builder;
    struct adjacency {
        std::vector<std::uint32_t> offsets;  // size()+1 entries
        std::vector<node_id> targets;
        std::span<const node_id> of(node_id id) const noexcept;
    };
    std::string names_;                        // every name, back to back
    std::vector<std::uint32_t> name_offsets_;  // size()+1 entries into names_
    std::vector<node_id> by_name_;             // ids sorted by (name, id)
    std::array<adjacency, edge_kind_count> forward_;
    std::array<adjacency, edge_kind_count> reverse_;
};

class graph_builder {
  public:
    node_id add_node(std::string_view name);
    // requires: both ids were returned by add_node. Duplicates are merged by build().
    void add_edge(node_id from, edge_kind k, node_id to);
    std::size_t size() const noexcept { return name_offsets_.size() - 1; }
    // Consumes the builder.
    graph build() &&;

  private:
    struct edge {
        node_id from;
        node_id to;
        edge_kind kind;
    };
    std::string names_;
    std::vector<std::uint32_t> name_offsets_{0};
    std::vector<edge> edges_;
};

}  // namespace hw
