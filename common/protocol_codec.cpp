#include "protocol_codec.hpp"

#include <cstring>
#include <optional>
#include <type_traits>

namespace hw::proto {

namespace {

// The smallest service_status: a one-byte name and an empty status text.
constexpr std::size_t min_status_size = 35;

constexpr std::byte magic[4] = {std::byte{'h'}, std::byte{'w'}, std::byte{'s'}, std::byte{'m'}};

// Appends little-endian fields to a byte vector.
class writer {
  public:
    explicit writer(bytes& out) : out_(out) {}

    template <class T>
    void integer(T v) {
        using U = std::make_unsigned_t<T>;
        auto u = static_cast<U>(v);
        for (std::size_t i = 0; i < sizeof(T); ++i) {
            out_.push_back(static_cast<std::byte>((u >> (8 * i)) & 0xff));
        }
    }
    // false when longer than `limit`
    bool string(std::string_view s, std::size_t limit) {
        if (s.size() > limit) return false;
        integer(static_cast<std::uint16_t>(s.size()));
        auto p = reinterpret_cast<const std::byte*>(s.data());
        out_.insert(out_.end(), p, p + s.size());
        return true;
    }

  private:
    bytes& out_;
};

// Reads little-endian fields from a span; the first failure sticks.
class reader {
  public:
    explicit reader(std::span<const std::byte> in) : in_(in) {}

    template <class T>
    T integer() {
        using U = std::make_unsigned_t<T>;
        if (!need(sizeof(T))) return T{};
        U u = 0;
        for (std::size_t i = 0; i < sizeof(T); ++i) {
            u |= static_cast<U>(std::to_integer<U>(in_[pos_ + i]) << (8 * i));
        }
        pos_ += sizeof(T);
        return static_cast<T>(u);
    }
    std::string string(std::size_t limit) {
        auto n = integer<std::uint16_t>();
        if (n > limit && status_ == ok) status_ = decode_status::bad_value;
        if (status_ != ok || !need(n)) return {};
        std::string s(reinterpret_cast<const char*>(in_.data() + pos_), n);
        pos_ += n;
        return s;
    }
    void invalid() {
        if (status_ == ok) status_ = decode_status::bad_value;
    }
    // The decode status after the last field was read.
    std::optional<decode_status> finish() const {
        if (status_ != ok) return status_;
        if (pos_ != in_.size()) return decode_status::trailing_bytes;
        return std::nullopt;
    }
    bool failed() const { return status_ != ok; }

  private:
    static constexpr decode_status ok = static_cast<decode_status>(255);
    bool need(std::size_t n) {
        if (status_ != ok) return false;
        if (in_.size() - pos_ < n) {
            status_ = decode_status::truncated;
            return false;
        }
        return true;
    }
    std::span<const std::byte> in_;
    std::size_t pos_ = 0;
    decode_status status_ = ok;
};

void put_header(bytes& out, kind k, std::uint32_t id) {
    out.insert(out.end(), std::begin(magic), std::end(magic));
    writer w(out);
    w.integer(version);
    w.integer(static_cast<std::uint16_t>(k));
    w.integer(id);
}

bool put_status(writer& w, const service_status& s) {
    if (!valid_service_name(s.name)) return false;
    if (static_cast<std::uint8_t>(s.state) >= service_state_count) return false;
    w.string(s.name, max_name);
    w.integer(static_cast<std::uint8_t>(s.state));
    w.integer(s.flags);
    w.integer(s.main_pid);
    w.integer(s.since_monotonic_ns);
    w.integer(s.since_wall_ns);
    w.integer(s.last_wait_status);
    w.integer(s.restart_count);
    return w.string(s.status_text, max_text);
}

service_status get_status(reader& r) {
    service_status s;
    s.name = r.string(max_name);
    if (!r.failed() && !valid_service_name(s.name)) r.invalid();
    auto state = r.integer<std::uint8_t>();
    if (state >= service_state_count) r.invalid();
    s.state = static_cast<service_state>(state);
    s.flags = r.integer<std::uint8_t>();
    s.main_pid = r.integer<std::uint32_t>();
    s.since_monotonic_ns = r.integer<std::int64_t>();
    s.since_wall_ns = r.integer<std::int64_t>();
    s.last_wait_status = r.integer<std::int32_t>();
    s.restart_count = r.integer<std::uint32_t>();
    s.status_text = r.string(max_text);
    return s;
}

std::string get_name(reader& r) {
    std::string name = r.string(max_name);
    if (!r.failed() && !valid_service_name(name)) r.invalid();
    return name;
}

result<bytes> finish_record(bytes&& out, bool fields_ok) {
    if (!fields_ok) return fail(std::errc::invalid_argument);
    if (out.size() > max_record) return fail(std::errc::message_size);
    return std::move(out);
}

struct header {
    kind k;
    std::uint32_t id;
};

std::expected<header, decode_error> get_header(std::span<const std::byte> rec) {
    if (rec.size() > max_record) return std::unexpected(decode_error{decode_status::too_large});
    if (rec.size() < header_size) return std::unexpected(decode_error{decode_status::truncated});
    if (std::memcmp(rec.data(), magic, sizeof magic) != 0) {
        return std::unexpected(decode_error{decode_status::bad_magic});
    }
    reader r(rec.subspan(4, 8));
    auto v = r.integer<std::uint16_t>();
    auto k = r.integer<std::uint16_t>();
    auto id = r.integer<std::uint32_t>();
    if (v != version)
        return std::unexpected(decode_error{decode_status::unsupported_version, id, v});
    return header{static_cast<kind>(k), id};
}

}  // namespace

std::string_view state_name(service_state s) noexcept {
    switch (s) {
        case service_state::stopped:
            return "stopped";
        case service_state::starting:
            return "starting";
        case service_state::running:
            return "running";
        case service_state::ready:
            return "ready";
        case service_state::stopping:
            return "stopping";
        case service_state::failed:
            return "failed";
    }
    return "unknown";
}

bool valid_service_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > max_name || name[0] == '.' || name[0] == '-') return false;
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '@' || c == '.' || c == '_' || c == ':' || c == '+' || c == '-';
        if (!ok) return false;
    }
    return true;
}

std::string_view describe(decode_status s) noexcept {
    switch (s) {
        case decode_status::truncated:
            return "truncated record";
        case decode_status::bad_magic:
            return "not a heartwood control record";
        case decode_status::unsupported_version:
            return "unsupported protocol version";
        case decode_status::unknown_kind:
            return "unknown message kind";
        case decode_status::bad_value:
            return "field out of range";
        case decode_status::trailing_bytes:
            return "trailing bytes after the last field";
        case decode_status::too_large:
            return "record too large";
    }
    return "malformed record";
}

std::size_t encoded_size(const service_status& s) noexcept {
    return 2 + s.name.size() + 1 + 1 + 4 + 8 + 8 + 4 + 4 + 2 + s.status_text.size();
}

result<bytes> encode_request(std::uint32_t id, const request& req) {
    bytes out;
    out.reserve(64);
    writer w(out);
    bool ok = true;
    auto name = [&](const std::string& n) {
        ok = ok && valid_service_name(n) && w.string(n, max_name);
    };
    std::visit(
        [&](const auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, load_request>) {
                put_header(out, kind::load, id);
                name(m.name);
                ok = ok && !m.bundle_dir.empty() && w.string(m.bundle_dir, max_path);
            } else if constexpr (std::is_same_v<T, unload_request>) {
                put_header(out, kind::unload, id);
                name(m.name);
            } else if constexpr (std::is_same_v<T, start_request>) {
                put_header(out, kind::start, id);
                name(m.name);
            } else if constexpr (std::is_same_v<T, stop_request>) {
                put_header(out, kind::stop, id);
                name(m.name);
            } else if constexpr (std::is_same_v<T, signal_request>) {
                put_header(out, kind::signal, id);
                name(m.name);
                w.integer(static_cast<std::uint8_t>(m.letter));
            } else if constexpr (std::is_same_v<T, status_request>) {
                put_header(out, kind::status, id);
                name(m.name);
            } else if constexpr (std::is_same_v<T, list_request>) {
                put_header(out, kind::list, id);
            } else if constexpr (std::is_same_v<T, plumb_request>) {
                put_header(out, kind::plumb, id);
                name(m.producer);
                name(m.consumer);
            } else if constexpr (std::is_same_v<T, subscribe_request>) {
                put_header(out, kind::subscribe, id);
            }
        },
        req);
    return finish_record(std::move(out), ok);
}

result<bytes> encode_reply(std::uint32_t id, const reply& rep) {
    bytes out;
    out.reserve(128);
    writer w(out);
    bool ok = true;
    std::visit(
        [&](const auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, ok_reply>) {
                put_header(out, kind::ok, id);
            } else if constexpr (std::is_same_v<T, error_reply>) {
                put_header(out, kind::error, id);
                w.integer(m.code);
                ok = w.string(m.message, max_text);
            } else if constexpr (std::is_same_v<T, status_reply>) {
                put_header(out, kind::status_reply, id);
                ok = put_status(w, m.status);
            } else if constexpr (std::is_same_v<T, list_reply>) {
                put_header(out, kind::list_reply, id);
                w.integer(static_cast<std::uint8_t>(m.more ? 1 : 0));
                if (m.services.size() > UINT32_MAX) ok = false;
                w.integer(static_cast<std::uint32_t>(m.services.size()));
                for (const auto& s : m.services) ok = ok && put_status(w, s);
            } else if constexpr (std::is_same_v<T, event>) {
                put_header(out, kind::event, id);
                ok = put_status(w, m.status);
            }
        },
        rep);
    return finish_record(std::move(out), ok);
}

result<std::vector<bytes>> encode_list(std::uint32_t id, std::span<const service_status> all) {
    constexpr std::size_t fixed = header_size + 1 + 4;
    std::vector<bytes> records;
    list_reply batch;
    std::size_t size = fixed;
    auto flush = [&](bool more) -> result<void> {
        batch.more = more;
        auto rec = encode_reply(id, batch);
        if (!rec) return fail(rec.error());
        records.push_back(std::move(*rec));
        batch.services.clear();
        size = fixed;
        return {};
    };
    for (const auto& s : all) {
        std::size_t n = encoded_size(s);
        if (fixed + n > max_record) return fail(std::errc::message_size);
        if (size + n > max_record) {
            if (auto r = flush(true); !r) return fail(r.error());
        }
        batch.services.push_back(s);
        size += n;
    }
    if (auto r = flush(false); !r) return fail(r.error());
    return records;
}

std::expected<envelope<request>, decode_error> decode_request(std::span<const std::byte> rec) {
    auto h = get_header(rec);
    if (!h) return std::unexpected(h.error());
    reader r(rec.subspan(header_size));
    request body;
    switch (h->k) {
        case kind::load: {
            load_request m;
            m.name = get_name(r);
            m.bundle_dir = r.string(max_path);
            if (!r.failed() && m.bundle_dir.empty()) r.invalid();
            body = std::move(m);
            break;
        }
        case kind::unload:
            body = unload_request{get_name(r)};
            break;
        case kind::start:
            body = start_request{get_name(r)};
            break;
        case kind::stop:
            body = stop_request{get_name(r)};
            break;
        case kind::signal: {
            signal_request m;
            m.name = get_name(r);
            m.letter = static_cast<char>(r.integer<std::uint8_t>());
            body = std::move(m);
            break;
        }
        case kind::status:
            body = status_request{get_name(r)};
            break;
        case kind::list:
            body = list_request{};
            break;
        case kind::plumb: {
            plumb_request m;
            m.producer = get_name(r);
            m.consumer = get_name(r);
            body = std::move(m);
            break;
        }
        case kind::subscribe:
            body = subscribe_request{};
            break;
        default:
            return std::unexpected(decode_error{decode_status::unknown_kind, h->id, version});
    }
    if (auto st = r.finish()) return std::unexpected(decode_error{*st, h->id, version});
    return envelope<request>{h->id, std::move(body)};
}

std::expected<envelope<reply>, decode_error> decode_reply(std::span<const std::byte> rec) {
    auto h = get_header(rec);
    if (!h) return std::unexpected(h.error());
    reader r(rec.subspan(header_size));
    reply body;
    switch (h->k) {
        case kind::ok:
            body = ok_reply{};
            break;
        case kind::error: {
            error_reply m;
            m.code = r.integer<std::uint32_t>();
            m.message = r.string(max_text);
            body = std::move(m);
            break;
        }
        case kind::status_reply:
            body = status_reply{get_status(r)};
            break;
        case kind::list_reply: {
            list_reply m;
            auto more = r.integer<std::uint8_t>();
            if (more > 1) r.invalid();
            m.more = more == 1;
            auto count = r.integer<std::uint32_t>();
            // Each status takes at least min_status_size bytes, so no record holds more;
            // refuse it before reserving memory for it.
            if (count > max_record / min_status_size) r.invalid();
            if (!r.failed()) m.services.reserve(count);
            for (std::uint32_t i = 0; i < count && !r.failed(); ++i) {
                m.services.push_back(get_status(r));
            }
            body = std::move(m);
            break;
        }
        case kind::event:
            body = event{get_status(r)};
            break;
        default:
            return std::unexpected(decode_error{decode_status::unknown_kind, h->id, version});
    }
    if (auto st = r.finish()) return std::unexpected(decode_error{*st, h->id, version});
    return envelope<reply>{h->id, std::move(body)};
}

}  // namespace hw::proto
