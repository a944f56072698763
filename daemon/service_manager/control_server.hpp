// control_server: service-manager's end of the control socket (common/protocol.hpp).
//
// Accepts connections on the listening SOCK_SEQPACKET socket (fd 3 from PID 1, or our own),
// checks each peer with SO_PEERCRED (root or our own uid; others get an EPERM error for every
// request, until they hang up), decodes each record, asks the manager, and answers every request
// with exactly one reply (a list may take several records). Subscribed connections also get an
// event record per published state change. Replies never block: what the socket does not take is
// queued per connection and sent when it is writable; a connection whose queue passes max_queued
// bytes (a subscriber that stopped reading) is closed. A failure affects one connection only.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>

#include "common/event_loop.hpp"
#include "common/protocol_codec.hpp"
#include "common/unique_fd.hpp"
#include "manager.hpp"

namespace hw::svc {

class control_server {
  public:
    static constexpr std::size_t max_queued = 4 << 20;

    control_server(event_loop& loop, manager& m, unique_fd listener);
    ~control_server();
    result<void> start();
    void broadcast(const proto::service_status& s);

  private:
    struct connection {
        std::uint64_t id;
        unique_fd fd;
        op_id read_watch, write_watch;
        std::deque<proto::bytes> outbox;
        std::size_t queued = 0;
        bool subscribed = false;
        bool refused = false;  // the peer failed the SO_PEERCRED check: every request gets EPERM
    };

    void watch_listener();
    void on_accept();
    void watch_read(connection& c);
    void on_readable(std::uint64_t id);
    void handle(connection& c, std::span<const std::byte> record);
    void reply(connection& c, std::uint32_t id, const proto::reply& r);
    void send_record(connection& c, proto::bytes rec);
    void on_writable(std::uint64_t id);
    void close(std::uint64_t id);

    event_loop& loop_;
    manager& manager_;
    unique_fd listener_;
    op_id accept_watch_;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, std::unique_ptr<connection>> conns_;
    std::vector<std::byte> buffer_;
};

}  // namespace hw::svc
