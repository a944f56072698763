#include "common/control_client.hpp"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <thread>

#include "common/protocol_codec.hpp"

using namespace hw;
using namespace std::chrono_literals;

namespace {

// A one-connection fake service-manager: a listening socket at a temporary path, and a thread
// that runs `script` on the accepted connection.
struct fake_server {
    std::string dir, path;
    unique_fd listener;
    std::thread thread;

    template <class F>
    explicit fake_server(F script) {
        char tmpl[] = "/tmp/hw-client-test.XXXXXX";
        dir = ::mkdtemp(tmpl);
        path = dir + "/control";
        listener = unique_fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strcpy(addr.sun_path, path.c_str());
        REQUIRE(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(listener.get(), 4) == 0);
        thread = std::thread([this, script] {
            unique_fd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
            script(conn.get());
        });
    }
    ~fake_server() {
        thread.join();
        ::unlink(path.c_str());
        ::rmdir(dir.c_str());
    }
};

proto::envelope<proto::request> receive_request(int fd) {
    std::vector<std::byte> buf(proto::max_record);
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    return proto::decode_request(std::span(buf.data(), static_cast<std::size_t>(n))).value();
}

void send_reply(int fd, std::uint32_t id, const proto::reply& r) {
    auto rec = proto::encode_reply(id, r).value();
    ::send(fd, rec.data(), rec.size(), MSG_NOSIGNAL);
}

proto::service_status status_of(std::string name, proto::service_state st) {
    proto::service_status s;
    s.name = std::move(name);
    s.state = st;
    return s;
}

}  // namespace

TEST_CASE("events pushed before a reply are kept and returned in order afterwards") {
    fake_server server([](int fd) {
        auto sub = receive_request(fd);
        send_reply(fd, sub.id, proto::ok_reply{});
        auto start = receive_request(fd);
        CHECK(std::get<proto::start_request>(start.body).name == "foo");
        send_reply(fd, 0, proto::event{status_of("foo", proto::service_state::starting)});
        send_reply(fd, start.id, proto::ok_reply{});
        send_reply(fd, 0, proto::event{status_of("foo", proto::service_state::ready)});
    });
    auto client = control_client::connect(server.path).value();
    REQUIRE(client.subscribe());
    REQUIRE(client.start("foo"));
    CHECK(client.has_queued_events());
    auto first = client.next_event(1s).value();
    REQUIRE(first);
    CHECK(first->state == proto::service_state::starting);
    auto second = client.next_event(1s).value();
    REQUIRE(second);
    CHECK(second->state == proto::service_state::ready);
}

TEST_CASE("a server error comes back as its errno with the server's message") {
    fake_server server([](int fd) {
        auto req = receive_request(fd);
        send_reply(fd, req.id, proto::error_reply{ENOENT, "no such service: bar"});
    });
    auto client = control_client::connect(server.path).value();
    auto r = client.stop("bar");
    REQUIRE(!r);
    CHECK(r.error() == std::errc::no_such_file_or_directory);
    CHECK(client.error_message() == "no such service: bar");
}

TEST_CASE("a list spread over several records is reassembled") {
    fake_server server([](int fd) {
        auto req = receive_request(fd);
        std::vector<proto::service_status> all;
        for (int i = 0; i < 2000; ++i) {
            all.push_back(status_of("s" + std::to_string(i), proto::service_state::stopped));
            all.back().status_text = std::string(40, 'x');
        }
        auto recs = proto::encode_list(req.id, all).value();
        CHECK(recs.size() > 1);
        for (auto& rec : recs) ::send(fd, rec.data(), rec.size(), MSG_NOSIGNAL);
    });
    auto client = control_client::connect(server.path).value();
    auto all = client.list().value();
    CHECK(all.size() == 2000);
    CHECK(all.back().name == "s1999");
}

TEST_CASE("waiting for an event times out, and a vanished server is a connection reset") {
    // The server hangs up only once the client's wait has timed out (a fixed delay could pass
    // first on a loaded machine, turning the timeout into a reset).
    std::atomic<bool> waited{false};
    fake_server server([&waited](int fd) {
        auto req = receive_request(fd);
        send_reply(fd, req.id, proto::ok_reply{});
        for (int i = 0; i < 10000 && !waited; ++i) std::this_thread::sleep_for(1ms);
    });
    auto client = control_client::connect(server.path).value();
    REQUIRE(client.subscribe());
    auto none = client.next_event(20ms);
    waited = true;
    REQUIRE(none);
    CHECK(!*none);
    auto gone = client.next_event(5s);
    REQUIRE(!gone);
    CHECK(gone.error() == std::errc::connection_reset);
}

TEST_CASE("a reply that never comes fails with a timeout when one is set") {
    fake_server server([](int fd) {
        receive_request(fd);
        char byte;
        ::recv(fd, &byte, 1, 0);  // never answers; returns once the client hangs up
    });
    auto client = control_client::connect(server.path).value();
    client.set_reply_timeout(30ms);
    auto r = client.status("x");
    REQUIRE(!r);
    CHECK(r.error() == std::errc::timed_out);
}

TEST_CASE("pipelined requests get their replies in order, an error among them, events kept") {
    constexpr int count = 100;
    fake_server server([](int fd) {
        // Reads a whole window before answering: the client must not wait for each reply.
        std::vector<proto::envelope<proto::request>> got;
        for (int i = 0; i < 8; ++i) got.push_back(receive_request(fd));
        for (int answered = 0; answered < count; ++answered) {
            auto req = got[static_cast<std::size_t>(answered)];
            auto name = std::get<proto::start_request>(req.body).name;
            send_reply(fd, 0, proto::event{status_of(name, proto::service_state::starting)});
            if (name == "s7") {
                send_reply(fd, req.id, proto::error_reply{ENOENT, "no such service: s7"});
            } else {
                send_reply(fd, req.id, proto::ok_reply{});
            }
            if (answered + 8 < count) got.push_back(receive_request(fd));
        }
    });
    auto client = control_client::connect(server.path).value();
    std::vector<proto::request> reqs;
    for (int i = 0; i < count; ++i)
        reqs.emplace_back(proto::start_request{"s" + std::to_string(i)});
    auto replies = client.call_many(reqs, 8).value();
    REQUIRE(replies.size() == count);
    for (int i = 0; i < count; ++i) {
        if (i == 7) {
            CHECK(std::get<proto::error_reply>(replies[7]).message == "no such service: s7");
        } else {
            CHECK(std::holds_alternative<proto::ok_reply>(replies[static_cast<std::size_t>(i)]));
        }
    }
    for (int i = 0; i < count; ++i) {
        auto ev = client.next_event(1s).value();
        REQUIRE(ev);
        CHECK(ev->name == "s" + std::to_string(i));
    }
}
