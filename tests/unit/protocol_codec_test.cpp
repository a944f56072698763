#include "common/protocol_codec.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <ostream>

using namespace hw::proto;

namespace {

service_status sample_status(std::string name = "sshd") {
    service_status s;
    s.name = std::move(name);
    s.state = service_state::ready;
    s.flags = flag_ready | flag_wanted_up;
    s.main_pid = 4242;
    s.since_monotonic_ns = 123456789012;
    s.since_wall_ns = -5;
    s.last_wait_status = 0x0100;
    s.restart_count = 3;
    s.status_text = "Accepting connections";
    return s;
}

std::vector<request> all_requests() {
    return {load_request{"sshd", "/etc/service-bundles/services/sshd"},
            unload_request{"sshd"},
            start_request{"cyclog@sshd"},
            stop_request{"a"},
            signal_request{"sshd", 'h'},
            status_request{"sshd"},
            list_request{},
            plumb_request{"sshd", "cyclog@sshd"},
            subscribe_request{}};
}

std::vector<reply> all_replies() {
    return {ok_reply{}, error_reply{2, "no such service: foo"}, status_reply{sample_status()},
            list_reply{true, {sample_status("a"), sample_status("b")}}, event{sample_status()}};
}

std::span<const std::byte> prefix(const bytes& b, std::size_t n) {
    return {b.data(), n};
}

}  // namespace

TEST_CASE("every request survives an encode and decode round trip with its id") {
    std::uint32_t id = 7;
    for (const auto& req : all_requests()) {
        auto rec = encode_request(id, req);
        REQUIRE(rec);
        auto back = decode_request(*rec);
        REQUIRE(back);
        CHECK(back->id == id);
        CHECK(back->body == req);
        ++id;
    }
}

TEST_CASE("every reply survives an encode and decode round trip with its id") {
    for (const auto& rep : all_replies()) {
        auto rec = encode_reply(99, rep);
        REQUIRE(rec);
        auto back = decode_reply(*rec);
        REQUIRE(back);
        CHECK(back->id == 99);
        CHECK(back->body == rep);
    }
}

TEST_CASE("the header is the magic, the version and the kind, little-endian") {
    auto rec = encode_request(0x01020304, start_request{"x"}).value();
    REQUIRE(rec.size() == header_size + 3);
    CHECK(std::memcmp(rec.data(), "hwsm", 4) == 0);
    CHECK(rec[4] == std::byte{version});
    CHECK(rec[5] == std::byte{0});
    CHECK(rec[6] == std::byte{static_cast<unsigned char>(kind::start)});
    CHECK(rec[8] == std::byte{4});
    CHECK(rec[11] == std::byte{1});
}

TEST_CASE("every truncation of every message is rejected as truncated, never misread") {
    for (const auto& req : all_requests()) {
        auto rec = encode_request(1, req).value();
        for (std::size_t n = 0; n < rec.size(); ++n) {
            auto r = decode_request(prefix(rec, n));
            REQUIRE(!r);
            CHECK(r.error().status == decode_status::truncated);
        }
    }
    for (const auto& rep : all_replies()) {
        auto rec = encode_reply(1, rep).value();
        for (std::size_t n = 0; n < rec.size(); ++n) {
            auto r = decode_reply(prefix(rec, n));
            REQUIRE(!r);
            CHECK(r.error().status == decode_status::truncated);
        }
    }
}

TEST_CASE("a byte after the last field makes the record malformed") {
    auto rec = encode_request(1, stop_request{"x"}).value();
    rec.push_back(std::byte{0});
    auto r = decode_request(rec);
    REQUIRE(!r);
    CHECK(r.error().status == decode_status::trailing_bytes);
    CHECK(r.error().id == 1);
}

TEST_CASE("a foreign version is reported with the id so the server can answer it") {
    auto rec = encode_request(55, list_request{}).value();
    rec[4] = std::byte{9};
    auto r = decode_request(rec);
    REQUIRE(!r);
    CHECK(r.error().status == decode_status::unsupported_version);
    CHECK(r.error().id == 55);
    CHECK(r.error().version == 9);
}

TEST_CASE("bad magic, unknown kinds and replies sent as requests are refused") {
    auto rec = encode_request(1, list_request{}).value();
    auto bad = rec;
    bad[0] = std::byte{'X'};
    CHECK(decode_request(bad).error().status == decode_status::bad_magic);
    bad = rec;
    bad[6] = std::byte{200};
    CHECK(decode_request(bad).error().status == decode_status::unknown_kind);
    auto ok = encode_reply(1, ok_reply{}).value();
    CHECK(decode_request(ok).error().status == decode_status::unknown_kind);
    CHECK(decode_reply(rec).error().status == decode_status::unknown_kind);
}

TEST_CASE("a string length pointing past the end is truncation, not an overread") {
    auto rec = encode_request(1, start_request{"abc"}).value();
    rec[header_size] = std::byte{100};  // within max_name, beyond the record
    CHECK(decode_request(rec).error().status == decode_status::truncated);
    rec[header_size] = std::byte{0xff};  // beyond max_name: refused before reading on
    CHECK(decode_request(rec).error().status == decode_status::bad_value);
}

TEST_CASE("names outside the allowed set are refused by both encoder and decoder") {
    CHECK(!encode_request(1, start_request{"a/b"}));
    CHECK(!encode_request(1, start_request{""}));
    CHECK(!encode_request(1, start_request{".."}));
    CHECK(!encode_request(1, start_request{".hidden"}));
    CHECK(!encode_request(1, start_request{"-x"}));
    CHECK(encode_request(1, start_request{"getty@tty1:x+y-z_w.v"}));
    CHECK(!encode_request(1, start_request{std::string(max_name + 1, 'a')}));
    CHECK(encode_request(1, start_request{std::string(max_name, 'a')}));
    auto rec = encode_request(1, start_request{"abc"}).value();
    rec[header_size + 2] = std::byte{'/'};
    CHECK(decode_request(rec).error().status == decode_status::bad_value);
}

TEST_CASE("an unknown state number in a status is a bad value") {
    auto rec = encode_reply(1, event{sample_status("x")}).value();
    std::size_t state_at = header_size + 2 + 1;
    REQUIRE(rec[state_at] == std::byte{static_cast<unsigned char>(service_state::ready)});
    rec[state_at] = std::byte{service_state_count};
    CHECK(decode_reply(rec).error().status == decode_status::bad_value);
}

TEST_CASE("a list count larger than the record could hold is refused before allocating") {
    auto rec = encode_reply(1, list_reply{false, {}}).value();
    rec[header_size + 1] = std::byte{0xff};
    rec[header_size + 4] = std::byte{0x7f};
    CHECK(decode_reply(rec).error().status == decode_status::bad_value);
}

TEST_CASE("records above the size limit are refused both ways") {
    bytes huge(max_record + 1);
    std::memcpy(huge.data(), "hwsm", 4);
    CHECK(decode_request(huge).error().status == decode_status::too_large);
    CHECK(!encode_request(1, load_request{"a", std::string(max_path + 1, 'x')}));
    CHECK(!encode_reply(1, error_reply{1, std::string(max_text + 1, 'x')}));
}

TEST_CASE("a long list is split into records that each fit and together hold everything") {
    std::vector<service_status> all;
    for (int i = 0; i < 3000; ++i) all.push_back(sample_status("service-" + std::to_string(i)));
    auto recs = encode_list(5, all).value();
    REQUIRE(recs.size() > 1);
    std::vector<service_status> back;
    for (std::size_t i = 0; i < recs.size(); ++i) {
        CHECK(recs[i].size() <= max_record);
        auto r = decode_reply(recs[i]).value();
        auto& part = std::get<list_reply>(r.body);
        CHECK(part.more == (i + 1 < recs.size()));
        back.insert(back.end(), part.services.begin(), part.services.end());
    }
    CHECK(back == all);
    auto empty = encode_list(5, {}).value();
    REQUIRE(empty.size() == 1);
    CHECK(std::get<list_reply>(decode_reply(empty[0])->body).services.empty());
}

TEST_CASE("whatever random bytes decode to re-encodes to exactly those bytes") {
    const unsigned char kinds[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 64, 65, 66, 67, 68};
    std::uint32_t x = 12345;
    auto next = [&x] { return x = x * 1103515245 + 12345; };
    bytes buf(120);
    int decoded = 0;
    for (int round = 0; round < 200000; ++round) {
        std::size_t n = header_size + next() % (buf.size() - header_size);
        for (std::size_t i = header_size; i < n; ++i) {
            // mostly small bytes, so lengths and counts are often plausible
            buf[i] = static_cast<std::byte>(next() % 4 == 0 ? (next() >> 16) : next() % 3);
        }
        std::memcpy(buf.data(), "hwsm\x01\x00", 6);
        buf[6] = std::byte{kinds[next() % std::size(kinds)]};
        buf[7] = std::byte{0};
        auto span = prefix(buf, n);
        if (auto req = decode_request(span)) {
            ++decoded;
            CHECK(encode_request(req->id, req->body).value() == bytes(span.begin(), span.end()));
        }
        if (auto rep = decode_reply(span)) {
            ++decoded;
            CHECK(encode_reply(rep->id, rep->body).value() == bytes(span.begin(), span.end()));
        }
    }
    CHECK(decoded > 100);  // the generator does reach valid records
}
