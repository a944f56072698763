// The control socket's records (common/protocol_codec), both ways: service-manager decodes
// what any client sends as a request, system-control decodes what comes back as a reply or a
// pushed event. The format has one spelling per message, so whatever decodes must re-encode to
// exactly the same bytes (a difference is a field misread or lost); no record is both a request
// and a reply; and a list reply must survive encode_list, which may split it into records.
#include <algorithm>
#include <vector>

#include "common/protocol_codec.hpp"
#include "fuzz.hpp"

namespace {

using namespace hw::proto;

template <class Decode, class Encode>
auto round_trip(std::span<const std::byte> in, Decode decode, Encode encode) {
    auto m = decode(in);
    if (!m) {
        FUZZ_CHECK(!describe(m.error().status).empty());
        return m;
    }
    auto again = encode(m->id, m->body);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(std::ranges::equal(*again, in));
    return m;
}

void check_split(std::uint32_t id, const list_reply& list) {
    auto records = encode_list(id, list.services);
    FUZZ_CHECK(records.has_value() && !records->empty());
    std::vector<service_status> joined;
    for (std::size_t i = 0; i < records->size(); ++i) {
        auto part = decode_reply((*records)[i]);
        FUZZ_CHECK(part.has_value() && part->id == id);
        auto* l = std::get_if<list_reply>(&part->body);
        FUZZ_CHECK(l && l->more == (i + 1 < records->size()));
        joined.insert(joined.end(), l->services.begin(), l->services.end());
    }
    FUZZ_CHECK(joined == list.services);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto in = hw::fuzz::bytes(data, size);
    auto req = round_trip(in, decode_request, encode_request);
    auto rep = round_trip(in, decode_reply, encode_reply);
    FUZZ_CHECK(!(req && rep));
    if (rep)
        if (auto* list = std::get_if<list_reply>(&rep->body)) check_split(rep->id, *list);
    return 0;
}
