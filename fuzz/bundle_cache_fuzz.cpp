// The bundle cache (common/bundle_cache): system-control reads a compiled bundle tree back from
// a file in /var/cache/heartwood or ~/.cache/heartwood, which a full disk, a crash or a stray
// write may have left corrupt. What decodes must encode and decode again to the same bytes, and
// be a tree the loader could have read: closed (every id in range) and with timeouts that
// system-control can add to its clock (ctl/job.cpp).
#include "common/bundle_cache.hpp"
#include "fuzz.hpp"

namespace {

// The request the seeds (fuzz/corpus/bundle_cache/) were stored for.
constexpr std::string_view key = "follow_all=true install_links=true all=true\nroot /fuzz\n";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace hw;
    path_facts facts;
    auto c = decode_cache_file(fuzz::text(data, size), key, facts);
    if (!c) return 0;
    std::string bytes = encode_cache_file(key, *c, facts);
    path_facts facts_again;
    auto again = decode_cache_file(bytes, key, facts_again);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(encode_cache_file(key, *again, facts_again) == bytes);

    const auto& t = c->tree;
    FUZZ_CHECK(t.relations.size() == t.bundles.size());
    for (const auto& id : c->ids) FUZZ_CHECK(!id || *id < t.bundles.size());
    for (const auto& b : t.bundles) {
        for (const auto& timeout : {b.start_timeout, b.stop_timeout})
            FUZZ_CHECK(!timeout || (timeout->count() >= 0 && fuzz::fits_clock(*timeout)));
    }
    return 0;
}
