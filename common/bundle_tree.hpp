// bundle_tree: reads bundle directories into bundles plus their relationship graph.
//
// A bundle_loader starts from names (resolved over a bundle_path), paths, or the whole search
// path, and follows every relationship entry and `log` link transitively, so the resulting tree
// is closed: every edge points at a bundle in it. Bundles are merged by the (device, inode) of
// their directory. Node ids are assigned in discovery order and relationship entries are read
// in name order, so the same tree on disk always gives the same ids.
//
// A bundle whose contents were not read (see options::follow_all) has contents_read false and
// no outgoing edges.
//
// Nothing stops the loader early: every problem (a dangling link, an entry that is not a
// directory, an unreadable directory or file, a bad name, a name used by two bundles, a bad
// timeout) becomes a diagnostic naming the file, and reading goes on with what remains.
// Not thread-safe; holds a bounded number of directory descriptors while loading.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bundle.hpp"
#include "diagnostic.hpp"
#include "graph.hpp"
#include "path_facts.hpp"

namespace hw {

struct bundle_tree {
    std::vector<bundle> bundles;  // indexed by node_id
    graph relations;              // edges between those bundles
    diagnostics problems;

    const bundle& at(node_id id) const { return bundles.at(id); }
};

class bundle_loader {
  public:
    struct options {
        // Also report what only a linter cares about: names outside valid_bundle_name(), a
        // bundle outside targets/ without `run`, programs that are not executable.
        bool lint = false;
        // Read every bundle reached through any link. When false, bundles reached only
        // through after/, before/, wanted-by/ or stopped-by/ are named (they have an id, a path,
        // a name) but their own contents are not read: enough for planning a start job, which
        // only follows wants/, requires/, conflicts/, required-by/ and log.
        bool follow_all = true;
        // Read wanted-by/ and stopped-by/ (install-time relationships).
        bool install_links = true;
    };

    explicit bundle_loader(bundle_path search, options opts);
    explicit bundle_loader(bundle_path search) : bundle_loader(std::move(search), options{}) {}
    ~bundle_loader();
    bundle_loader(const bundle_loader&) = delete;
    bundle_loader& operator=(const bundle_loader&) = delete;

    // Resolves `name` (see bundle_path::resolve) and loads it with everything it reaches.
    // Returns its id, or nullopt after recording a diagnostic ("no such bundle").
    std::optional<node_id> load(std::string_view name);
    // Loads every bundle in every root's targets/ and services/ (for `check`, `list`).
    void load_all();

    // The id of a bundle already loaded, by (device, inode).
    std::optional<node_id> find(dev_t dev, ino_t ino) const;

    const bundle_path& search_path() const noexcept;

    // Finishes reading what is queued, checks names across the tree, and hands everything over;
    // with `facts`, also what the tree depends on (see path_facts.hpp).
    bundle_tree finish(path_facts* facts = nullptr) &&;

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// Convenience for the common case: load `names` (all of the tree when empty).
bundle_tree load_bundles(const bundle_path& search, const std::vector<std::string>& names,
                         bundle_loader::options opts = {});

}  // namespace hw
