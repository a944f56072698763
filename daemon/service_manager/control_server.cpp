#include "control_server.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.hpp"
#include "guard.hpp"

namespace hw::svc {

namespace {

template <class... F>
struct overloaded : F... {
    using F::operator()...;
};

proto::error_reply to_reply(const request_error& e) {
    return proto::error_reply{static_cast<std::uint32_t>(e.code), e.message};
}

}  // namespace

control_server::control_server(event_loop& loop, manager& m, unique_fd listener)
    : loop_(loop), manager_(m), listener_(std::move(listener)), buffer_(proto::max_record + 1) {}

control_server::~control_server() {
    loop_.cancel(accept_watch_);
    for (auto& [id, c] : conns_) {
        loop_.cancel(c->read_watch);
        loop_.cancel(c->write_watch);
    }
}

result<void> control_server::start() {
    int flags = ::fcntl(listener_.get(), F_GETFL);
    if (flags < 0 || ::fcntl(listener_.get(), F_SETFL, flags | O_NONBLOCK) != 0) return fail();
    watch_listener();
    return {};
}

void control_server::watch_listener() {
    auto id = loop_.poll_readable(listener_.get(), [this](int res) noexcept {
        accept_watch_ = {};
        if (res < 0) log::error("unable to watch the control socket: {}", neg_errno(res).message());
        guarded("accept control connections", [&] { on_accept(); });
    });
    if (id) {
        accept_watch_ = *id;
    } else {
        log::error("unable to watch the control socket: {}", id.error().message());
    }
}

void control_server::on_accept() {
    for (int budget = 0; budget < 64; ++budget) {
        unique_fd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd) {
            if (errno != EAGAIN && errno != EINTR) {
                log::warn("unable to accept a control connection: {}", errno_code().message());
            }
            break;
        }
        ucred cred{};
        socklen_t len = sizeof cred;
        bool allowed = ::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
                       (cred.uid == 0 || cred.uid == ::geteuid());
        auto c = std::make_unique<connection>();
        c->id = next_id_++;
        c->fd = std::move(fd);
        if (!allowed) {
            log::warn("refusing the control requests of uid {} (pid {})", cred.uid, cred.pid);
            c->refused = true;
        }
        connection& ref = *c;
        conns_[c->id] = std::move(c);
        watch_read(ref);
    }
    watch_listener();
}

void control_server::watch_read(connection& c) {
    std::uint64_t id = c.id;
    auto op = loop_.poll_readable(c.fd.get(), [this, id](int) noexcept {
        auto it = conns_.find(id);
        if (it == conns_.end()) return;
        it->second->read_watch = {};
        on_readable(id);
    });
    if (op) {
        c.read_watch = *op;
    } else {
        log::error("unable to watch a control connection: {}", op.error().message());
        close(id);
    }
}

void control_server::on_readable(std::uint64_t id) {
    for (int budget = 0; budget < 64; ++budget) {
        auto it = conns_.find(id);
        if (it == conns_.end()) return;
        connection& c = *it->second;
        ssize_t n = ::recv(c.fd.get(), buffer_.data(), buffer_.size(), MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        if (n <= 0) {  // orderly close or error
            close(id);
            return;
        }
        try {
            handle(c, std::span(buffer_.data(), static_cast<std::size_t>(n)));
        } catch (const std::exception& e) {
            log::error("unable to handle a control request: {}", e.what());
            close(id);
            return;
        }
    }
    if (auto it = conns_.find(id); it != conns_.end()) watch_read(*it->second);
}

void control_server::handle(connection& c, std::span<const std::byte> record) {
    auto req = proto::decode_request(record);
    if (c.refused) {
        std::uint32_t id = req ? req->id : req.error().id;
        reply(c, id,
              proto::error_reply{EPERM,
                                 "permission denied: root or the uid of "
                                 "service-manager only"});
        return;
    }
    if (!req) {
        const auto& e = req.error();
        std::uint32_t code = e.status == proto::decode_status::unsupported_version ? EPROTONOSUPPORT
                             : e.status == proto::decode_status::unknown_kind      ? EOPNOTSUPP
                                                                                   : EBADMSG;
        std::string text(proto::describe(e.status));
        if (e.status == proto::decode_status::unsupported_version) {
            text = fmt::format("protocol version {} unsupported; this service-manager speaks {}",
                               e.version, proto::version);
        }
        reply(c, e.id, proto::error_reply{code, text});
        return;
    }
    std::uint32_t id = req->id;
    auto done = [&](const request_result<void>& r) {
        if (r) {
            reply(c, id, proto::ok_reply{});
        } else {
            reply(c, id, to_reply(r.error()));
        }
    };
    std::visit(
        overloaded{
            [&](const proto::load_request& m) { done(manager_.load(m.name, m.bundle_dir)); },
            [&](const proto::unload_request& m) { done(manager_.unload(m.name)); },
            [&](const proto::start_request& m) { done(manager_.letter(m.name, 'u')); },
            [&](const proto::stop_request& m) { done(manager_.letter(m.name, 'd')); },
            [&](const proto::signal_request& m) { done(manager_.letter(m.name, m.letter)); },
            [&](const proto::status_request& m) {
                auto s = manager_.status(m.name);
                if (s) {
                    reply(c, id, proto::status_reply{std::move(*s)});
                } else {
                    reply(c, id, to_reply(s.error()));
                }
            },
            [&](const proto::list_request&) {
                auto all = manager_.list();
                auto recs = proto::encode_list(id, all);
                if (!recs) {
                    reply(c, id, proto::error_reply{EIO, recs.error().message()});
                    return;
                }
                for (auto& rec : *recs) send_record(c, std::move(rec));
            },
            [&](const proto::plumb_request& m) { done(manager_.plumb(m.producer, m.consumer)); },
            [&](const proto::subscribe_request&) {
                c.subscribed = true;
                reply(c, id, proto::ok_reply{});
            },
        },
        req->body);
}

void control_server::reply(connection& c, std::uint32_t id, const proto::reply& r) {
    auto rec = proto::encode_reply(id, r);
    if (!rec) {
        log::error("unable to encode a control reply: {}", rec.error().message());
        rec = proto::encode_reply(id, proto::error_reply{EIO, "reply could not be encoded"});
        if (!rec) return;
    }
    send_record(c, std::move(*rec));
}

void control_server::send_record(connection& c, proto::bytes rec) {
    if (c.outbox.empty()) {
        ssize_t n = ::send(c.fd.get(), rec.data(), rec.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0) return;
        if (errno != EAGAIN) return;  // the reader is gone; the read side will notice
    }
    c.queued += rec.size();
    c.outbox.push_back(std::move(rec));
    if (c.queued > max_queued) {
        log::warn("closing a control connection that does not read its replies");
        std::uint64_t id = c.id;
        // Closing inside a callback that still uses `c` is unsafe: do it on the next round.
        loop_.after(std::chrono::nanoseconds(0), [this, id](int) noexcept { close(id); });
        return;
    }
    if (!c.write_watch) {
        std::uint64_t id = c.id;
        auto op = loop_.poll_writable(c.fd.get(), [this, id](int) noexcept {
            auto it = conns_.find(id);
            if (it == conns_.end()) return;
            it->second->write_watch = {};
            on_writable(id);
        });
        if (op) c.write_watch = *op;
    }
}

void control_server::on_writable(std::uint64_t id) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    connection& c = *it->second;
    while (!c.outbox.empty()) {
        auto& rec = c.outbox.front();
        ssize_t n = ::send(c.fd.get(), rec.data(), rec.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EAGAIN) break;
        c.queued -= rec.size();
        c.outbox.pop_front();
        if (n < 0) {
            close(id);
            return;
        }
    }
    if (!c.outbox.empty()) {
        auto op = loop_.poll_writable(c.fd.get(), [this, id](int) noexcept {
            auto it2 = conns_.find(id);
            if (it2 == conns_.end()) return;
            it2->second->write_watch = {};
            on_writable(id);
        });
        if (op) c.write_watch = *op;
    }
}

void control_server::broadcast(const proto::service_status& s) {
    proto::bytes rec;
    for (auto& [id, c] : conns_) {
        if (!c->subscribed) continue;
        if (rec.empty()) {
            auto r = proto::encode_reply(0, proto::event{s});
            if (!r) return;
            rec = std::move(*r);
        }
        send_record(*c, rec);
    }
}

void control_server::close(std::uint64_t id) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    loop_.cancel(it->second->read_watch);
    loop_.cancel(it->second->write_watch);
    conns_.erase(it);
}

}  // namespace hw::svc
