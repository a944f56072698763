// bundle_cache: reading bundles through a compiled copy on disk, used only while provably current.
//
// load_bundles_cached() answers a request (search roots, names, loader options) with what a
// bundle_loader would read now. It keeps, per request, one file in the cache directory holding
// the tree that was read (bundles, edges, diagnostics), the ids of the names, and the path facts
// the read depended on (path_facts.hpp: the state of every directory listed and every path
// walked, and where each link followed by the kernel led). A stored copy is used only when every
// one of those facts still holds, checked with one stat per directory instead of an open, two
// getdents and a close, and one readlink per link. Otherwise the tree is read from disk and, if
// its facts are settled() (no change within the last second, local filesystems only, no error
// the facts cannot stand for), stored for next time.
//
// So a copy is never used after a change to anything the read looked at: an entry added to or
// removed from any directory read (a bundle, its service/, its wants/, ..., the targets/ and
// services/ a link goes through), a file read (timeout-start) rewritten, a bundle directory
// replaced or mounted over, a root or link leading elsewhere. Reads that met an error (an
// unreadable directory, a link the kernel could not follow) and lint reads are never stored.
//
// Files are <dir>/bundles-<hash of the request>, written whole to a temporary file and renamed;
// at most 32 are kept (the oldest go). A file is used only if it is owned by the effective user
// and writable by nobody else, in a directory that is the same; anything unreadable or
// malformed is a miss.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bundle_tree.hpp"

namespace hw {

struct cached_bundles {
    bundle_tree tree;
    std::vector<std::optional<node_id>> ids;  // one per name, as bundle_loader::load()
    bool from_cache = false;
};

// Loads `names` (after every bundle of the search path when `all`) as bundle_loader would, using
// and refreshing the cache in `cache_dir` (none when empty).
cached_bundles load_bundles_cached(const std::string& cache_dir, const bundle_path& search,
                                   const std::vector<std::string>& names,
                                   bundle_loader::options opts, bool all);

// The cache file's format, for tests and the fuzzer: encode_cache_file() is what is stored for
// the request `key`. decode_cache_file() reads such bytes back without a system call: the copy,
// with its facts added to `facts` unchecked, or nullopt if the bytes are not a well-formed copy
// for `key`.
std::string encode_cache_file(std::string_view key, const cached_bundles& c,
                              const path_facts& facts);
std::optional<cached_bundles> decode_cache_file(std::string_view bytes, std::string_view key,
                                                path_facts& facts);

// $HEARTWOOD_CACHE_DIR if set (empty: no cache); else /var/cache/heartwood for root, and
// $XDG_CACHE_HOME/heartwood or $HOME/.cache/heartwood for other users.
std::string default_bundle_cache_dir();

}  // namespace hw
