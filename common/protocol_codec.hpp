// protocol_codec: pure conversion between protocol messages (protocol.hpp) and record bytes.
//
// No I/O, no globals. Decoding takes any byte span (possibly hostile) and either returns a
// complete message or a decode_error; it never reads past the span, never allocates more than
// the span's size allows, and rejects trailing bytes. Encoding checks every length limit and
// fails with EINVAL (bad name or value) or EMSGSIZE (record above max_record) rather than
// producing a record the other side would reject.
#pragma once

#include <cstdint>
#include <expected>
#include <span>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "protocol.hpp"

namespace hw::proto {

enum class decode_status : std::uint8_t {
    truncated,            // shorter than its header or a field says
    bad_magic,            // not "hwsm"
    unsupported_version,  // header fine, version is not ours
    unknown_kind,         // header fine, kind unknown in this version or in this direction
    bad_value,            // a field out of range (string too long, unknown state, bad name)
    trailing_bytes,       // bytes after the last field
    too_large,            // more than max_record bytes
};
std::string_view describe(decode_status s) noexcept;

struct decode_error {
    decode_status status;
    // Whatever the header told, when it could be read (so a server can address its error
    // reply); 0 otherwise.
    std::uint32_t id = 0;
    std::uint16_t version = 0;
};

template <class T>
struct envelope {
    std::uint32_t id = 0;
    T body;
};

using bytes = std::vector<std::byte>;

result<bytes> encode_request(std::uint32_t id, const request& r);
result<bytes> encode_reply(std::uint32_t id, const reply& r);

// A list answer as one or more list_reply records, each within max_record, all but the last
// with `more` set. An empty list gives one record.
result<std::vector<bytes>> encode_list(std::uint32_t id, std::span<const service_status> all);

std::expected<envelope<request>, decode_error> decode_request(std::span<const std::byte> rec);
std::expected<envelope<reply>, decode_error> decode_reply(std::span<const std::byte> rec);

// Size of one service_status on the wire.
std::size_t encoded_size(const service_status& s) noexcept;

}  // namespace hw::proto
