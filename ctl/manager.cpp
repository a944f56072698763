// The adapter between system-control and the service-manager: service_control implemented on
// hw::control_client (common/control_client.hpp, protocol.hpp).
//
// A server-side error (the reply carried a message) is an ordinary error of that request; any
// other failure (the socket broke, a malformed record, no reply within reply_timeout) means the
// manager cannot be asked any more: control_error::connection_lost.
#include <fmt/core.h>

#include <cerrno>

#include "cli.hpp"
#include "common/control_client.hpp"

namespace hw::ctl {

namespace {

constexpr std::chrono::seconds reply_timeout{60};

service_status from_wire(const proto::service_status& s) {
    service_status out;
    out.name = s.name;
    out.state = s.state;
    out.pid = static_cast<pid_t>(s.main_pid);
    out.ready = s.flags & proto::flag_ready;
    out.since = clock::time_point(std::chrono::nanoseconds(s.since_monotonic_ns));
    out.since_wall = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(s.since_wall_ns)));
    if (s.flags & proto::flag_has_exit) out.last_wait_status = s.last_wait_status;
    out.restarts = s.restart_count;
    out.status_text = s.status_text;
    return out;
}

class manager_control final : public service_control {
  public:
    explicit manager_control(control_client c) : client_(std::move(c)) {
        client_.set_reply_timeout(reply_timeout);
    }

    control_result<void> load(std::string_view name, std::string_view dir) override {
        return done(client_.load(name, dir));
    }
    control_result<void> unload(std::string_view name) override {
        return done(client_.unload(name));
    }
    control_result<void> start(std::string_view name) override { return done(client_.start(name)); }
    control_result<void> stop(std::string_view name) override { return done(client_.stop(name)); }
    control_result<void> signal(std::string_view name, char letter) override {
        return done(client_.signal(name, letter));
    }
    control_result<std::optional<service_status>> status(std::string_view name) override {
        auto s = client_.status(name);
        if (s) return std::optional<service_status>(from_wire(*s));
        if (s.error().value() == ENOENT && !client_.error_message().empty())
            return std::optional<service_status>();  // not loaded
        return std::unexpected(error(s.error()));
    }
    control_result<std::vector<service_status>> list() override {
        auto all = client_.list();
        if (!all) return std::unexpected(error(all.error()));
        std::vector<service_status> out;
        for (const auto& s : *all) out.push_back(from_wire(s));
        return out;
    }
    control_result<void> plumb(std::string_view producer, std::string_view consumer) override {
        return done(client_.plumb(producer, consumer));
    }
    control_result<void> subscribe() override { return done(client_.subscribe()); }

    std::vector<control_result<void>> load_many(
        std::span<const std::pair<std::string_view, std::string_view>> name_and_dir) override {
        std::vector<proto::request> reqs;
        reqs.reserve(name_and_dir.size());
        for (const auto& [name, dir] : name_and_dir)
            reqs.emplace_back(proto::load_request{std::string(name), std::string(dir)});
        return ok_replies(reqs);
    }
    std::vector<control_result<void>> start_stop_many(
        std::span<const std::pair<std::string_view, bool>> name_and_start) override {
        std::vector<proto::request> reqs;
        reqs.reserve(name_and_start.size());
        for (const auto& [name, up] : name_and_start) {
            if (up)
                reqs.emplace_back(proto::start_request{std::string(name)});
            else
                reqs.emplace_back(proto::stop_request{std::string(name)});
        }
        return ok_replies(reqs);
    }
    std::vector<control_result<std::optional<service_status>>> status_many(
        std::span<const std::string_view> names) override {
        std::vector<proto::request> reqs;
        reqs.reserve(names.size());
        for (auto name : names) reqs.emplace_back(proto::status_request{std::string(name)});
        std::vector<control_result<std::optional<service_status>>> out;
        auto replies = client_.call_many(reqs);
        for (std::size_t i = 0; i < reqs.size(); ++i) {
            if (!replies) {
                out.push_back(std::unexpected(error(replies.error())));
            } else if (auto* st = std::get_if<proto::status_reply>(&(*replies)[i])) {
                out.push_back(std::optional<service_status>(from_wire(st->status)));
            } else if (auto* err = std::get_if<proto::error_reply>(&(*replies)[i])) {
                if (err->code == ENOENT)
                    out.push_back(std::optional<service_status>());  // not loaded
                else
                    out.push_back(std::unexpected(control_error{err->message, false}));
            } else {
                out.push_back(std::unexpected(bad_reply()));
            }
        }
        return out;
    }

    control_result<std::optional<service_event>> next_event(clock::time_point deadline) override {
        auto timeout = std::chrono::milliseconds(-1);
        if (deadline != clock::time_point::max()) {
            auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now());
            timeout = std::max(std::chrono::milliseconds(0), left);
        }
        auto ev = client_.next_event(timeout);
        if (!ev) return std::unexpected(error(ev.error()));
        if (!*ev) return std::optional<service_event>();
        const auto& s = **ev;
        service_event out{s.name, static_cast<service_state>(s.state),
                          static_cast<pid_t>(s.main_pid), std::nullopt};
        if (s.flags & proto::flag_has_exit) out.wait_status = s.last_wait_status;
        return std::optional<service_event>(std::move(out));
    }

    clock::time_point now() override { return clock::now(); }

  private:
    control_error error(std::error_code ec) const {
        if (!client_.error_message().empty()) return {client_.error_message(), false};
        return {fmt::format("service-manager: {}", ec.message()), true};
    }
    control_result<void> done(result<void> r) const {
        if (r) return {};
        return std::unexpected(error(r.error()));
    }
    static control_error bad_reply() {
        return {fmt::format("service-manager: {}",
                            std::make_error_code(std::errc::bad_message).message()),
                true};
    }
    // Pipelines requests whose answer is ok or an error.
    std::vector<control_result<void>> ok_replies(const std::vector<proto::request>& reqs) {
        std::vector<control_result<void>> out;
        auto replies = client_.call_many(reqs);
        for (std::size_t i = 0; i < reqs.size(); ++i) {
            if (!replies) {
                out.push_back(std::unexpected(error(replies.error())));
            } else if (std::holds_alternative<proto::ok_reply>((*replies)[i])) {
                out.push_back({});
            } else if (auto* err = std::get_if<proto::error_reply>(&(*replies)[i])) {
                out.push_back(std::unexpected(control_error{err->message, false}));
            } else {
                out.push_back(std::unexpected(bad_reply()));
            }
        }
        return out;
    }

    control_client client_;
};

}  // namespace

control_result<std::unique_ptr<service_control>> connect_manager(const context& ctx) {
    std::string path = ctx.socket_path();
    auto c = control_client::connect(path);
    if (!c) {
        return std::unexpected(
            control_error{fmt::format("unable to connect to the service-manager at {}: {}", path,
                                      c.error().message()),
                          true});
    }
    return std::unique_ptr<service_control>(new manager_control(std::move(*c)));
}

std::unique_ptr<service_control> connect_or_report(const context& ctx) {
    auto c = connect_manager(ctx);
    if (!c) {
        report_error(ctx, c.error().message);
        return nullptr;
    }
    return std::move(*c);
}

}  // namespace hw::ctl
