#include "common/graph.hpp"

#include <doctest/doctest.h>

#include <ostream>
#include <vector>

using hw::edge_kind;
using hw::node_id;

namespace {
std::vector<node_id> ids(std::span<const node_id> s) {
    return {s.begin(), s.end()};
}
}  // namespace

TEST_CASE("edges are kept per kind in both directions, sorted and without duplicates") {
    hw::graph_builder b;
    node_id a = b.add_node("a"), c = b.add_node("c"), d = b.add_node("d");
    b.add_edge(a, edge_kind::wants, d);
    b.add_edge(a, edge_kind::wants, c);
    b.add_edge(a, edge_kind::wants, d);
    b.add_edge(d, edge_kind::after, a);
    b.add_edge(c, edge_kind::wants, d);
    hw::graph g = std::move(b).build();
    CHECK(g.size() == 3);
    CHECK(ids(g.out(a, edge_kind::wants)) == std::vector<node_id>{c, d});
    CHECK(ids(g.in(d, edge_kind::wants)) == std::vector<node_id>{a, c});
    CHECK(ids(g.out(d, edge_kind::after)) == std::vector<node_id>{a});
    CHECK(ids(g.in(a, edge_kind::after)) == std::vector<node_id>{d});
    CHECK(g.out(a, edge_kind::after).empty());
    CHECK(g.in(a, edge_kind::wants).empty());
    CHECK(g.edge_count() == 4);
}

TEST_CASE("find returns the lowest id of a name shared by two nodes, and nothing for unknowns") {
    hw::graph_builder b;
    b.add_node("zeta");
    node_id first = b.add_node("twin");
    b.add_node("twin");
    hw::graph g = std::move(b).build();
    CHECK(g.find("twin") == first);
    CHECK(g.find("zeta") == 0u);
    CHECK(!g.find("tw"));
    CHECK(!g.find("nobody"));
    CHECK(g.name(first) == "twin");
}

TEST_CASE("edge kind names are the directory names on disk and round-trip") {
    for (auto k : hw::all_edge_kinds) CHECK(hw::edge_kind_from_name(hw::edge_kind_name(k)) == k);
    CHECK(hw::edge_kind_name(edge_kind::required_by) == "required-by");
    CHECK(hw::edge_kind_name(edge_kind::requires_) == "requires");
    CHECK(!hw::edge_kind_from_name("needs"));
}

TEST_CASE("an empty graph answers every query with nothing") {
    hw::graph g = hw::graph_builder().build();
    CHECK(g.size() == 0);
    CHECK(g.out(0, edge_kind::wants).empty());
    CHECK(!g.find("x"));
}
