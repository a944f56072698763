// control_client: a blocking client of service-manager's control socket (protocol.hpp).
//
// One object owns one connection. Each request method sends one record and blocks until the
// reply with the same id arrives (or the timeout passes: ETIMEDOUT). A server-side error comes
// back as its errno value in the error_code, and error_message() then holds the server's text.
//
// Waiting for state changes without polling:
//     auto c = control_client::connect().value();
//     c.subscribe();                         // first subscribe, so no change can be missed
//     auto s = c.status("foo");              // then look at the current state
//     c.start("foo");
//     while (auto ev = c.next_event(10s))    // blocks in poll(2) until an event or timeout
//         if (*ev && (*ev)->name == "foo" && (*ev)->state == service_state::ready) break;
// Events that arrive while a request waits for its reply are queued and returned by later
// next_event() calls, in order. fd() may be put in the caller's own poll set: it is readable
// when a record is waiting (queued events are not visible there; check has_queued_events()).
// Not thread-safe. Errors: ECONNRESET when the service-manager went away (reconnect; the
// socket is kept by PID 1, so a new connection reaches its successor).
#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "protocol.hpp"
#include "unique_fd.hpp"

namespace hw {

class control_client {
  public:
    static result<control_client> connect(std::string_view path = proto::default_socket);

    result<void> load(std::string_view name, std::string_view bundle_dir);
    result<void> unload(std::string_view name);
    result<void> start(std::string_view name);
    result<void> stop(std::string_view name);
    result<void> signal(std::string_view name, char letter);
    result<proto::service_status> status(std::string_view name);
    result<std::vector<proto::service_status>> list();
    result<void> plumb(std::string_view producer, std::string_view consumer);
    result<void> subscribe();

    // Several requests pipelined: up to `window` of them are in flight at once, so a batch
    // costs about one round trip per window instead of one per request. The replies come back
    // in the order of the requests; a server-side error is an error_reply among them (a list
    // request gets only its first list_reply record: use list() for lists). Fails as a whole
    // only when the connection fails or a reply does not come within the reply timeout.
    result<std::vector<proto::reply>> call_many(std::span<const proto::request> requests,
                                                std::size_t window = 32);

    // The next pushed event; std::nullopt when `timeout` passed first (negative: wait for ever).
    result<std::optional<proto::service_status>> next_event(
        std::chrono::milliseconds timeout = std::chrono::milliseconds(-1));
    bool has_queued_events() const noexcept { return !events_.empty(); }

    // Upper bound on the wait for each reply (default: for ever).
    void set_reply_timeout(std::chrono::milliseconds t) noexcept { reply_timeout_ = t; }
    const std::string& error_message() const noexcept { return message_; }
    int fd() const noexcept { return fd_.get(); }

  private:
    explicit control_client(unique_fd fd) : fd_(std::move(fd)), buffer_(proto::max_record + 1) {}
    result<proto::reply> call(const proto::request& req);
    result<void> call_ok(const proto::request& req);
    result<void> send(const proto::request& req);
    result<void> send_record(std::uint32_t id, const proto::request& req);
    // Receives one record within `timeout` (negative: for ever); nullopt on timeout.
    result<std::optional<proto::reply>> receive(std::chrono::milliseconds timeout,
                                                std::uint32_t* id);
    // Receives until the reply to the current request, queueing events.
    result<proto::reply> await_reply();
    // The next record that is not an event (events are queued) and its id; timed_out once
    // `deadline` has passed (only with a reply timeout).
    result<proto::reply> next_reply(std::chrono::steady_clock::time_point deadline,
                                    std::uint32_t& id);

    unique_fd fd_;
    std::uint32_t next_id_ = 1;
    std::uint32_t current_id_ = 0;
    std::chrono::milliseconds reply_timeout_{-1};
    std::deque<proto::service_status> events_;
    std::string message_;
    std::vector<std::byte> buffer_;  // one received record
};

}  // namespace hw
