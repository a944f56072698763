#include "control_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "protocol_codec.hpp"

namespace hw {

namespace {

using clock = std::chrono::steady_clock;

// Milliseconds left until `deadline` for poll(2); -1 when there is no deadline.
int poll_timeout(std::optional<clock::time_point> deadline) {
    if (!deadline) return -1;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - clock::now());
    return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

}  // namespace

result<control_client> control_client::connect(std::string_view path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path) {
        return fail(std::errc::filename_too_long);
    }
    std::memcpy(addr.sun_path, path.data(), path.size());
    unique_fd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!fd) return fail();
    int r;
    do {
        r = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    } while (r != 0 && errno == EINTR);
    if (r != 0) return fail();
    return control_client(std::move(fd));
}

result<void> control_client::send(const proto::request& req) {
    current_id_ = next_id_++;
    if (next_id_ == 0) next_id_ = 1;  // 0 is the id of pushed events
    return send_record(current_id_, req);
}

result<void> control_client::send_record(std::uint32_t id, const proto::request& req) {
    auto rec = proto::encode_request(id, req);
    if (!rec) return fail(rec.error());
    ssize_t n;
    do {
        n = ::send(fd_.get(), rec->data(), rec->size(), MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return fail();
    return {};
}

result<std::optional<proto::reply>> control_client::receive(std::chrono::milliseconds timeout,
                                                            std::uint32_t* id) {
    std::optional<clock::time_point> deadline;
    if (timeout.count() >= 0) deadline = clock::now() + timeout;
    auto& buf = buffer_;
    for (;;) {
        // A record that is already there needs no poll(2) first.
        ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            pollfd pfd{fd_.get(), POLLIN, 0};
            int r = ::poll(&pfd, 1, poll_timeout(deadline));
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) return fail();
            if (r == 0) return std::optional<proto::reply>{};
            continue;
        }
        if (n < 0) return fail();
        if (n == 0) return fail(std::errc::connection_reset);
        auto rep = proto::decode_reply(std::span(buf.data(), static_cast<std::size_t>(n)));
        if (!rep) {
            message_ = std::string(proto::describe(rep.error().status));
            return fail(std::errc::bad_message);
        }
        *id = rep->id;
        return std::optional<proto::reply>(std::move(rep->body));
    }
}

result<proto::reply> control_client::next_reply(clock::time_point deadline, std::uint32_t& id) {
    for (;;) {
        auto left = std::chrono::milliseconds(-1);
        if (reply_timeout_.count() >= 0) {
            left = std::max(std::chrono::milliseconds(0),
                            std::chrono::duration_cast<std::chrono::milliseconds>(
                                deadline - clock::now()));
        }
        auto rep = receive(left, &id);
        if (!rep) return fail(rep.error());
        if (!*rep) return fail(std::errc::timed_out);
        if (auto* ev = std::get_if<proto::event>(&**rep); ev && id == 0) {
            events_.push_back(std::move(ev->status));
            continue;
        }
        return std::move(**rep);
    }
}

result<proto::reply> control_client::await_reply() {
    auto deadline = clock::now() + reply_timeout_;
    for (;;) {
        std::uint32_t id = 0;
        auto rep = next_reply(deadline, id);
        if (!rep) return rep;
        if (id != current_id_) continue;  // a late reply to an abandoned request
        if (auto* err = std::get_if<proto::error_reply>(&*rep)) {
            message_ = err->message;
            return fail(std::error_code(static_cast<int>(err->code), std::system_category()));
        }
        return rep;
    }
}

result<proto::reply> control_client::call(const proto::request& req) {
    message_.clear();
    if (auto r = send(req); !r) return fail(r.error());
    return await_reply();
}

result<std::vector<proto::reply>> control_client::call_many(
    std::span<const proto::request> requests, std::size_t window) {
    message_.clear();
    window = std::max<std::size_t>(window, 1);
    std::vector<proto::reply> replies(requests.size());
    std::vector<bool> got(requests.size(), false);
    // Request i goes out with id first + i (ids wrap around, skipping 0, the events' id).
    std::vector<std::uint32_t> ids(requests.size());
    std::size_t sent = 0, received = 0;
    auto deadline = clock::now() + reply_timeout_;
    while (received < requests.size()) {
        while (sent < requests.size() && sent - received < window) {
            ids[sent] = next_id_++;
            if (next_id_ == 0) next_id_ = 1;
            if (auto r = send_record(ids[sent], requests[sent]); !r) return fail(r.error());
            ++sent;
        }
        std::uint32_t id = 0;
        auto rep = next_reply(deadline, id);
        if (!rep) return fail(rep.error());
        // Replies come in the order of the requests; an id we do not wait for is a late reply
        // to an abandoned request (or a list's further record) and is dropped.
        for (std::size_t i = received; i < sent; ++i) {
            if (ids[i] != id || got[i]) continue;
            replies[i] = std::move(*rep);
            got[i] = true;
            break;
        }
        while (received < sent && got[received]) ++received;
        if (reply_timeout_.count() >= 0) deadline = clock::now() + reply_timeout_;
    }
    current_id_ = 0;
    return replies;
}

result<void> control_client::call_ok(const proto::request& req) {
    auto rep = call(req);
    if (!rep) return fail(rep.error());
    if (!std::holds_alternative<proto::ok_reply>(*rep)) return fail(std::errc::bad_message);
    return {};
}

result<void> control_client::load(std::string_view name, std::string_view bundle_dir) {
    return call_ok(proto::load_request{std::string(name), std::string(bundle_dir)});
}
result<void> control_client::unload(std::string_view name) {
    return call_ok(proto::unload_request{std::string(name)});
}
result<void> control_client::start(std::string_view name) {
    return call_ok(proto::start_request{std::string(name)});
}
result<void> control_client::stop(std::string_view name) {
    return call_ok(proto::stop_request{std::string(name)});
}
result<void> control_client::signal(std::string_view name, char letter) {
    return call_ok(proto::signal_request{std::string(name), letter});
}
result<void> control_client::plumb(std::string_view producer, std::string_view consumer) {
    return call_ok(proto::plumb_request{std::string(producer), std::string(consumer)});
}
result<void> control_client::subscribe() {
    return call_ok(proto::subscribe_request{});
}

result<proto::service_status> control_client::status(std::string_view name) {
    auto rep = call(proto::status_request{std::string(name)});
    if (!rep) return fail(rep.error());
    auto* s = std::get_if<proto::status_reply>(&*rep);
    if (!s) return fail(std::errc::bad_message);
    return std::move(s->status);
}

result<std::vector<proto::service_status>> control_client::list() {
    auto rep = call(proto::list_request{});
    std::vector<proto::service_status> all;
    for (;;) {
        if (!rep) return fail(rep.error());
        auto* part = std::get_if<proto::list_reply>(&*rep);
        if (!part) return fail(std::errc::bad_message);
        for (auto& s : part->services) all.push_back(std::move(s));
        if (!part->more) return all;
        rep = await_reply();
    }
}

result<std::optional<proto::service_status>> control_client::next_event(
    std::chrono::milliseconds timeout) {
    std::optional<clock::time_point> deadline;
    if (timeout.count() >= 0) deadline = clock::now() + timeout;
    for (;;) {
        if (!events_.empty()) {
            auto s = std::move(events_.front());
            events_.pop_front();
            return std::optional(std::move(s));
        }
        auto left = std::chrono::milliseconds(-1);
        if (deadline) {
            left = std::max(
                std::chrono::milliseconds(0),
                std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - clock::now()));
        }
        std::uint32_t id = 0;
        auto rep = receive(left, &id);
        if (!rep) return fail(rep.error());
        if (!*rep) return std::optional<proto::service_status>{};
        if (auto* ev = std::get_if<proto::event>(&**rep)) events_.push_back(std::move(ev->status));
    }
}

}  // namespace hw
