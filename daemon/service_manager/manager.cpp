// manager.cpp: loading services, control letters, driving the machines and executing effects.
// Readiness, sd_notify, trees, recovery and flushing are in manager_io.cpp.
#include <fcntl.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include "common/log.hpp"
#include "common/process.hpp"
#include "guard.hpp"
#include "service_record.hpp"
#include "state_file.hpp"

extern char** environ;

namespace hw::svc {

namespace {

template <class... F>
struct overloaded : F... {
    using F::operator()...;
};

std::unexpected<request_error> refuse(int code, std::string message) {
    return std::unexpected(request_error{code, std::move(message)});
}

// Signal letters (nosh.md 2.3): upper case to the main process, lower case to the whole tree.
struct signal_letter {
    char letter;
    int sig;
    bool tree;
};
constexpr signal_letter signal_letters[] = {
    {'H', SIGHUP, false}, {'K', SIGKILL, false}, {'T', SIGTERM, false}, {'1', SIGUSR1, true},
    {'2', SIGUSR2, true}, {'a', SIGALRM, true},  {'c', SIGCONT, true},  {'h', SIGHUP, true},
    {'i', SIGINT, true},  {'k', SIGKILL, true},  {'p', SIGSTOP, true},  {'q', SIGQUIT, true},
    {'t', SIGTERM, true}, {'w', SIGWINCH, true}, {'z', SIGTSTP, true},
};

// Environment variables of our own that services must not inherit.
bool private_variable(std::string_view kv) {
    for (std::string_view p : {"LISTEN_FDS=", "LISTEN_PID=", "LISTEN_FDNAMES=", "NOTIFY_SOCKET=",
                               "WATCHDOG_USEC=", "WATCHDOG_PID="}) {
        if (kv.substr(0, p.size()) == p) return true;
    }
    return false;
}

// A new open file description of our fd `n` without O_NONBLOCK, for services' stdout/stderr
// (the system log pipe may be non-blocking for us; services expect blocking writes).
unique_fd reopen_blocking(int n) {
    char path[32];
    std::snprintf(path, sizeof path, "/proc/self/fd/%d", n);
    unique_fd fd(::open(path, O_WRONLY | O_CLOEXEC));
    if (!fd) fd = unique_fd(::fcntl(n, F_DUPFD_CLOEXEC, 3));
    return fd;
}

int spawn_failure_status(const spawn_failure& f) {
    if (f.stage != spawn_stage::exec) return 111 << 8;
    return (f.error == std::errc::no_such_file_or_directory ? 127 : 126) << 8;
}

}  // namespace

manager::manager(event_loop& loop, manager_options opts, fd_store& store)
    : loop_(loop), opts_(std::move(opts)), store_(store) {
    services_dir_ = opts_.run_dir + "/services";
    notify_path_ = opts_.run_dir + "/notify";
    for (char** e = environ; e && *e; ++e) {
        if (!private_variable(*e)) base_env_.emplace_back(*e);
    }
    service_out_ = reopen_blocking(1);
    service_err_ = reopen_blocking(2);
}

// A clean exit: every service is down. Their pipes stay in PID 1's store (a successor may
// still find unread output there); their empty cgroups go.
manager::~manager() {
    for (auto& [name, s] : services_) {
        loop_.cancel(s->control_watch);
        loop_.cancel(s->timer);
        loop_.cancel(s->ready_watch);
        loop_.cancel(s->pidfd_watch);
        s->tree.remove();
    }
    if (cgroups_) ::rmdir(cgroups_->path().c_str());
}

mono_time manager::now() const {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return mono_time(static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec);
}

std::int64_t manager::wall_of(mono_time t) const {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    std::int64_t wall = static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
    return wall - (now() - t).count();
}

request_result<manager::service*> manager::find(const std::string& name) const {
    auto it = services_.find(name);
    if (it == services_.end()) return refuse(ENOENT, "no such service loaded: " + name);
    return it->second.get();
}

request_result<void> manager::load(const std::string& name, const std::string& bundle_dir) {
    if (!proto::valid_service_name(name)) return refuse(EINVAL, "invalid service name: " + name);
    if (shutting_down_) return refuse(ESHUTDOWN, "service-manager is shutting down");
    auto bundle = read_bundle(bundle_dir, name, opts_.run_dir);
    if (!bundle) return refuse(EINVAL, name + ": " + bundle.error().message);
    if (auto it = services_.find(name); it != services_.end()) {
        service& s = *it->second;
        if (s.bundle.bundle_dir != bundle->bundle_dir) {
            return refuse(EEXIST, name + " is already loaded from " + s.bundle.bundle_dir);
        }
        // Reloading picks up changed settings; they apply from the next transition on.
        s.bundle.config = bundle->config;
        s.bundle.notification_fd = bundle->notification_fd;
        s.bundle.log_bundle = bundle->log_bundle;
        s.bundle.cgroup_settings = bundle->cgroup_settings;
        apply_cgroup_settings(s);
        s.machine.set_config(bundle->config);
        plumb_log_links(s);
        return {};
    }
    auto s = create_service(name, std::move(*bundle));
    if (!s) return std::unexpected(s.error());
    // A producer plumbed earlier (before an unload of ours) may still point at us.
    for (auto& [other_name, other] : services_) {
        if (other->plumb_to == name) ensure_input(**s);
    }
    publish(**s);
    plumb_log_links(**s);
    return {};
}

request_result<manager::service*> manager::create_service(const std::string& name,
                                                          bundle_info bundle) {
    auto sup = supervise_dir::open(bundle.supervise_dir);
    if (!sup) return refuse(EIO, name + ": " + sup.error());
    process_tree tree;
    if (cgroups_) {
        auto t = process_tree::in_cgroup(*cgroups_, name);
        if (!t) {
            return refuse(t.error().value(), name + ": unable to create cgroup " +
                                                 cgroups_->path() + "/" + name + ": " +
                                                 t.error().message());
        }
        tree = std::move(*t);
    }
    auto owned =
        std::make_unique<service>(name, std::move(bundle), std::move(*sup), std::move(tree));
    service& s = *owned;
    services_[name] = std::move(owned);
    watch_control(s);
    if (s.tree.uses_cgroup() && inotify_) {
        std::string events = s.tree.cgroup_path() + "/cgroup.events";
        s.inotify_wd = ::inotify_add_watch(inotify_.get(), events.c_str(), IN_MODIFY);
        if (s.inotify_wd >= 0) inotify_watches_[s.inotify_wd] = &s;
    }
    s.wall_since = wall_of(now());
    apply_cgroup_settings(s);
    mark_dirty(s);
    return &s;
}

// A bundle's cgroup/ settings, into its cgroup (at load and reload, before anything runs
// there). One the kernel refuses is reported and the service still runs, as under systemd: a
// limit that cannot be made must not stop the boot.
void manager::apply_cgroup_settings(const service& s) {
    const auto& settings = s.bundle.cgroup_settings;
    if (settings.empty()) return;
    if (!s.tree.uses_cgroup()) {
        log::warn("{}: cgroup/ settings not applied: no cgroups here (process groups)", s.name);
        return;
    }
    for (const auto& [file, value] : settings) {
        auto r = s.tree.write_setting(file, value);
        if (r) continue;
        std::string_view controller = std::string_view(file).substr(0, file.find('.'));
        bool enabled = (" " + cgroups_->controllers() + " ").find(fmt::format(" {} ", controller)) !=
                       std::string::npos;
        log::warn("{}: unable to set {} to {}: {}{}", s.name, file, value, r.error().message(),
                  enabled ? "" : fmt::format(" (services have no {} controller here)", controller));
    }
}

void manager::mark_dirty(service& s) {
    if (s.dirty) return;
    s.dirty = true;
    dirty_.push_back(&s);
}

request_result<void> manager::unload(const std::string& name) {
    auto s = find(name);
    if (!s) return std::unexpected(s.error());
    auto st = (*s)->machine.state().ph;
    if (st != phase::stopped && st != phase::failed) {
        return refuse(EBUSY, name + " is not stopped (send d first, or x to unload once down)");
    }
    drop(**s);
    if ((*s)->dirty) std::erase(dirty_, *s);
    remove_saved(services_dir_, name);
    services_.erase(name);
    return {};
}

// Releases everything a service holds except its record (and its entry in services_).
void manager::drop(service& s) {
    loop_.cancel(s.control_watch);
    loop_.cancel(s.timer);
    loop_.cancel(s.ready_watch);
    loop_.cancel(s.pidfd_watch);
    if (s.pid > 0) pids_.erase(s.pid);
    if (s.inotify_wd >= 0) {
        inotify_watches_.erase(s.inotify_wd);
        if (inotify_) ::inotify_rm_watch(inotify_.get(), s.inotify_wd);
    }
    store_.remove("in-r:" + s.name);
    store_.remove("in-w:" + s.name);
    store_.remove("ready:" + s.name);
    unpark_pidfd(s);
    s.tree.remove();
}

void manager::watch_control(service& s) {
    auto id = loop_.poll_readable(s.sup.control_fd(), [this, &s](int res) noexcept {
        s.control_watch = {};
        if (res < 0) {
            log::error("{}: unable to watch supervise/control: {}", s.name,
                       neg_errno(res).message());
            return;
        }
        on_control(s);
    });
    if (id) s.control_watch = *id;
}

void manager::on_control(service& s) {
    char buf[64];
    ssize_t n = ::read(s.sup.control_fd(), buf, sizeof buf);
    std::string name = s.name;  // `s` may be unloaded by an `x`
    guarded("apply control letters", [&] {
        for (ssize_t i = 0; i < n; ++i) {
            if (buf[i] == '\n' || buf[i] == ' ') continue;
            auto r = letter(name, buf[i]);
            if (!r && r.error().code == ENOENT) return;
            if (!r) {
                log::warn("{}: unable to apply control letter '{}': {}", name, buf[i],
                          r.error().message);
            }
        }
    });
    if (services_.count(name)) watch_control(s);
}

request_result<void> manager::letter(const std::string& name, char l) {
    auto found = find(name);
    if (!found) return std::unexpected(found.error());
    service& s = **found;
    switch (l) {
        case 'u':
            deliver(s, letter_event::up);
            return {};
        case 'd':
            deliver(s, letter_event::down);
            return {};
        case 'o':
            deliver(s, letter_event::once);
            return {};
        case 'O':
            deliver(s, letter_event::once_at_most);
            return {};
        case '_':
            deliver(s, letter_event::down_quiet);
            return {};
        case 'x': {
            auto ph = s.machine.state().ph;
            if (ph == phase::stopped || ph == phase::failed) return unload(name);
            s.unload_when_down = true;
            return {};
        }
        default:
            break;
    }
    for (const auto& sl : signal_letters) {
        if (sl.letter != l) continue;
        if (sl.tree) {
            signal_tree(s, sl.sig);
        } else if (s.pid > 0 && s.pidfd) {
            (void)pidfd_signal(s.pidfd.get(), sl.sig);
        } else if (s.pid > 0) {
            ::kill(s.pid, sl.sig);
        }
        if (l == 'p' || l == 'c') {
            s.paused = l == 'p';
            write_status_file(s);
            mark_dirty(s);
        }
        return {};
    }
    return refuse(EINVAL, fmt::format("unknown control letter '{}'", l));
}

request_result<proto::service_status> manager::status(const std::string& name) const {
    auto s = find(name);
    if (!s) return std::unexpected(s.error());
    return make_status(**s);
}

std::vector<proto::service_status> manager::list() const {
    std::vector<proto::service_status> all;
    all.reserve(services_.size());
    for (const auto& [name, s] : services_) all.push_back(make_status(*s));
    return all;
}

request_result<void> manager::plumb(const std::string& producer, const std::string& consumer) {
    auto p = find(producer);
    if (!p) return std::unexpected(p.error());
    auto c = find(consumer);
    if (!c) return std::unexpected(c.error());
    if (*p == *c) return refuse(EINVAL, "a service cannot log into itself: " + producer);
    ensure_input(**c);
    (*p)->plumb_to = consumer;
    (*p)->pending_log.clear();
    mark_dirty(**p);
    return {};
}

// The consumer's stdin pipe; both ends stay with us (and in PID 1's store), so neither side's
// restart loses what is in it.
void manager::ensure_input(service& s) {
    if (s.in_read) return;
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
        log::error("{}: unable to create its input pipe: {}", s.name, errno_code().message());
        return;
    }
    s.in_read = unique_fd(p[0]);
    s.in_write = unique_fd(p[1]);
    store_.store("in-r:" + s.name, s.in_read.get());
    store_.store("in-w:" + s.name, s.in_write.get());
    arm_flush_store();
    mark_dirty(s);
}

// The `log` link: plumb into the service loaded from that bundle, now or once it is loaded.
void manager::plumb_log_links(service& s) {
    for (auto& [name, other] : services_) {
        if (!other->pending_log.empty() && other->pending_log == s.bundle.bundle_dir) {
            (void)plumb(name, s.name);
        }
    }
    if (!s.bundle.log_bundle || !s.plumb_to.empty()) return;
    for (auto& [name, other] : services_) {
        if (other->bundle.bundle_dir == *s.bundle.log_bundle) {
            (void)plumb(s.name, name);
            return;
        }
    }
    s.pending_log = *s.bundle.log_bundle;
}

void manager::begin_shutdown() {
    if (shutting_down_) return;
    shutting_down_ = true;
    log::notice("stopping {} services", services_.size());
    std::vector<std::string> names;
    for (const auto& [name, s] : services_) names.push_back(name);
    for (const auto& name : names) (void)letter(name, 'd');
}

bool manager::done() const noexcept {
    if (!shutting_down_) return false;
    for (const auto& [name, s] : services_) {
        auto ph = s->machine.state().ph;
        if (ph != phase::stopped && ph != phase::failed) return false;
    }
    return true;
}

void manager::deliver(service& s, const event& ev) {
    pid_t main_before = s.prog == program::run ? s.pid : 0;
    s.published = false;
    std::deque<event> queue{ev};
    while (!queue.empty()) {
        event e = std::move(queue.front());
        queue.pop_front();
        for (const auto& fx : s.machine.handle(e, now())) execute(s, fx, queue);
    }
    // An immediate restart keeps the public state (ready -> ready) but is news all the same.
    pid_t main_after = s.prog == program::run ? s.pid : 0;
    if (!s.published && main_after != main_before) publish(s);
    after_events(s);
}

void manager::execute(service& s, const effect& fx, std::deque<event>& follow_ups) {
    std::visit(overloaded{
                   [&](const spawn& sp) { spawn_program(s, sp.prog, sp.args, follow_ups); },
                   [&](const send_signal& sig) {
                       if (sig.target == signal_target::tree) {
                           signal_tree(s, sig.sig);
                       } else if (s.pid > 0 && s.pidfd) {
                           (void)pidfd_signal(s.pidfd.get(), sig.sig);
                       }
                   },
                   [&](const svc::watch_tree&) { watch_tree(s, follow_ups); },
                   [&](const svc::publish& p) { publish(s, p.state); },
                   [&](const note& n) {
                       if (n.warning) {
                           log::warn("{}: {}", s.name, n.text);
                       } else {
                           log::info("{}: {}", s.name, n.text);
                       }
                   },
               },
               fx);
}

void manager::after_events(service& s) {
    mark_dirty(s);
    auto deadline = s.machine.deadline();
    if (deadline != s.timer_at) {
        loop_.cancel(s.timer);
        s.timer_at = deadline;
        if (deadline) {
            auto id = loop_.after(*deadline - now(), [this, &s](int) noexcept {
                s.timer = {};
                s.timer_at.reset();
                guarded("handle a timer", [&] { deliver(s, timer_fired{}); });
            });
            if (id) {
                s.timer = *id;
            } else {
                log::error("{}: unable to arm a timer: {}", s.name, id.error().message());
            }
        }
    }
    auto ph = s.machine.state().ph;
    if (s.unload_when_down && (ph == phase::stopped || ph == phase::failed)) {
        std::string name = s.name;
        loop_.after(std::chrono::nanoseconds(0), [this, name](int) noexcept {
            guarded("unload a service", [&] {
                auto it = services_.find(name);
                if (it != services_.end() && it->second->unload_when_down) (void)unload(name);
            });
        });
    }
}

std::vector<std::string> manager::environment_for(const service& s) const {
    // First, so that it is among the first bytes of /proc/PID/environ (escaped_from()).
    std::vector<std::string> env{std::string(service_marker) + s.name};
    env.insert(env.end(), base_env_.begin(), base_env_.end());
    const auto& c = s.bundle.config;
    if (c.ready_by == readiness::sd_notify || c.watchdog_timeout.count() > 0) {
        env.push_back("NOTIFY_SOCKET=" + notify_path_);
    }
    if (c.watchdog_timeout.count() > 0) {
        env.push_back(fmt::format("WATCHDOG_USEC={}", c.watchdog_timeout.count() * 1000));
    }
    return env;
}

void manager::spawn_program(service& s, program prog, const std::vector<std::string>& args,
                            std::deque<event>& follow_ups) {
    spawn_request req;
    req.argv.push_back(fmt::format("./{}", program_name(prog)));
    req.argv.insert(req.argv.end(), args.begin(), args.end());
    req.cwd = s.bundle.service_dir;
    req.env = environment_for(s);
    int out = service_out_ ? service_out_.get() : 1;
    int err = service_err_ ? service_err_.get() : 2;
    if (!s.plumb_to.empty()) {
        auto it = services_.find(s.plumb_to);
        if (it != services_.end() && it->second->in_write) out = err = it->second->in_write.get();
    }
    req.stdio = {s.in_read ? s.in_read.get() : -1, out, err};
    req.cgroup_procs_fd = s.tree.procs_fd();
    req.nofile_soft = service_nofile_soft;

    unique_fd ready_write;
    loop_.cancel(s.ready_watch);
    s.ready_read.reset();
    if (prog == program::run && s.bundle.notification_fd &&
        s.bundle.config.ready_by == readiness::notification_fd) {
        int p[2];
        if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0) {
            s.ready_read = unique_fd(p[0]);
            ready_write = unique_fd(p[1]);
            move_high(s.ready_read);  // ready_write stays low: the child gets it
            req.extra_fds.emplace_back(ready_write.get(), *s.bundle.notification_fd);
        } else {
            log::error("{}: unable to create the notification-fd pipe: {}", s.name,
                       errno_code().message());
        }
    }

    auto child = hw::spawn(req);
    if (!child) {
        log::error("{}: unable to spawn {}: {}: {}", s.name, program_name(prog),
                   stage_name(child.error().stage), child.error().error.message());
        s.ready_read.reset();
        // Back to the machine on the next round, so a crash loop never recurses.
        std::string name = s.name;
        int status = spawn_failure_status(child.error());
        auto id =
            loop_.after(std::chrono::nanoseconds(0), [this, name, prog, status](int) noexcept {
                guarded("report a failed spawn", [&] {
                    auto it = services_.find(name);
                    if (it != services_.end()) deliver(*it->second, exited{prog, status, true});
                });
            });
        if (!id) follow_ups.push_back(exited{prog, status, true});
        return;
    }
    if (s.pid > 0) pids_.erase(s.pid);
    unpark_pidfd(s);
    loop_.cancel(s.pidfd_watch);
    s.pid = child->pid;
    s.pid_start = 0;
    s.pidfd = std::move(child->pidfd);
    move_high(s.pidfd);
    s.is_child = true;
    s.prog = prog;
    s.paused = false;
    s.tree.set_group(child->pid);
    pids_[child->pid] = &s;
    park_pidfd(s);
    if (s.ready_read) {
        store_.store("ready:" + s.name, s.ready_read.get());
        watch_ready_pipe(s);
    }
    arm_flush_store();
}

// The current main process ended (reaped, or seen through its pidfd).
void manager::process_ended(service& s, int wait_status) {
    pids_.erase(s.pid);
    unpark_pidfd(s);
    arm_flush_store();
    loop_.cancel(s.pidfd_watch);
    s.pid = 0;
    s.pid_start = 0;
    s.pidfd.reset();
    s.paused = false;
    auto prog = s.prog.value_or(program::run);
    s.prog.reset();
    bool empty = tree_is_empty(s);
    if (empty) s.tree.set_group(0);  // the group id may be reused from now on
    deliver(s, exited{prog, wait_status, empty});
}

void manager::reap_children() {
    // What the children said before they ended comes first: a launcher's MAINPID= hands the
    // service over to its daemon, so its own exit must not end the service.
    receive_notifications();
    std::vector<std::pair<service*, int>> ended;
    bool orphans = false;
    while (auto r = reap_one()) {
        auto it = pids_.find(r->pid);
        if (it == pids_.end()) {  // an orphan that was reparented to us
            orphans = true;
            continue;
        }
        ended.emplace_back(it->second, r->status);
        pids_.erase(it);
    }
    // Dispatch after reaping everything, so a tree check does not see reapable zombies.
    // process_ended() looks at the tree of the service whose main process ended; an orphan
    // may have been the last member of any watched tree.
    for (auto& [s, status] : ended) process_ended(*s, status);
    if (orphans) check_trees();
}

void manager::publish(service& s, std::optional<proto::service_state> state) {
    s.published = true;
    s.wall_since = wall_of(s.machine.state().since);
    write_status_file(s);
    auto st = make_status(s);
    if (state && *state != st.state) {  // a state passed through within this event
        st.state = *state;
        if (*state == proto::service_state::ready) st.flags |= proto::flag_ready;
        else st.flags &= static_cast<std::uint8_t>(~proto::flag_ready);
    }
    if (st.main_pid) {
        log::info("{}: {} (pid {})", s.name, proto::state_name(st.state), st.main_pid);
    } else {
        log::info("{}: {}", s.name, proto::state_name(st.state));
    }
    if (on_publish) on_publish(st);
}

proto::service_status manager::make_status(const service& s) const {
    const auto& m = s.machine.state();
    proto::service_status st;
    st.name = s.name;
    st.state = s.machine.public_state();
    st.flags = static_cast<std::uint8_t>(
        (st.state == proto::service_state::ready ? proto::flag_ready : 0) |
        (m.want_up ? proto::flag_wanted_up : 0) | (s.paused ? proto::flag_paused : 0) |
        (m.records[1].valid ? proto::flag_has_exit : 0));
    st.main_pid = s.prog == program::run ? static_cast<std::uint32_t>(s.pid) : 0;
    st.since_monotonic_ns = m.since.count();
    st.since_wall_ns = s.wall_since;
    st.last_wait_status = m.last_run_status;
    st.restart_count = m.restart_count;
    st.status_text = s.status_text;
    return st;
}

void manager::write_status_file(service& s) {
    const auto& m = s.machine.state();
    status_snapshot snap;
    snap.since_wall_ns = s.wall_since;
    snap.pid = s.pid > 0 ? static_cast<std::uint32_t>(s.pid) : 0;
    snap.paused = s.paused;
    snap.want = m.want_up ? (m.no_restart ? 'o' : 'u') : (m.no_restart ? 'O' : 'd');
    switch (m.ph) {
        case phase::stopped:
            snap.encore_state = 0;
            break;
        case phase::starting:
        case phase::backoff:
            snap.encore_state = 1;
            break;
        case phase::running:
        case phase::up_idle:
            snap.encore_state = 3;
            break;
        case phase::killing:
        case phase::stopping:
            snap.encore_state = 4;
            break;
        case phase::deciding:
        case phase::failed:
            snap.encore_state = 5;
            break;
    }
    for (int i = 0; i < 4; ++i) {
        const auto& r = m.records[i];
        bool running = m.current && static_cast<int>(*m.current) == i;
        if (r.valid && !running) snap.programs[i] = make_record(r.wait_status, wall_of(r.when));
    }
    if (auto r = s.sup.write_status(encode_status(snap)); !r) {
        log::warn("{}: unable to write supervise/status: {}", s.name, r.error().message());
    }
}

}  // namespace hw::svc
